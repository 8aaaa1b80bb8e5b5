#pragma once
// `imgpipe serve --chains DIR`: the HTTP service (server.hpp, docs/serve.md).

#include <CLI/CLI.hpp>
#include <functional>

namespace imgpipe::cli {

// Adds the subcommand to `app`; when parsed, `run` serves until SIGTERM and returns the exit
// code. What stops the start (a bad chain, a busy port) is thrown as imgpipe::Error.
void add_serve_command(CLI::App& app, std::function<int()>& run);

}  // namespace imgpipe::cli
