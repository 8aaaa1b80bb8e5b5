// Streamed input and output: the lazy libvips forms of load() and save().

#include <fmt/format.h>

#include <exception>
#include <imgpipe/error.hpp>

#include "atomic_file.hpp"
#include "encoders.hpp"
#include "exif.hpp"
#include "vips_io.hpp"

namespace imgpipe::detail {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(ErrorCategory category, const fs::path& file, const std::string& what) {
  throw Error(category, fmt::format("{}: {}", file.string(), what));
}

}  // namespace

cv::Mat thumbnail(const fs::path& path, cv::Size size, int type) {
  VipsRef shrunk;
  if (vips_thumbnail(path.c_str(), shrunk.out(), size.width, "height", size.height, "size", VIPS_SIZE_FORCE,
                     nullptr))
    fail(ErrorCategory::decode, path, take_vips_error("cannot make the analysis thumbnail"));
  VipsRef image = to_srgb(std::move(shrunk), path.string());
  const bool sixteen = vips_image_get_format(image.get()) == VIPS_FORMAT_USHORT;
  if (CV_MAT_DEPTH(type) == CV_8U && sixteen) {
    image = to_8bit(std::move(image));
  } else if (CV_MAT_DEPTH(type) == CV_16U && !sixteen) {
    VipsRef scaled, wide;
    if (vips_linear1(image.get(), scaled.out(), 257.0, 0.0, nullptr) ||
        vips_cast_ushort(scaled.get(), wide.out(), nullptr))
      wide = VipsRef();
    image = std::move(wide);
  }
  if (!image) fail(ErrorCategory::decode, path, take_vips_error("analysis thumbnail"));
  if (vips_image_get_bands(image.get()) != CV_MAT_CN(type))
    fail(ErrorCategory::internal, path,
         fmt::format("the analysis thumbnail has {} bands where the image has {}",
                     vips_image_get_bands(image.get()), CV_MAT_CN(type)));
  cv::Mat pixels = compute_pixels(image.get());
  if (pixels.empty()) fail(ErrorCategory::decode, path, take_vips_error("analysis thumbnail"));
  return pixels;
}

namespace {

// The whole lazy image computed into memory, with the metadata save() would write.
// The metadata save() would write, from the pipeline: its EXIF and ICC. (Where metadata is
// kept the stream has set the pipeline's orientation to 1, which is Image's default.)
Image metadata_of(VipsImage* image) {
  Image out;
  out.exif = get_blob(image, VIPS_META_EXIF_NAME);
  out.icc = get_blob(image, VIPS_META_ICC_NAME);
  return out;
}

Image materialise(VipsImage* image, const fs::path& output) {
  Image out = metadata_of(image);
  out.pixels = compute_pixels(image);
  if (out.empty()) fail(ErrorCategory::io, output, take_vips_error("the pipeline failed"));
  return out;
}

// PNG through the same libpng writer as in memory (the same bytes), fed the pipeline's rows in
// order as libvips's sink_disc computes them, strip by strip.
void save_png_streamed(VipsImage* image, AtomicFile& file, const SaveOptions& options,
                       const fs::path& output) {
  const VipsBandFormat format = vips_image_get_format(image);
  if (format != VIPS_FORMAT_UCHAR && format != VIPS_FORMAT_USHORT)
    fail(ErrorCategory::internal, output, "PNG output needs 8- or 16-bit samples");
  const Image metadata = options.keep_metadata ? metadata_of(image) : Image{};
  const std::vector<std::uint8_t> exif =
      options.keep_metadata ? exif_for_output(metadata) : std::vector<std::uint8_t>{};
  struct Rows {
    PngRows png;
    std::exception_ptr error;
  } rows{{[&](std::span<const std::uint8_t> bytes) { file.write(bytes); },
          {vips_image_get_width(image), vips_image_get_height(image)},
          CV_MAKETYPE(format == VIPS_FORMAT_USHORT ? CV_16U : CV_8U, vips_image_get_bands(image)),
          options,
          {exif, metadata.icc},
          vips_image_get_xres(image),
          vips_image_get_yres(image)},
         nullptr};
  const auto write = [](VipsRegion* region, VipsRect* area, void* a) -> int {
    auto* r = static_cast<Rows*>(a);
    try {  // nothing may be thrown through libvips
      for (int y = area->top; y < area->top + area->height; ++y)
        r->png.write(reinterpret_cast<const std::uint8_t*>(VIPS_REGION_ADDR(region, area->left, y)));
    } catch (...) {
      r->error = std::current_exception();
      return -1;
    }
    return 0;
  };
  const int rc = vips_sink_disc(image, write, &rows);
  if (rows.error) std::rethrow_exception(rows.error);
  if (rc) fail(ErrorCategory::io, output, take_vips_error("the pipeline failed"));
}

}  // namespace

void save_streamed(VipsImage* image, const fs::path& output, const SaveOptions& options,
                   QualityPreset preset) {
  AtomicFile file(output);
  if (options.format == Format::webp) {
    file.write(encode_webp(materialise(image, output), options, preset));
  } else if (options.format == Format::png) {
    save_png_streamed(image, file, options, output);
  } else if (options.format == Format::svg) {
    fail(ErrorCategory::unsupported, output,
         "SVG output needs the whole image (vectorize); it cannot stream");
  } else {
    GRef<VipsTarget> target(vips_target_new_to_descriptor(file.fd()));
    if (!target) fail(ErrorCategory::io, output, take_vips_error("cannot write"));
    if (save_to_target(image, target.get(), options, false) || vips_target_end(target.get()))
      fail(ErrorCategory::io, output, take_vips_error("the encoder failed"));
  }
  file.commit(options.fsync);
}

}  // namespace imgpipe::detail
