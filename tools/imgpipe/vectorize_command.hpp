#pragma once
// `imgpipe vectorize`: an image's colour regions as SVG.

#include <CLI/CLI.hpp>
#include <functional>

namespace imgpipe::cli {

// Adds the subcommand to `app`; it returns the process exit code through `run` when parsed.
// Errors are thrown as imgpipe::Error for main() to report.
void add_vectorize_command(CLI::App& app, std::function<int()>& run);

}  // namespace imgpipe::cli
