#pragma once
// `imgpipe palette` and `imgpipe extract-palette`.

#include <CLI/CLI.hpp>
#include <functional>

namespace imgpipe::cli {

// Adds both subcommands to `app`; each returns the process exit code through `run` when
// parsed. Errors are thrown as imgpipe::Error for main() to report.
void add_palette_commands(CLI::App& app, std::function<int()>& run);

}  // namespace imgpipe::cli
