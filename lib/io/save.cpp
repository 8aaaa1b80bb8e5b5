// Encoding: JPEG and TIFF (and non-indexed PNG) through libvips, WebP through libwebp,
// indexed PNG through libpng; every file written atomically.

#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "encoders.hpp"
#include "exif.hpp"
#include "vips_util.hpp"

namespace imgpipe {

using detail::VipsRef;

std::string_view to_string(Format format) noexcept {
  switch (format) {
    case Format::jpeg: return "jpeg";
    case Format::png: return "png";
    case Format::webp: return "webp";
    case Format::tiff: return "tiff";
  }
  return "png";
}

std::optional<Format> parse_format(std::string_view name) noexcept {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "jpeg" || lower == "jpg") return Format::jpeg;
  if (lower == "png") return Format::png;
  if (lower == "webp") return Format::webp;
  if (lower == "tiff" || lower == "tif") return Format::tiff;
  return std::nullopt;
}

std::optional<Format> format_from_path(const std::filesystem::path& path) noexcept {
  auto ext = path.extension().string();
  if (ext.size() < 2) return std::nullopt;
  return parse_format(std::string_view(ext).substr(1));
}

namespace detail {

cv::Mat to_8bit(const cv::Mat& pixels) {
  if (pixels.depth() == CV_8U) return pixels;
  cv::Mat out;
  pixels.convertTo(out, CV_8U, 1.0 / 257.0);
  return out;
}

cv::Mat flatten_alpha(const cv::Mat& pixels, const std::uint8_t background[3]) {
  const int cn = pixels.channels();
  if (cn != 2 && cn != 4) return pixels;
  const double max = pixels.depth() == CV_16U ? 65535.0 : 255.0;
  const double scale = max / 255.0;
  std::vector<cv::Mat> planes;
  cv::split(pixels, planes);
  cv::Mat alpha;
  planes.back().convertTo(alpha, CV_32F, 1.0 / max);
  cv::Mat inverse = 1.0 - alpha;
  std::vector<cv::Mat> colour(planes.begin(), planes.end() - 1);
  const bool grey = colour.size() == 1;
  for (std::size_t c = 0; c < colour.size(); ++c) {
    cv::Mat plane;
    colour[c].convertTo(plane, CV_32F);
    double bg = grey ? (background[0] + background[1] + background[2]) / 3.0 : background[c];
    plane = plane.mul(alpha) + inverse * (bg * scale);
    plane.convertTo(colour[c], pixels.depth());
  }
  cv::Mat out;
  cv::merge(colour, out);
  return out;
}

// A libvips image over the Mat's memory (no copy); the Mat must outlive it.
VipsRef wrap_for_vips(const cv::Mat& continuous) {
  ensure_vips();
  const bool sixteen = continuous.depth() == CV_16U;
  VipsRef image(vips_image_new_from_memory(
      continuous.data, continuous.total() * continuous.elemSize(), continuous.cols,
      continuous.rows, continuous.channels(), sixteen ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR));
  if (!image) throw Error(ErrorCategory::internal, take_vips_error());
  const int colour = continuous.channels() >= 3 ? 3 : 1;
  auto interpretation = colour == 3 ? (sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
                                    : (sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W);
  image.get()->Type = interpretation;
  return image;
}

std::vector<std::uint8_t> take_buffer(void* buffer, std::size_t size) {
  const auto* bytes = static_cast<const std::uint8_t*>(buffer);
  std::vector<std::uint8_t> out(bytes, bytes + size);
  g_free(buffer);
  return out;
}

namespace {

void attach_metadata(VipsImage* image, const Image& source, bool keep) {
  if (!keep) return;
  const auto exif = exif_for_output(source);
  if (!exif.empty()) vips_image_set_blob_copy(image, VIPS_META_EXIF_NAME, exif.data(), exif.size());
  if (!source.icc.empty())
    vips_image_set_blob_copy(image, VIPS_META_ICC_NAME, source.icc.data(), source.icc.size());
  // Pixels loaded with auto_orient off are still stored rotated: the tag must say so.
  vips_image_set_int(image, VIPS_META_ORIENTATION, std::clamp(source.orientation, 1, 8));
}

// Runs one of libvips's buffer savers on the pixels, with the image's metadata when kept.
template <class Saver>
std::vector<std::uint8_t> save_with_vips(const cv::Mat& pixels, const Image& image,
                                         const SaveOptions& options, const char* format, Saver&& saver) {
  const cv::Mat continuous = pixels.isContinuous() ? pixels : pixels.clone();
  VipsRef vimage = wrap_for_vips(continuous);
  attach_metadata(vimage.get(), image, options.keep_metadata);
  void* buffer = nullptr;
  std::size_t size = 0;
  if (saver(vimage.get(), &buffer, &size))
    throw Error(ErrorCategory::io, fmt::format("{} encode failed: {}", format, take_vips_error()));
  return take_buffer(buffer, size);
}

std::vector<std::uint8_t> encode_jpeg(const Image& image, const SaveOptions& options) {
  const int quality = options.quality ? options.quality : 85;
  return save_with_vips(to_8bit(flatten_alpha(image.pixels, options.background)), image, options, "JPEG",
                        [&](VipsImage* in, void** buffer, std::size_t* size) {
                          return vips_jpegsave_buffer(in, buffer, size, "Q", quality, "interlace",
                                                      options.progressive ? TRUE : FALSE, "strip",
                                                      options.keep_metadata ? FALSE : TRUE, "optimize_coding",
                                                      TRUE, nullptr);
                        });
}

std::vector<std::uint8_t> encode_png_vips(const Image& image, const SaveOptions& options) {
  return save_with_vips(image.pixels, image, options, "PNG",
                        [&](VipsImage* in, void** buffer, std::size_t* size) {
                          return vips_pngsave_buffer(in, buffer, size, "compression", options.compression,
                                                     "strip", options.keep_metadata ? FALSE : TRUE,
                                                     "bitdepth", image.bit_depth(), nullptr);
                        });
}

}  // namespace

VipsForeignTiffCompression tiff_compression(const SaveOptions& options, bool sixteen_bit) {
  VipsForeignTiffCompression compression = VIPS_FOREIGN_TIFF_COMPRESSION_DEFLATE;
  if (options.tiff_compression == "none")
    compression = VIPS_FOREIGN_TIFF_COMPRESSION_NONE;
  else if (options.tiff_compression == "lzw")
    compression = VIPS_FOREIGN_TIFF_COMPRESSION_LZW;
  else if (options.tiff_compression == "jpeg")
    compression = VIPS_FOREIGN_TIFF_COMPRESSION_JPEG;
  else if (options.tiff_compression != "deflate")
    throw Error(ErrorCategory::config,
                fmt::format("tiff compression: expected one of none, deflate, lzw, jpeg, got \"{}\"",
                            options.tiff_compression));
  if (compression == VIPS_FOREIGN_TIFF_COMPRESSION_JPEG && sixteen_bit)
    throw Error(ErrorCategory::unsupported, "TIFF with JPEG compression cannot hold 16-bit pixels");
  return compression;
}

namespace {

std::vector<std::uint8_t> encode_tiff(const Image& image, const SaveOptions& options) {
  const VipsForeignTiffCompression compression = tiff_compression(options, image.bit_depth() == 16);
  return save_with_vips(image.pixels, image, options, "TIFF",
                        [&](VipsImage* in, void** buffer, std::size_t* size) {
                          return vips_tiffsave_buffer(in, buffer, size, "compression", compression, "strip",
                                                      options.keep_metadata ? FALSE : TRUE, nullptr);
                        });
}

}  // namespace
}  // namespace detail

namespace {

// libvips ignores an out-of-range setting (GLib only logs a warning) and libwebp reports a
// bare failure; either way the caller would not learn which setting was wrong.
void check_settings(const SaveOptions& options) {
  const auto format = to_string(options.format);
  auto check = [&](const char* name, int value, int low, int high, const char* note) {
    if (value < low || value > high)
      throw Error(ErrorCategory::config,
                  fmt::format("{} {}: expected {}..{}{}, got {}", format, name, low, high, note, value));
  };
  check("quality", options.quality, 0, 100, " (0 = the format's default)");
  check("compression", options.compression, 0, 9, "");
  check("near_lossless", options.near_lossless, 0, 100, "");
  check("alpha_quality", options.alpha_quality, 0, 100, "");
  check("method", options.method, -1, 6, " (-1 = from the quality preset)");
}

}  // namespace

std::vector<std::uint8_t> encode(const Image& image, const SaveOptions& options,
                                 QualityPreset preset) {
  if (image.empty()) throw Error(ErrorCategory::internal, "encode: the image is empty");
  check_settings(options);
  switch (options.format) {
    case Format::jpeg: return detail::encode_jpeg(image, options);
    case Format::png:
      // The shared-index writer carries no metadata: kept metadata takes the libpng path.
      if (options.allow_indexed && image.indexed && !options.keep_metadata)
        return detail::encode_png_from_indices(*image.indexed, options);
      if (options.allow_indexed)
        if (auto indexed = detail::encode_png_indexed(image, options)) return std::move(*indexed);
      return detail::encode_png_vips(image, options);
    case Format::webp: return detail::encode_webp(image, options, preset);
    case Format::tiff: return detail::encode_tiff(image, options);
  }
  throw Error(ErrorCategory::internal, "encode: unknown format");
}

void save(const Image& image, const std::filesystem::path& path, const SaveOptions& options,
          QualityPreset preset) {
  auto bytes = encode(image, options, preset);
  write_file_atomic(path, bytes, options.fsync);
}

}  // namespace imgpipe
