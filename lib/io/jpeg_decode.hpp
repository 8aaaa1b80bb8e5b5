#pragma once
// JPEG pixels decoded by libjpeg-turbo directly, at any scale M/8 (M = 1..8): libvips's
// jpegload shrinks by 2, 4 or 8 only, so a chain that begins by shrinking a 2048 px photo to
// 1200 px would decode it whole. Decoding at 5/8 gives 1280 px straight from the DCT
// coefficients, into the Mat the chain works on (no libvips pipeline, no second copy).
//
// The loader (load.cpp) reads the header with read_jpeg_header (the size for the limits, EXIF,
// ICC and resolution) and the pixels of 8-bit greyscale, YCbCr and RGB files with decode_jpeg;
// an embedded profile is converted by libvips. CMYK and YCCK files, and anything this decoder
// declines, stay with libvips whole.

#include <cstdint>
#include <imgpipe/io.hpp>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <vector>

#include "metadata.hpp"

namespace imgpipe::detail {

// The smallest M in 1..8 for which the image decoded at M/8 is at least `least` (0 in a side:
// any size in that side). libjpeg rounds scaled sides up.
int jpeg_scale_for(cv::Size stored, cv::Size least);
cv::Size jpeg_scaled_size(cv::Size stored, int eighths);

// A JPEG's header, read by libjpeg-turbo with the markers the loader keeps.
struct JpegHeader {
  cv::Size size;                   // as stored
  int components = 0;              // 1 grey, 3 YCbCr or RGB, 4 CMYK or YCCK
  int channels = 0;                // what decode_jpeg gives (1 or 3); 0: it declines the file
  std::vector<std::uint8_t> exif;  // the first APP1 "Exif\0\0" segment, whole
  std::vector<std::uint8_t> icc;   // the ICC profile, its APP2 chunks joined
  int density_unit = 0;            // the JFIF APP0 resolution: 0 aspect only, 1 dpi, 2 dots per cm
  double x_density = 0, y_density = 0;
};

// The header of the JPEG read through `read` (`size` bytes); Error(decode) naming `name` when
// it is broken.
JpegHeader read_jpeg_header(const ReadAt& read, std::uint64_t size, const std::string& name);

// The pixels of the JPEG read through `read` (`size` bytes) at eighths/8 scale: 8-bit RGB or
// grey, as stored (no orientation applied). nullopt when the file is not for this decoder
// (its colour space, its precision); Error(decode) naming `name` when it is broken, and on
// libjpeg's warnings (corrupt data, a truncated file) unless `fail_on` is none.
std::optional<cv::Mat> decode_jpeg(const ReadAt& read, std::uint64_t size, int eighths, FailOn fail_on,
                                   const std::string& name);

}  // namespace imgpipe::detail
