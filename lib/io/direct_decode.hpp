#pragma once
// PNG and WebP decoded by libpng and libwebp directly, as libvips's pngload and webpload decode
// them (the same libraries, the same settings: the same pixels and metadata), so that a job
// with such inputs does not load libvips (~25 ms of start-up, vips/lazy_vips.cpp) at all.
//
// The loader (load.cpp) reads the header (size for the limits, channels, EXIF, ICC,
// resolution) and then the pixels; an embedded profile is converted afterwards (io/icc.hpp).
// A file these decoders decline goes to libvips whole: animated WebP, and a damaged PNG read
// with fail_on none (libvips knows which rows it keeps).

#include <cstdint>
#include <imgpipe/io.hpp>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "metadata.hpp"

namespace imgpipe::detail {

// What the loader needs before the pixels.
struct DirectHeader {
  cv::Size size;                   // as stored
  int channels = 0;                // 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA: as decoded
  int bit_depth = 8;               // 8 or 16
  std::vector<std::uint8_t> exif;  // as stored (PNG's eXIf and WebP's EXIF have no "Exif\0\0")
  std::vector<std::uint8_t> icc;
  // Pixels per millimetre as libvips's loader sets them before it reads the EXIF block: PNG's
  // pHYs (72 dpi without one), 1.0 for WebP.
  double xres = 0, yres = 0;
  // libvips reads the EXIF resolution after the pHYs chunk; its WebP loader sets 1.0 after it.
  bool exif_resolution_wins = true;
};

bool is_png(std::span<const std::uint8_t> head);
bool is_webp(std::span<const std::uint8_t> head);

// The header of the PNG read through `read` (`size` bytes). Error(decode) naming `name` when
// it is broken.
DirectHeader read_png_header(const ReadAt& read, std::uint64_t size, const std::string& name);

// The pixels of that PNG, as stored (no orientation applied): 8- or 16-bit, palette expanded,
// transparency as alpha. Error(decode) naming `name` when the data is broken, or nullopt then
// with fail_on none (the loader asks libvips, which keeps what it could read).
std::optional<cv::Mat> decode_png(const ReadAt& read, std::uint64_t size, FailOn fail_on,
                                  const std::string& name);

// The header of the WebP in `bytes` (the whole file); nullopt for an animation (libvips reads
// its frames). Error(decode) naming `name` when it is broken.
std::optional<DirectHeader> read_webp_header(std::span<const std::uint8_t> bytes, const std::string& name);

// The pixels of that WebP (RGB, or RGBA when it has alpha) decoded at `size` (libwebp scales
// while decoding).
cv::Mat decode_webp(std::span<const std::uint8_t> bytes, const DirectHeader& header, cv::Size size,
                    const std::string& name);

}  // namespace imgpipe::detail
