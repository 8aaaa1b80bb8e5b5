#include <imgpipe/error.hpp>

namespace imgpipe {

std::string_view to_string(ErrorCategory category) noexcept {
  switch (category) {
    case ErrorCategory::config: return "config";
    case ErrorCategory::decode: return "decode";
    case ErrorCategory::limit: return "limit";
    case ErrorCategory::io: return "io";
    case ErrorCategory::unsupported: return "unsupported";
    case ErrorCategory::device: return "device";
    case ErrorCategory::timeout: return "timeout";
    case ErrorCategory::cancelled: return "cancelled";
    case ErrorCategory::internal: return "internal";
  }
  return "internal";
}

}  // namespace imgpipe
