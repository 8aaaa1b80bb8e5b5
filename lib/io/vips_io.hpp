#pragma once
// io's interface for schedules that run on libvips images (streaming): the same decoding and
// the same encoders as load() and save(), on lazy images.

#include <cstdint>
#include <filesystem>
#include <imgpipe/context.hpp>
#include <imgpipe/io.hpp>
#include <opencv2/core/mat.hpp>
#include <string>

#include "../vips/vips.hpp"

namespace imgpipe::detail {

// The TIFF compression SaveOptions names; Error(config) for an unknown one, Error(unsupported)
// for JPEG compression of 16-bit pixels.
VipsForeignTiffCompression tiff_compression(const SaveOptions& options, bool sixteen_bit);

// The checks load() makes of an input file before opening it (exists, not a folder, not empty,
// within Limits::max_file_bytes); its size. Errors name the file as `name`.
std::uint64_t check_image_file(const std::filesystem::path& path, const std::string& name,
                               const Limits& limits);

// Whatever was decoded as 8- or 16-bit sRGB or grey, alpha kept (ICC and CMYK through the
// embedded or built-in profile, other colour spaces converted), as lazy libvips operations.
VipsRef to_srgb(VipsRef image, const std::string& name);

// The input opened for one pass top to bottom, decoded as load() decodes it (shrink-on-load by
// `options`, 8- or 16-bit sRGB or grey, alpha kept, failing on options.fail_on) and upright
// (EXIF orientation 2 is a mirror; the others need the last rows first and are
// Error(unsupported)). The pixel limit is the caller's (streaming is how an image over it is
// processed once it is raised).
VipsRef open_sequential(const ImageFile& file, const LoadOptions& options);

// The input shrunk on load to `size` exactly (libvips's thumbnail: a JPEG decodes at 1/2, 1/4
// or 1/8 scale, other formats are read once top to bottom), upright and converted like
// open_sequential(), as pixels of OpenCV type `type` in memory.
cv::Mat thumbnail(const std::filesystem::path& path, cv::Size size, int type);

// 16-bit samples as 8-bit, v / 257 rounded (as detail::to_8bit does for a cv::Mat), lazily;
// 8-bit images as they are. Empty when libvips fails.
VipsRef to_8bit(VipsRef image);

// save()'s encoder for JPEG, truecolour PNG and TIFF: `image` into `target`. `whole` when the
// image is in memory (JPEG then optimises its Huffman tables). Returns libvips's status.
int save_to_target(VipsImage* image, VipsTarget* target, const SaveOptions& options, bool whole);

// Encodes a lazy image into `output` with save()'s encoder for options.format, through
// AtomicFile: the encoder's sink pulls the pipeline through, tile by tile. WebP's encoder
// takes the whole picture at once, so the image is computed into memory first (4 bytes a
// pixel). Throws Error(io) naming the output when the sink fails (a region callback's own
// error is the caller's to report).
void save_streamed(VipsImage* image, const std::filesystem::path& output, const SaveOptions& options,
                   QualityPreset preset);

}  // namespace imgpipe::detail
