#pragma once
// Man pages and shell completion scripts generated from the command line's own CLI11
// definitions, so that the reference cannot drift from what the parser accepts.
//
// What is taken from CLI11: visible subcommands (hidden ones, in the empty group, and option
// groups are left out or folded into their command), every visible option with all its
// names, its type name, description, default, environment variable, exclusions and whether it
// is required; positionals; and the root's options that subcommands accept by falling through.

#include <filesystem>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace imgpipe::cli {

// The man(7) page of `root` (imgpipe(1)) when `sub` is null, else of its subcommand `sub`
// (imgpipe-<name>(1)). `date` and `version` go into the .TH line.
std::string man_page(const CLI::App& root, const CLI::App* sub, std::string_view version,
                     std::string_view date);

// A bash script defining _imgpipe and `complete -F _imgpipe imgpipe`. It uses only bash
// builtins (compgen, compopt, mapfile), so it works with or without the bash-completion package.
std::string bash_completion(const CLI::App& root);

// A `#compdef imgpipe` script for zsh's completion system (_arguments and _describe).
std::string zsh_completion(const CLI::App& root);

// Writes the reference of one `kind` into `dir` (created if missing):
//   "man"   imgpipe.1 and imgpipe-<subcommand>.1 for each visible subcommand;
//   "bash"  imgpipe (the name bash-completion looks for);
//   "zsh"   _imgpipe (the name zsh's fpath looks for).
// Man pages are dated from SOURCE_DATE_EPOCH when it is set, else today (UTC). Throws
// std::invalid_argument for an unknown kind or a malformed SOURCE_DATE_EPOCH, and
// std::runtime_error naming the file when one cannot be written.
void write_reference(const CLI::App& root, std::string_view kind, const std::filesystem::path& dir,
                     std::string_view version);

}  // namespace imgpipe::cli
