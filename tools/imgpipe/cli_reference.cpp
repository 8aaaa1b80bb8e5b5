#include "cli_reference.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <time.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

// The exit codes of main.cpp.
constexpr std::pair<const char*, const char*> kExitStatus[] = {
    {"0", "success"},
    {"1", "an input failed"},
    {"2", "usage or configuration error"},
    {"3", "fatal error (out of memory, internal error, interrupted)"},
};

// ---------------------------------------------------------------------------------------------
// What CLI11 knows about a command

// One page, or one completion context: a command's positionals, its options, and the root's
// options it accepts by falling through to the root.
struct Command {
  const CLI::App* app = nullptr;
  std::string words;  // "imgpipe" or "imgpipe run"
  std::vector<const CLI::Option*> positionals, options, globals;
};

std::string program_name(const CLI::App& root) {
  return root.get_name().empty() ? "imgpipe" : root.get_name();
}

// Subcommands a user can name: not hidden (the empty group), not disabled, and not option
// groups (which have no name; their options belong to their command).
std::vector<const CLI::App*> visible_subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App* sub) {
    return !sub->get_name().empty() && !sub->get_group().empty() && !sub->get_disabled();
  });
}

// An option group is a nameless subcommand holding some of its command's options, and a copy
// of the help flag that is never parsed.
void collect_options(const CLI::App& app, std::vector<const CLI::Option*>& out, bool group = false) {
  for (const CLI::Option* option : app.get_options())
    if (!option->get_group().empty() &&
        !(group && (option == app.get_help_ptr() || option == app.get_help_all_ptr())))
      out.push_back(option);
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return s->get_name().empty(); }))
    collect_options(*sub, out, true);
}

bool is_positional(const CLI::Option& option) {
  return option.get_positional() && !option.nonpositional();
}
// Flags expect no values (CLI11 still gives them a type size of 1).
bool takes_value(const CLI::Option& option) {
  return option.get_items_expected_max() > 0;
}
bool repeats(const CLI::Option& option) {
  return option.get_items_expected_max() > 1;
}

std::vector<std::string> option_names(const CLI::Option& option) {
  std::vector<std::string> names;
  for (const auto& name : option.get_snames()) names.push_back("-" + name);
  for (const auto& name : option.get_lnames()) names.push_back("--" + name);
  return names;
}

// The name to refer to an option by: its first long name, else its first short one.
std::string main_name(const CLI::Option& option) {
  if (!option.get_lnames().empty()) return "--" + option.get_lnames().front();
  if (!option.get_snames().empty()) return "-" + option.get_snames().front();
  return option.get_single_name();
}

bool shares_a_name(const CLI::Option& option, const std::vector<const CLI::Option*>& others) {
  for (const CLI::Option* other : others)
    for (const auto& name : option_names(option))
      if (other->check_name(name)) return true;
  return false;
}

// The root's options other than help and version, which a subcommand created while the root
// falls through hands up to it (unless it has an option of the same name).
std::vector<const CLI::Option*> global_options(const CLI::App& root, const CLI::App& sub,
                                               const std::vector<const CLI::Option*>& own) {
  std::vector<const CLI::Option*> globals;
  if (!sub.get_fallthrough()) return globals;
  std::vector<const CLI::Option*> all;
  collect_options(root, all);
  for (const CLI::Option* option : all) {
    if (is_positional(*option) || option == root.get_help_ptr() || option == root.get_help_all_ptr() ||
        option == root.get_version_ptr() || shares_a_name(*option, own))
      continue;
    globals.push_back(option);
  }
  return globals;
}

Command describe(const CLI::App& root, const CLI::App* sub) {
  Command command;
  command.app = sub ? sub : &root;
  command.words = sub ? fmt::format("{} {}", program_name(root), sub->get_name()) : program_name(root);
  std::vector<const CLI::Option*> all;
  collect_options(*command.app, all);
  for (const CLI::Option* option : all)
    (is_positional(*option) ? command.positionals : command.options).push_back(option);
  if (sub) command.globals = global_options(root, *sub, command.options);
  return command;
}

// CLI11 appends each validator's description to the type name after a ':'
// ("INT:INT in [0 - 1024]", "TEXT:{png,webp}").
struct TypeName {
  std::string base;
  std::vector<std::string> checks;
};

TypeName type_name(const CLI::Option& option) {
  const std::string full = option.get_type_name();
  TypeName type;
  std::size_t colon = full.find(':');
  type.base = full.substr(0, colon);
  while (colon != std::string::npos) {
    const std::size_t next = full.find(':', colon + 1);
    type.checks.push_back(full.substr(colon + 1, next == std::string::npos ? next : next - colon - 1));
    colon = next;
  }
  return type;
}

std::vector<std::string> split(std::string_view text, std::string_view separator) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = text.find(separator, start);
    std::string part(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (!part.empty()) parts.emplace_back(std::move(part));
    if (end == std::string_view::npos) return parts;
    start = end + separator.size();
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// How an option's value is completed.
struct ValueHint {
  bool files = false, dirs = false;
  std::vector<std::string> words;
};

// Choices come from the operations' parameter types ("one of a, b", "the path of a file or one
// of a, b") and from CLI::IsMember ("{a,b}"); files from the type or the option's name.
ValueHint value_hint(const CLI::Option& option) {
  static const char* const file_words[] = {"file",  "dir",    "output", "input",
                                           "cache", "report", "chains", "palettes"};
  static constexpr std::string_view one_of = "one of ", path_of = "the path of a file";
  const TypeName type = type_name(option);
  const std::string base = lower(type.base);
  ValueHint hint;
  hint.dirs = base == "dir";
  hint.files = base == "file" || base == "path" || base.starts_with(path_of);
  for (const auto& name : option.get_lnames()) {
    hint.dirs = hint.dirs || name.find("dir") != std::string::npos;
    for (const char* word : file_words) hint.files = hint.files || name.find(word) != std::string::npos;
  }
  hint.files = hint.files && !hint.dirs;
  if (const std::size_t at = type.base.find(one_of); at != std::string::npos)
    hint.words = split(std::string_view(type.base).substr(at + one_of.size()), ", ");
  for (const auto& check : type.checks)
    if (check.size() > 2 && check.front() == '{' && check.back() == '}')
      for (const auto& word : split(std::string_view(check).substr(1, check.size() - 2), ","))
        hint.words.push_back(word.substr(0, word.find("->")));
  return hint;
}

// The first line of a description, without the "imgpipe: " a root description may start with.
std::string summary(const CLI::App& app, std::string_view program) {
  std::string text = app.get_description().substr(0, app.get_description().find('\n'));
  const std::string prefix = fmt::format("{}: ", program);
  if (text.starts_with(prefix)) text.erase(0, prefix.size());
  return text;
}

// ---------------------------------------------------------------------------------------------
// roff

void append_code_point(std::string& out, std::string_view text, std::size_t& i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const int length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  char32_t code = length == 4 ? lead & 0x07 : length == 3 ? lead & 0x0F : lead & 0x1F;
  bool valid = length > 1 && i + static_cast<std::size_t>(length) <= text.size();
  for (int k = 1; valid && k < length; ++k) {
    const auto next = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
    valid = (next & 0xC0) == 0x80;
    code = (code << 6) | (next & 0x3F);
  }
  if (valid) {
    out += fmt::format("\\[u{:04X}]", static_cast<std::uint32_t>(code));
    i += static_cast<std::size_t>(length);
  } else {
    out += '?';
    ++i;
  }
}

// Text as roff reads it literally: backslashes, minus signs and non-ASCII characters escaped,
// other control characters left out. Minus signs are escaped everywhere (as help2man does) so
// that option names quoted in descriptions render as the ASCII '-' one types.
std::string roff(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      append_code_point(out, text, i);
      continue;
    }
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else if (c == '\t')
      out += ' ';
    else if (c >= 0x20 && c != 0x7F)
      out += static_cast<char>(c);
    ++i;
  }
  return out;
}

// A macro argument in double quotes.
std::string roff_quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : roff(text)) out += c == '"' ? std::string("\\(dq") : std::string(1, c);
  return out + "\"";
}

std::string bold(std::string_view text) {
  return "\\fB" + roff(text) + "\\fR";
}
std::string italic(std::string_view text) {
  return "\\fI" + roff(text) + "\\fR";
}

class Page {
 public:
  void macro(std::string_view line) { out_ += fmt::format("{}\n", line); }

  // One text line, already in roff; a '.' or '\'' at its start would make it a request.
  void text(std::string_view line) {
    if (line.empty()) return;
    if (line.front() == '.' || line.front() == '\'') out_ += "\\&";
    out_ += fmt::format("{}\n", line);
  }

  // Plain text over several lines; blank lines start a new paragraph with `paragraph`.
  void paragraphs(std::string_view plain, std::string_view paragraph) {
    bool pending_break = false, any = false;
    for (std::string_view rest = plain; !rest.empty();) {
      const std::size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
      if (line.empty()) {
        pending_break = any;
        continue;
      }
      if (pending_break) macro(paragraph);
      text(roff(line));
      pending_break = false;
      any = true;
    }
  }

  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

std::string value_placeholder(const CLI::Option& option) {
  const std::string base = type_name(option).base;
  return italic(base.empty() ? "VALUE" : base) + (repeats(option) ? "..." : "");
}

std::string option_tag(const CLI::Option& option) {
  std::vector<std::string> names;
  for (const auto& name : option_names(option)) names.push_back(bold(name));
  std::string tag = fmt::format("{}", fmt::join(names, ", "));
  if (takes_value(option)) tag += " " + value_placeholder(option);
  return tag;
}

std::string name_list(const std::set<CLI::Option*>& options) {
  std::vector<std::string> names;
  for (const CLI::Option* option : options) names.push_back(main_name(*option));
  std::sort(names.begin(), names.end());
  std::vector<std::string> shown;
  for (const auto& name : names) shown.push_back(bold(name));
  return fmt::format("{}", fmt::join(shown, ", "));
}

// "Required. Default: x. ..." after an option's description: what CLI11 checks beyond it.
std::string option_facts(const CLI::Option& option) {
  std::vector<std::string> facts;
  if (option.get_required()) facts.emplace_back("Required.");
  if (!option.get_default_str().empty())
    facts.push_back(fmt::format("Default: {}.", italic(option.get_default_str())));
  for (const auto& check : type_name(option).checks)
    if (!check.empty()) facts.push_back(fmt::format("Accepted values: {}.", roff(check)));
  if (!option.get_envname().empty())
    facts.push_back(fmt::format("Environment variable: {}.", bold(option.get_envname())));
  if (!option.get_needs().empty())
    facts.push_back(fmt::format("Requires {}.", name_list(option.get_needs())));
  if (!option.get_excludes().empty())
    facts.push_back(fmt::format("Cannot be combined with {}.", name_list(option.get_excludes())));
  return fmt::format("{}", fmt::join(facts, " "));
}

void option_entry(Page& page, const CLI::Option& option, std::string_view tag) {
  page.macro(".TP");
  page.text(tag);
  page.paragraphs(option.get_description(), ".IP");
  const std::string facts = option_facts(option);
  if (facts.empty()) return;
  if (!option.get_description().empty()) page.macro(".br");
  page.text(facts);
}

std::string page_name(const CLI::App& root, const CLI::App* sub) {
  return sub ? fmt::format("{}-{}", program_name(root), sub->get_name()) : program_name(root);
}

void header(Page& page, const CLI::App& root, const Command& command, const CLI::App* sub,
            std::string_view version, std::string_view date) {
  const std::string name = page_name(root, sub);
  std::string title = name;
  std::transform(title.begin(), title.end(), title.begin(), [](unsigned char c) { return std::toupper(c); });
  const std::string program = program_name(root);
  const std::string source =
      version.starts_with(program + " ") ? std::string(version) : fmt::format("{} {}", program, version);
  page.macro(fmt::format(".TH {} 1 {} {} {}", roff_quoted(title), roff_quoted(date), roff_quoted(source),
                         roff_quoted("User Commands")));
  page.macro(".SH NAME");
  const std::string what = summary(*command.app, program);
  page.text(fmt::format("{} \\- {}", roff(name), roff(what.empty() ? command.words : what)));
}

std::string positional_usage(const CLI::Option& option) {
  std::string usage = fmt::format("<{}>", option.get_single_name());
  if (repeats(option)) usage += "...";
  return option.get_required() ? roff(usage) : roff("[" + usage + "]");
}

void synopsis(Page& page, const Command& command) {
  std::vector<std::string> parts = {bold(command.words), "[" + italic("OPTIONS") + "]"};
  for (const CLI::Option* option : command.options)
    if (option->get_required())
      parts.push_back(takes_value(*option) ? bold(main_name(*option)) + " " + value_placeholder(*option)
                                           : bold(main_name(*option)));
  for (const CLI::Option* option : command.positionals) parts.push_back(positional_usage(*option));
  if (!visible_subcommands(*command.app).empty()) {
    const bool required = command.app->get_require_subcommand_min() > 0;
    parts.push_back(required ? italic("COMMAND") : "[" + italic("COMMAND") + "]");
    parts.push_back("[" + italic("ARGS") + "]");
  }
  page.macro(".SH SYNOPSIS");
  page.text(fmt::format("{}", fmt::join(parts, " ")));
}

// For the root, also how its commands and options combine.
std::string root_notes(const CLI::App& root, std::string_view program) {
  const auto subs = visible_subcommands(root);
  if (root.get_parent() || subs.empty()) return "";
  std::string notes = fmt::format("Each command takes its own options, listed on its page and by {} {} {}.",
                                  bold(program), italic("COMMAND"), bold("--help"));
  const std::vector<const CLI::Option*> globals = global_options(root, *subs.front(), {});
  if (globals.empty()) return notes;
  std::vector<std::string> names;
  for (const CLI::Option* option : globals) names.push_back(bold(main_name(*option)));
  return notes +
         fmt::format(" Global options ({}) may also be given after the command.", fmt::join(names, ", "));
}

void description(Page& page, const CLI::App& app, std::string_view program) {
  std::string text = app.get_description();
  const std::string first = summary(app, program);
  if (text.substr(0, text.find('\n')) != first)
    text = first + text.substr(std::min(text.find('\n'), text.size()));
  std::string footer = app.get_footer();
  const std::string notes = root_notes(app, program);
  // A footer of "Examples:" and one command a line is the EXAMPLES section, line by line.
  const std::string_view examples_heading = "Examples:\n";
  std::string examples;
  if (footer.starts_with(examples_heading))
    examples = std::exchange(footer, "").substr(examples_heading.size());
  if (!text.empty() || !footer.empty() || !notes.empty()) {
    page.macro(".SH DESCRIPTION");
    page.paragraphs(text, ".PP");
    if (!footer.empty()) {
      if (!text.empty()) page.macro(".PP");
      page.paragraphs(footer, ".PP");
    }
    if (!notes.empty()) {
      if (!text.empty() || !footer.empty()) page.macro(".PP");
      page.text(notes);
    }
  }
  if (examples.empty()) return;
  page.macro(".SH EXAMPLES");
  page.macro(".nf");
  for (std::string_view rest = examples; !rest.empty();) {
    const std::size_t end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    page.text(roff(line));
  }
  page.macro(".fi");
}

void arguments(Page& page, const Command& command) {
  if (command.positionals.empty()) return;
  page.macro(".SH ARGUMENTS");
  for (const CLI::Option* option : command.positionals)
    option_entry(page, *option, italic(option->get_single_name()) + (repeats(*option) ? "..." : ""));
}

void options(Page& page, const Command& command) {
  if (command.options.empty() && command.globals.empty()) return;
  page.macro(".SH OPTIONS");
  for (const CLI::Option* option : command.options) option_entry(page, *option, option_tag(*option));
  if (command.globals.empty()) return;
  page.macro(".SS \"Global options\"");
  for (const CLI::Option* option : command.globals) option_entry(page, *option, option_tag(*option));
}

void commands(Page& page, const CLI::App& root) {
  const auto subs = visible_subcommands(root);
  if (subs.empty()) return;
  page.macro(".SH COMMANDS");
  for (const CLI::App* sub : subs) {
    page.macro(".TP");
    page.text(bold(sub->get_name()));
    page.paragraphs(sub->get_description(), ".IP");
    page.macro(".br");
    page.text(fmt::format("See {}(1).", bold(page_name(root, sub))));
  }
}

void exit_status(Page& page) {
  page.macro(".SH EXIT STATUS");
  for (const auto& [code, meaning] : kExitStatus) {
    page.macro(".TP");
    page.text(bold(code));
    page.text(roff(meaning));
  }
}

void see_also(Page& page, const CLI::App& root, const CLI::App* sub) {
  std::vector<std::string> pages;
  if (sub)
    pages.push_back(bold(program_name(root)) + "(1)");
  else
    for (const CLI::App* other : visible_subcommands(root))
      pages.push_back(bold(page_name(root, other)) + "(1)");
  if (pages.empty()) return;
  page.macro(".SH SEE ALSO");
  page.text(fmt::format("{}", fmt::join(pages, ", ")));
}

// ---------------------------------------------------------------------------------------------
// Shell scripts

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A shell function name made of the program's name ("_imgpipe", "_imgpipe_extract_palette").
std::string function_name(std::string_view program, std::string_view command = {}) {
  std::string name = fmt::format("_{}{}{}", program, command.empty() ? "" : "_", command);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  return name;
}

std::vector<const CLI::Option*> all_options(const Command& command) {
  std::vector<const CLI::Option*> all = command.options;
  all.insert(all.end(), command.globals.begin(), command.globals.end());
  return all;
}

std::string option_words(const Command& command) {
  std::vector<std::string> words;
  for (const CLI::Option* option : all_options(command))
    for (const auto& name : option_names(*option)) words.push_back(name);
  return fmt::format("{}", fmt::join(words, " "));
}

std::string subcommand_words(const CLI::App& root) {
  std::vector<std::string> words;
  for (const CLI::App* sub : visible_subcommands(root)) words.push_back(sub->get_name());
  return fmt::format("{}", fmt::join(words, " "));
}

std::vector<Command> completion_contexts(const CLI::App& root) {
  std::vector<Command> contexts = {describe(root, nullptr)};
  for (const CLI::App* sub : visible_subcommands(root)) contexts.push_back(describe(root, sub));
  return contexts;
}

std::string context_key(const CLI::App& root, const Command& command) {
  return command.app == &root ? std::string() : command.app->get_name();
}

std::string bash_value_action(const ValueHint& hint, std::string_view prefix) {
  const std::string words = fmt::format("{}", fmt::join(hint.words, " "));
  if (hint.dirs) return fmt::format("{}_dirs \"$3\"", prefix);
  if (hint.files && words.empty()) return fmt::format("{}_files \"$3\"", prefix);
  if (hint.files) return fmt::format("{}_files \"$3\" {}", prefix, shell_quote(words));
  if (!hint.words.empty()) return fmt::format("{}_words \"$3\" {}", prefix, shell_quote(words));
  return ":";
}

// _imgpipe_value CMD OPTION CUR: completes the value of OPTION in CMD ("" for none), or
// returns 1 when OPTION takes no value there.
std::string bash_value_function(const CLI::App& root, std::string_view prefix) {
  std::string cases;
  for (const Command& command : completion_contexts(root)) {
    const std::string key = context_key(root, command);
    for (const CLI::Option* option : all_options(command)) {
      if (!takes_value(*option)) continue;
      std::vector<std::string> patterns;
      for (const auto& name : option_names(*option)) patterns.push_back(shell_quote(key + " " + name));
      cases += fmt::format("    {}) {} ;;\n", fmt::join(patterns, "|"),
                           bash_value_action(value_hint(*option), prefix));
    }
  }
  return fmt::format(
      "{0}_value() {{\n"
      "  case \"$1 $2\" in\n"
      "{1}"
      "    *) return 1 ;;\n"
      "  esac\n"
      "}}\n",
      prefix, cases);
}

// _imgpipe_options CMD CUR and _imgpipe_operand CMD CUR (a word not starting with '-').
std::string bash_word_functions(const CLI::App& root, std::string_view prefix) {
  std::string option_cases, operand_cases;
  for (const Command& command : completion_contexts(root)) {
    const std::string key = shell_quote(context_key(root, command));
    option_cases +=
        fmt::format("    {}) {}_words \"$2\" {} ;;\n", key, prefix, shell_quote(option_words(command)));
    if (command.app != &root && !command.positionals.empty())
      operand_cases += fmt::format("    {}) {}_files \"$2\" ;;\n", key, prefix);
  }
  return fmt::format(
      "{0}_options() {{\n"
      "  case $1 in\n"
      "{1}"
      "  esac\n"
      "}}\n"
      "\n"
      "{0}_operand() {{\n"
      "  case $1 in\n"
      "{2}"
      "    *) {0}_options \"$1\" \"$2\" ;;\n"
      "  esac\n"
      "}}\n",
      prefix, option_cases, operand_cases);
}

// The case arm that steps over a root option's value while looking for the subcommand.
std::string bash_root_value_skip(const CLI::App& root) {
  std::vector<std::string> patterns;
  for (const CLI::Option* option : describe(root, nullptr).options)
    if (takes_value(*option))
      for (const auto& name : option_names(*option)) patterns.push_back(shell_quote(name));
  if (patterns.empty()) return "";
  return fmt::format("      {}) [[ ${{COMP_WORDS[i+1]-}} == = ]] && (( i++ )); (( i++ )) ;;\n",
                     fmt::join(patterns, "|"));
}

constexpr const char* kBashHelpers = R"(# Replies: words, files (and words), folders.
{0}_words() {{ mapfile -t COMPREPLY < <(compgen -W "$2" -- "$1"); }}

{0}_files() {{
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(
    compgen -f -- "$1"
    if [[ -n ${{2-}} ]]; then compgen -W "$2" -- "$1"; fi
  )
}}

{0}_dirs() {{
  compopt -o filenames 2>/dev/null
  mapfile -t COMPREPLY < <(compgen -d -- "$1")
}}
)";

constexpr const char* kBashMain = R"({0}() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="" cmd="" pre="" word i
  COMPREPLY=()
  if (( COMP_CWORD > 0 )); then prev=${{COMP_WORDS[COMP_CWORD-1]}}; fi
  # --name=value: three words where '=' breaks words (the default), else one.
  if [[ $cur == = ]]; then
    cur=""
  elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
    prev=${{COMP_WORDS[COMP_CWORD-2]}}
  elif [[ $cur == --*=* ]]; then
    prev=${{cur%%=*}}
    pre="$prev="
    cur=${{cur#*=}}
  fi
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word=${{COMP_WORDS[i]}}
    case $word in
{1}      -*|=) ;;
      *) cmd=$word; break ;;
    esac
  done
  if [[ $prev == -* ]] && {0}_value "$cmd" "$prev" "$cur"; then
    if [[ -n $pre ]]; then COMPREPLY=("${{COMPREPLY[@]/#/"$pre"}}"); fi
    return 0
  fi
  if [[ -n $pre ]]; then return 0; fi
  if [[ $cur == -* ]]; then
    {0}_options "$cmd" "$cur"
  elif [[ -z $cmd ]]; then
    {0}_words "$cur" {2}
  else
    {0}_operand "$cmd" "$cur"
  fi
  return 0
}}

complete -F {0} {3}
)";

// zsh: the text of an _arguments explanation or message, inside single quotes.
std::string zsh_text(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, text.find('\n'))) {
    if (c == '\\' || c == '[' || c == ']' || c == ':') out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_word(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '/' &&
        c != ',' && c != '+' && c != '#')
      out += '\\';
    out += c;
  }
  return out;
}

std::string zsh_action(const ValueHint& hint) {
  std::vector<std::string> words;
  for (const auto& word : hint.words) words.push_back(zsh_word(word));
  if (hint.dirs) return "_files -/";
  if (hint.files && !words.empty()) return fmt::format("{{compadd -- {}; _files}}", fmt::join(words, " "));
  if (hint.files) return "_files";
  if (!words.empty()) return fmt::format("({})", fmt::join(words, " "));
  return "";
}

// One _arguments spec per name of the option, each excluding the option's other names (unless
// it repeats) and the options it excludes; help excludes everything.
std::vector<std::string> zsh_option_specs(const CLI::App& app, const CLI::Option& option) {
  std::vector<std::string> excluded;
  if (&option == app.get_help_ptr() || &option == app.get_help_all_ptr() ||
      &option == app.get_version_ptr()) {
    excluded = {"-", "*"};
  } else {
    if (!repeats(option)) excluded = option_names(option);
    for (const CLI::Option* other : option.get_excludes())
      for (const auto& name : option_names(*other)) excluded.push_back(name);
  }
  const std::string exclusion = excluded.empty() ? "" : fmt::format("({})", fmt::join(excluded, " "));
  std::string argument;
  if (takes_value(option)) {
    const std::string base = type_name(option).base;
    argument = fmt::format(":{}:{}", zsh_text(base.empty() ? "value" : base), zsh_action(value_hint(option)));
  }
  std::vector<std::string> specs;
  for (const auto& name : option_names(option)) {
    const std::string joined = !takes_value(option) ? "" : name.starts_with("--") ? "=" : "+";
    specs.push_back(shell_quote(fmt::format("{}{}{}{}[{}]{}", exclusion, repeats(option) ? "*" : "", name,
                                            joined, zsh_text(option.get_description()), argument)));
  }
  return specs;
}

std::vector<std::string> zsh_positional_specs(const Command& command) {
  std::vector<std::string> specs;
  int position = 1;
  for (const CLI::Option* option : command.positionals) {
    const std::string message =
        zsh_text(option->get_description().empty() ? option->get_single_name() : option->get_description());
    if (repeats(*option)) {
      specs.push_back(shell_quote(fmt::format("*:{}:_files", message)));
      break;
    }
    specs.push_back(
        shell_quote(fmt::format("{}:{}{}:_files", position++, option->get_required() ? "" : ":", message)));
  }
  return specs;
}

std::vector<std::string> zsh_specs(const Command& command) {
  std::vector<std::string> specs;
  for (const CLI::Option* option : command.options)
    for (auto& spec : zsh_option_specs(*command.app, *option)) specs.push_back(std::move(spec));
  for (const CLI::Option* option : command.globals)
    for (auto& spec : zsh_option_specs(*command.app, *option)) specs.push_back(std::move(spec));
  return specs;
}

std::string zsh_arguments(std::string_view flags, const std::vector<std::string>& specs) {
  std::string call = fmt::format("  _arguments {} :", flags);
  for (const auto& spec : specs) call += fmt::format(" \\\n    {}", spec);
  return call;
}

std::string zsh_subcommand_function(const CLI::App& root, const CLI::App& sub) {
  const Command command = describe(root, &sub);
  std::vector<std::string> specs = zsh_specs(command);
  for (auto& spec : zsh_positional_specs(command)) specs.push_back(std::move(spec));
  return fmt::format("{}() {{\n{}\n}}\n\n", function_name(program_name(root), sub.get_name()),
                     zsh_arguments("-S", specs));
}

std::string zsh_root_function(const CLI::App& root) {
  const std::string program = program_name(root);
  const Command command = describe(root, nullptr);
  const auto subs = visible_subcommands(root);
  std::vector<std::string> specs = zsh_specs(command);
  if (subs.empty()) {
    for (auto& spec : zsh_positional_specs(command)) specs.push_back(std::move(spec));
    return fmt::format("{}() {{\n{}\n}}\n\n", function_name(program), zsh_arguments("-S", specs));
  }
  specs.push_back(shell_quote("1:command:->command"));
  specs.push_back(shell_quote("*::argument:->argument"));
  std::string described, dispatch;
  for (const CLI::App* sub : subs) {
    std::string name;
    for (char c : sub->get_name()) name += c == ':' ? std::string("\\:") : std::string(1, c);
    described += fmt::format("        {}\n", shell_quote(fmt::format("{}:{}", name, summary(*sub, program))));
    dispatch += fmt::format("        ({}) {} && ret=0 ;;\n", zsh_word(sub->get_name()),
                            function_name(program, sub->get_name()));
  }
  return fmt::format(
      "{0}() {{\n"
      "  local curcontext=\"$curcontext\" state state_descr line ret=1\n"
      "  typeset -A opt_args\n"
      "{1} && ret=0\n"
      "  case $state in\n"
      "    (command)\n"
      "      local -a commands\n"
      "      commands=(\n"
      "{2}"
      "      )\n"
      "      _describe -t commands '{3} command' commands && ret=0\n"
      "      ;;\n"
      "    (argument)\n"
      "      curcontext=\"${{curcontext%:*:*}}:{3}-$words[1]:\"\n"
      "      case $words[1] in\n"
      "{4}"
      "      esac\n"
      "      ;;\n"
      "  esac\n"
      "  return ret\n"
      "}}\n\n",
      function_name(program), zsh_arguments("-C -S", specs), described, program, dispatch);
}

// ---------------------------------------------------------------------------------------------
// Files

// The man pages' date: SOURCE_DATE_EPOCH when set (reproducible builds), else today, in UTC.
std::string reference_date() {
  std::time_t when = std::time(nullptr);
  if (const char* epoch = std::getenv("SOURCE_DATE_EPOCH"); epoch && *epoch) {
    const std::string_view text = epoch;
    long long seconds = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (error != std::errc() || end != text.data() + text.size() || seconds < 0)
      throw std::invalid_argument(
          fmt::format("SOURCE_DATE_EPOCH: expected seconds since 1970-01-01, got \"{}\"", text));
    when = static_cast<std::time_t>(seconds);
  }
  std::tm utc{};
  gmtime_r(&when, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%d", &utc);
  return date;
}

void write_file(const fs::path& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (!file)
    throw std::runtime_error(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  const int error = errno;
  if (std::fclose(file) != 0 || !written)
    throw std::runtime_error(
        fmt::format("{}: cannot write: {}", path.string(), std::strerror(written ? errno : error)));
}

}  // namespace

std::string man_page(const CLI::App& root, const CLI::App* sub, std::string_view version,
                     std::string_view date) {
  const Command command = describe(root, sub);
  const std::string program = program_name(root);
  Page page;
  header(page, root, command, sub, version, date);
  synopsis(page, command);
  description(page, *command.app, program);
  arguments(page, command);
  options(page, command);
  if (!sub) commands(page, root);
  exit_status(page);
  see_also(page, root, sub);
  return page.str();
}

std::string bash_completion(const CLI::App& root) {
  const std::string program = program_name(root);
  const std::string prefix = function_name(program);
  return fmt::format(
             "# bash completion for {0}  -*- shell-script -*-\n"
             "# Generated from {0}'s command-line definitions.\n\n",
             program) +
         fmt::format(kBashHelpers, prefix) + "\n" + bash_value_function(root, prefix) + "\n" +
         bash_word_functions(root, prefix) + "\n" +
         fmt::format(kBashMain, prefix, bash_root_value_skip(root), shell_quote(subcommand_words(root)),
                     shell_quote(program));
}

std::string zsh_completion(const CLI::App& root) {
  const std::string program = program_name(root);
  std::string script = fmt::format(
      "#compdef {0}\n# zsh completion for {0}, generated from its command-line definitions.\n\n", program);
  for (const CLI::App* sub : visible_subcommands(root)) script += zsh_subcommand_function(root, *sub);
  script += zsh_root_function(root);
  // Autoloaded from $fpath the file is the body of _imgpipe: define, then complete. Sourced,
  // it registers itself.
  script += fmt::format(
      "if [[ $funcstack[1] == {0} ]]; then\n"
      "  {0} \"$@\"\n"
      "else\n"
      "  compdef {0} {1}\n"
      "fi\n",
      function_name(program), program);
  return script;
}

void write_reference(const CLI::App& root, std::string_view kind, const fs::path& dir,
                     std::string_view version) {
  if (kind != "man" && kind != "bash" && kind != "zsh")
    throw std::invalid_argument(fmt::format("reference kind: expected man, bash or zsh, got \"{}\"", kind));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(fmt::format("{}: cannot create the folder: {}", dir.string(), ec.message()));
  const std::string program = program_name(root);
  if (kind == "bash") return write_file(dir / program, bash_completion(root));
  if (kind == "zsh") return write_file(dir / ("_" + program), zsh_completion(root));
  const std::string date = reference_date();
  write_file(dir / (program + ".1"), man_page(root, nullptr, version, date));
  for (const CLI::App* sub : visible_subcommands(root))
    write_file(dir / (page_name(root, sub) + ".1"), man_page(root, sub, version, date));
}

}  // namespace imgpipe::cli
