#pragma once
/// \file
/// One exception family for the whole library. Each error has a category that callers (and
/// the CLI's exit codes) act on, and a message a person can act on: what was expected, what
/// was received, and the file when there is one.

#include <stdexcept>
#include <string>
#include <string_view>

namespace imgpipe {

/// What went wrong, in the terms a caller acts on.
enum class ErrorCategory {
  config,       ///< a chain, a parameter or a setting is wrong
  decode,       ///< an input could not be decoded (corrupt, truncated, not an image)
  limit,        ///< a safety limit (pixels, file size, memory) refused the work
  io,           ///< reading or writing a file failed
  unsupported,  ///< valid input the library cannot handle (format, depth, band count)
  device,       ///< an accelerator was asked for and is not usable
  timeout,      ///< the work took longer than it was allowed (Context::deadline)
  cancelled,    ///< the caller asked the work to stop (Context::cancel)
  internal,     ///< a bug or an exhausted resource: fatal
};

/// The category's name as it appears in messages and reports: "config", "decode", ...
std::string_view to_string(ErrorCategory category) noexcept;

/// The exception every part of the library throws: a category and a message.
class Error : public std::runtime_error {
 public:
  /// An error of `category`; `message` is what what() returns.
  Error(ErrorCategory category, const std::string& message)
      : std::runtime_error(message), category_(category) {}

  /// The category given when the error was made.
  ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

}  // namespace imgpipe
