#pragma once
// `imgpipe batch CHAIN --input DIR|FILE... --output DIR`.

#include <CLI/CLI.hpp>
#include <functional>

namespace imgpipe::cli {

// Adds the subcommand to `app`; when parsed, `run` returns the process exit code. Errors
// that stop the batch before it starts are thrown as imgpipe::Error for main() to report.
void add_batch_command(CLI::App& app, std::function<int()>& run);

}  // namespace imgpipe::cli
