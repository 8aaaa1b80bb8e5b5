#include "vips.hpp"

#include <fmt/format.h>

#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <mutex>

namespace imgpipe::detail {

void ensure_vips(std::string_view context) {
  std::string why;
  if (!vips_loadable(&why))
    throw Error(
        ErrorCategory::unsupported,
        fmt::format("{}{}this needs libvips, which cannot be loaded ({}); without it imgpipe reads and "
                    "writes JPEG, PNG and WebP, but not other formats, CMYK JPEGs, "
                    "streaming or text",
                    context, context.empty() ? "" : ": ", why));
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
      // Loaders libvips marks untrusted (SVG, PPM, Radiance, FITS, MAT, JPEG 2000, its own
      // format, and with modules PDF and ImageMagick) parse whatever a file name claims; they
      // stay blocked until a chain allows their format (Limits::formats, docs/security.md).
      vips_block_untrusted_set(TRUE);
    }
  });
  if (!ok) throw Error(ErrorCategory::internal, "libvips failed to start: " + take_vips_error());
}

std::vector<std::uint8_t> get_blob(VipsImage* image, const char* field) {
  if (!vips_image_get_typeof(image, field)) return {};
  const void* data = nullptr;
  std::size_t size = 0;
  if (vips_image_get_blob(image, field, &data, &size) != 0) {
    take_vips_error();
    return {};
  }
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  return {bytes, bytes + size};
}

cv::Mat compute_pixels(VipsImage* image) {
  const bool sixteen = vips_image_get_format(image) == VIPS_FORMAT_USHORT;
  cv::Mat pixels;
  pixels.allocator = large_page_allocator();  // the whole image is written at once: see there
  pixels.create(vips_image_get_height(image), vips_image_get_width(image),
                CV_MAKETYPE(sixteen ? CV_16U : CV_8U, vips_image_get_bands(image)));
  VipsRef target(vips_image_new_from_memory(pixels.data, pixels.total() * pixels.elemSize(), pixels.cols,
                                            pixels.rows, pixels.channels(),
                                            sixteen ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR));
  if (!target || vips_image_write(image, target.get())) return {};
  return pixels;
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
