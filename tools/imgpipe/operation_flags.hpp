#pragma once
// Command-line flags generated from an operation's descriptor, so that commands built on one
// operation (`palette`, `vectorize`) take the same parameters, with the same checks and
// messages, as the operation in a chain file.

#include <CLI/CLI.hpp>
#include <imgpipe/config.hpp>
#include <imgpipe/operation.hpp>
#include <map>
#include <set>
#include <string>

namespace imgpipe::cli {

// The settings of a command built on one operation, as `run` reads a chain file's: the
// IMGPIPE_* variables, then `--preset` (when given) on top, refused in the same words.
ChainFile command_file(std::string source, const std::string& preset);

class OperationFlags {
 public:
  // One flag per parameter not in `leave_out`: --name, with underscores written as dashes;
  // boolean parameters are plain flags. The help text is the parameter's doc.
  OperationFlags(CLI::App& command, const OpDescriptor& descriptor,
                 const std::set<std::string>& leave_out = {});

  // The given values as the operation's validated parameters (defaults for the rest), with
  // `overrides` the command sets itself replacing them (an unset Value removes one). Throws
  // Error(config) as a chain file would.
  Params params(const std::map<std::string, Value, std::less<>>& overrides = {}) const;

  const OpDescriptor& descriptor() const { return descriptor_; }

 private:
  const OpDescriptor& descriptor_;
  std::map<std::string, std::string> text_;  // filled by CLI11 when given
  std::map<std::string, bool> switches_;
  std::map<std::string, CLI::Option*> options_;
};

}  // namespace imgpipe::cli
