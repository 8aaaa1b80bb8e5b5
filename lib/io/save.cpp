// Encoding: one encoder per format. In memory, JPEG goes through libjpeg-turbo
// (jpeg_encode.cpp), WebP through libwebp, PNG through libpng (png_write.cpp), SVG from the
// image's vector graphics, and TIFF from the pixels wrapped for libvips without a copy into a
// memory target. Streamed outputs go from the lazy libvips pipeline to a libvips
// target on the atomic file's descriptor (save_to_target: JPEG and TIFF), or as rows through
// the same libpng writer (PNG). Every file is written through detail::AtomicFile.

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "encoders.hpp"
#include "exif.hpp"
#include "vips_io.hpp"

namespace imgpipe {

using detail::VipsRef;

std::string_view to_string(Format format) noexcept {
  switch (format) {
    case Format::jpeg: return "jpeg";
    case Format::png: return "png";
    case Format::webp: return "webp";
    case Format::tiff: return "tiff";
    case Format::svg: return "svg";
  }
  return "png";
}

std::string_view extension_of(Format format) noexcept {
  switch (format) {
    case Format::jpeg: return "jpg";
    case Format::tiff: return "tif";
    default: return to_string(format);
  }
}

namespace {

// Whether a file name extension (".bmp") names an image format, imgpipe's or another's: a
// name that says one format while the bytes are another is refused; a name that says none
// (".img", ".out") takes the format set.
bool names_image_format(std::string extension) {
  static const std::set<std::string, std::less<>> known = {
      ".jpg", ".jpeg", ".jpe",  ".jfif", ".png",  ".webp", ".tif", ".tiff", ".svg", ".svgz", ".gif",
      ".bmp", ".dib",  ".avif", ".heic", ".heif", ".jxl",  ".jp2", ".j2k",  ".ico", ".ppm",  ".pgm",
      ".pbm", ".pnm",  ".pam",  ".pfm",  ".hdr",  ".exr",  ".psd", ".tga",  ".dng", ".pdf",  ".eps"};
  for (auto& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return known.count(extension) > 0;
}

}  // namespace

Format resolve_output_format(const std::filesystem::path& target, std::optional<Format> set,
                             std::string_view origin) {
  const std::string name = target.string();
  const std::string extension = name == "-" ? std::string() : target.extension().string();
  const std::optional<Format> by_name = format_from_path(target);
  if (set) {
    if (names_image_format(extension) && by_name != set)
      throw Error(ErrorCategory::config,
                  fmt::format("{}: the name's extension {} does not match {} {}; use a .{} name or change {}",
                              name, extension, origin, to_string(*set), extension_of(*set), origin));
    return *set;
  }
  if (by_name) return *by_name;
  if (name == "-")
    throw Error(ErrorCategory::config,
                "writing to stdout (-) needs an output format: --format, IMGPIPE_FORMAT or output.format");
  throw Error(ErrorCategory::config,
              fmt::format("{}: cannot tell the output format from the name: use a .jpg, .png, .webp, .tif or "
                          ".svg name, or set {}",
                          name, origin));
}

std::optional<Format> parse_format(std::string_view name) noexcept {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "jpeg" || lower == "jpg") return Format::jpeg;
  if (lower == "png") return Format::png;
  if (lower == "webp") return Format::webp;
  if (lower == "tiff" || lower == "tif") return Format::tiff;
  if (lower == "svg") return Format::svg;
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

// A libvips image over the Mat's memory (no copy); the Mat must outlive it.
VipsRef wrap_for_vips(const cv::Mat& continuous) {
  ensure_vips();
  const bool sixteen = continuous.depth() == CV_16U;
  VipsRef image(vips_image_new_from_memory(continuous.data, continuous.total() * continuous.elemSize(),
                                           continuous.cols, continuous.rows, continuous.channels(),
                                           sixteen ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR));
  if (!image) throw Error(ErrorCategory::internal, take_vips_error());
  const int colour = continuous.channels() >= 3 ? 3 : 1;
  auto interpretation = colour == 3 ? (sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
                                    : (sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W);
  image.get()->Type = interpretation;
  return image;
}

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

VipsRef to_8bit(VipsRef image) {
  if (!image || image.get()->BandFmt == VIPS_FORMAT_UCHAR) return image;
  VipsRef out;
  // libvips's uchar output truncates; half a level first makes it round, as convertTo does.
  if (vips_linear1(image.get(), out.out(), 1.0 / 257.0, 0.5, "uchar", TRUE, nullptr)) return {};
  out.get()->Type = image.get()->Bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
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

bool has_alpha(VipsImage* image) {
  return image->Bands == 2 || image->Bands == 4;
}

// Alpha composited onto the options' background (JPEG has no alpha).
VipsRef flatten(VipsRef image, const SaveOptions& options) {
  if (!has_alpha(image.get())) return image;
  const double max = image.get()->BandFmt == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
  const double scale = max / 255.0;
  double background[3];
  for (int c = 0; c < 3; ++c) background[c] = options.background[c] * scale;
  if (image.get()->Bands == 2) background[0] = (background[0] + background[1] + background[2]) / 3.0;
  VipsArrayDouble* colour = vips_array_double_new(background, image.get()->Bands - 1);
  VipsRef flat;
  const int rc = vips_flatten(image.get(), flat.out(), "background", colour, "max_alpha", max, nullptr);
  vips_area_unref(VIPS_AREA(colour));
  if (rc) return {};
  return flat;
}

}  // namespace

int save_to_target(VipsImage* image, VipsTarget* target, const SaveOptions& options, bool whole) {
  const auto strip = options.keep_metadata ? FALSE : TRUE;
  switch (options.format) {
    case Format::jpeg: {
      g_object_ref(image);
      VipsRef flat = to_8bit(flatten(VipsRef(image), options));
      if (!flat) return -1;
      // Optimised Huffman tables need statistics over the whole image's DCT coefficients (2
      // bytes a sample held at once), which a streamed output must not hold: its file comes
      // out a few per cent larger, with the same pixels.
      return vips_jpegsave_target(flat.get(), target, "Q", options.quality ? options.quality : 85,
                                  "interlace", options.progressive ? TRUE : FALSE, "strip", strip,
                                  "optimize_coding", whole ? TRUE : FALSE, nullptr);
    }
    case Format::tiff:
      return vips_tiffsave_target(image, target, "compression",
                                  tiff_compression(options, image->BandFmt == VIPS_FORMAT_USHORT), "strip",
                                  strip, nullptr);
    case Format::png:
    case Format::webp:
    case Format::svg: break;
  }
  throw Error(ErrorCategory::internal, fmt::format("no libvips encoder for {}", to_string(options.format)));
}

namespace {

// The pixels through save_to_target into memory, with the image's metadata when kept.
std::vector<std::uint8_t> save_with_vips(const Image& image, const SaveOptions& options) {
  const cv::Mat continuous = image.pixels.isContinuous() ? image.pixels : image.pixels.clone();
  VipsRef vimage = wrap_for_vips(continuous);
  // The source's resolution, as a streamed output (whose pipeline carries it) writes it.
  if (image.xres > 0 && image.yres > 0) {
    vimage.get()->Xres = image.xres;
    vimage.get()->Yres = image.yres;
  }
  if (!image.resolution_unit.empty())
    vips_image_set_string(vimage.get(), "resolution-unit", image.resolution_unit.c_str());
  attach_metadata(vimage.get(), image, options.keep_metadata);
  GRef<VipsTarget> target(vips_target_new_to_memory());
  if (save_to_target(vimage.get(), target.get(), options, true))
    throw Error(ErrorCategory::io,
                fmt::format("{} encode failed: {}", to_string(options.format), take_vips_error()));
  // An ended memory target holds its bytes as the "blob" property (as the *_buffer savers
  // read them).
  VipsBlob* blob = nullptr;
  g_object_get(target.get(), "blob", &blob, nullptr);
  if (!blob)
    throw Error(ErrorCategory::internal, fmt::format("{} encode gave no bytes", to_string(options.format)));
  std::size_t size = 0;
  const auto* data = static_cast<const std::uint8_t*>(vips_blob_get(blob, &size));
  std::vector<std::uint8_t> bytes(data, data + size);
  vips_area_unref(VIPS_AREA(blob));
  return bytes;
}

std::vector<std::uint8_t> encode_svg(const Image& image) {
  if (!image.vector)
    throw Error(ErrorCategory::unsupported,
                "SVG output needs vector graphics: end the chain with a vectorize step (steps after it make "
                "pixels again)");
  const std::string text = image.vector->svg();
  return {text.begin(), text.end()};
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

std::vector<std::uint8_t> encode(const Image& image, const SaveOptions& options, QualityPreset preset) {
  // An image may hold only indices and a table (Context::indexed_output): written as such.
  if (image.empty() && !(image.indexed && options.format == Format::png))
    throw Error(ErrorCategory::internal, "encode: the image is empty");
  check_settings(options);
  switch (options.format) {
    case Format::png:
      // The shared-index writer carries no metadata: kept metadata takes the libpng path.
      if (options.allow_indexed && image.indexed && !options.keep_metadata)
        return detail::encode_png_from_indices(*image.indexed, options);
      if (options.allow_indexed)
        if (auto indexed = detail::encode_png_indexed(image, options)) return std::move(*indexed);
      return detail::encode_png_truecolour(image, options);
    case Format::jpeg: return detail::encode_jpeg(image, options);
    case Format::tiff: return detail::save_with_vips(image, options);
    case Format::webp: return detail::encode_webp(image, options, preset);
    case Format::svg: return detail::encode_svg(image);
  }
  throw Error(ErrorCategory::internal, "encode: unknown format");
}

void save(const Image& image, const std::filesystem::path& path, const SaveOptions& options,
          QualityPreset preset) {
  auto bytes = encode(image, options, preset);
  write_file_atomic(path, bytes, options.fsync);
}

}  // namespace imgpipe
