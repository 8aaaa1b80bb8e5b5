// library_versions(): what `imgpipe --version` and bug reports name.

#include <fmt/format.h>
#include <jconfig.h>
#include <oneapi/tbb/version.h>
#include <png.h>
#include <webp/decode.h>

#include <imgpipe/io.hpp>
#include <opencv2/core/utility.hpp>

#include "vips_io.hpp"

namespace imgpipe {

std::vector<std::pair<std::string, std::string>> library_versions() {
  const int webp = WebPGetDecoderVersion();       // 0xMMmmpp
  const int jpeg = LIBJPEG_TURBO_VERSION_NUMBER;  // MMMmmmppp; libjpeg-turbo has no run-time query
  std::string why;
  return {
      {"libvips", detail::vips_loadable(&why)
                      ? fmt::format("{}.{}.{}", vips_version(0), vips_version(1), vips_version(2))
                      : "not loaded (" + why + ")"},
      {"OpenCV", cv::getVersionString()},
      {"libjpeg-turbo", fmt::format("{}.{}.{}", jpeg / 1000000, jpeg / 1000 % 1000, jpeg % 1000)},
      {"libpng", png_get_libpng_ver(nullptr)},
      {"libwebp", fmt::format("{}.{}.{}", webp >> 16, (webp >> 8) & 0xff, webp & 0xff)},
      {"TBB", TBB_runtime_version()},
  };
}

}  // namespace imgpipe
