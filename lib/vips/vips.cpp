#include "vips.hpp"

#include <imgpipe/error.hpp>
#include <mutex>

namespace imgpipe::detail {

void ensure_vips() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    ok = VIPS_INIT("imgpipe") == 0;
    if (ok) {
      // libvips reports decoder warnings on stderr through GLib as well as in its error
      // buffer; imgpipe turns them into errors (LoadOptions::fail_on) with the file name,
      // so the raw GLib lines would only repeat them without saying which file.
      g_log_set_handler(
          "VIPS", G_LOG_LEVEL_WARNING, [](const char*, GLogLevelFlags, const char*, void*) {}, nullptr);
      vips_cache_set_max(0);
      vips_cache_set_max_mem(0);
    }
  });
  if (!ok) throw Error(ErrorCategory::internal, "libvips failed to start: " + take_vips_error());
}

std::string take_vips_error(const char* fallback) {
  std::string text = vips_error_buffer();
  vips_error_clear();
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  std::string joined;
  for (char c : text) {
    if (c == '\n')
      joined += "; ";
    else
      joined += c;
  }
  return joined.empty() ? std::string(fallback) : joined;
}

}  // namespace imgpipe::detail
