// WebP read by libwebp as libvips's webpload (8.14, libvips/foreign/webp2vips.c) reads a
// still image: the container parsed by WebPDemux, ICC and EXIF chunks kept, RGB or RGBA as the
// format flags say, libwebp's own scaling for shrink-on-load. Animations go to libvips.
#include <fmt/format.h>
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <memory>

#include "direct_decode.hpp"

namespace imgpipe::detail {

namespace {

struct DemuxDeleter {
  void operator()(WebPDemuxer* demux) const { WebPDemuxDelete(demux); }
};

[[noreturn]] void fail_webp(const std::string& name, const std::string& what) {
  throw Error(ErrorCategory::decode, fmt::format("{}: {}", name, what));
}

std::vector<std::uint8_t> webp_chunk(WebPDemuxer* demux, const char* fourcc) {
  WebPChunkIterator iterator;
  std::vector<std::uint8_t> bytes;
  if (WebPDemuxGetChunk(demux, fourcc, 1, &iterator))
    bytes.assign(iterator.chunk.bytes, iterator.chunk.bytes + iterator.chunk.size);
  WebPDemuxReleaseChunkIterator(&iterator);
  return bytes;
}

}  // namespace

bool is_webp(std::span<const std::uint8_t> head) {
  return head.size() >= 12 && std::memcmp(head.data(), "RIFF", 4) == 0 &&
         std::memcmp(head.data() + 8, "WEBP", 4) == 0;
}

std::optional<DirectHeader> read_webp_header(std::span<const std::uint8_t> bytes, const std::string& name) {
  const WebPData data{bytes.data(), bytes.size()};
  const std::unique_ptr<WebPDemuxer, DemuxDeleter> demux(WebPDemux(&data));
  if (!demux) fail_webp(name, "unable to parse image (not a complete WebP file)");
  const auto flags = WebPDemuxGetI(demux.get(), WEBP_FF_FORMAT_FLAGS);
  if (flags & ANIMATION_FLAG) return std::nullopt;
  DirectHeader header;
  header.size = cv::Size(static_cast<int>(WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_WIDTH)),
                         static_cast<int>(WebPDemuxGetI(demux.get(), WEBP_FF_CANVAS_HEIGHT)));
  if (header.size.width <= 0 || header.size.height <= 0 || header.size.width > 0x3FFF ||
      header.size.height > 0x3FFF)
    fail_webp(name, "bad image dimensions");
  header.channels = flags & ALPHA_FLAG ? 4 : 3;
  if (flags & ICCP_FLAG) header.icc = webp_chunk(demux.get(), "ICCP");
  if (flags & EXIF_FLAG) header.exif = webp_chunk(demux.get(), "EXIF");
  // libvips sets 1 pixel per millimetre after reading the EXIF block, whatever it said.
  header.xres = header.yres = 1.0;
  header.exif_resolution_wins = false;
  return header;
}

cv::Mat decode_webp(std::span<const std::uint8_t> bytes, const DirectHeader& header, cv::Size size,
                    const std::string& name) {
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) fail_webp(name, "libwebp version mismatch");
  // WebPDemux has checked that a still image's frame fills its canvas; the bitstream says so too,
  // or part of the Mat would stay unwritten.
  if (WebPGetFeatures(bytes.data(), bytes.size(), &config.input) != VP8_STATUS_OK ||
      config.input.width != header.size.width || config.input.height != header.size.height)
    fail_webp(name, "the image data does not match the canvas size");
  config.options.use_threads = 1;
  if (size != header.size) {
    config.options.use_scaling = 1;
    config.options.scaled_width = size.width;
    config.options.scaled_height = size.height;
  }
  cv::Mat pixels;
  pixels.allocator = large_page_allocator();  // written whole at once
  pixels.create(size, CV_8UC(header.channels));
  config.output.colorspace = header.channels == 4 ? MODE_RGBA : MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = pixels.data;
  config.output.u.RGBA.stride = static_cast<int>(pixels.step[0]);
  config.output.u.RGBA.size = pixels.total() * pixels.elemSize();
  const VP8StatusCode status = WebPDecode(bytes.data(), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK)
    fail_webp(name, fmt::format("unable to read pixels (libwebp status {})", static_cast<int>(status)));
  return pixels;
}

}  // namespace imgpipe::detail
