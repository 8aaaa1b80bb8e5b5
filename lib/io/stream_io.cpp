// Streamed input and output: the lazy libvips forms of load() and save().

#include <fmt/format.h>

#include <imgpipe/error.hpp>

#include "atomic_file.hpp"
#include "encoders.hpp"
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
Image materialise(VipsImage* image, const fs::path& output) {
  Image out(compute_pixels(image));
  if (out.empty()) fail(ErrorCategory::io, output, take_vips_error("the pipeline failed"));
  out.exif = get_blob(image, VIPS_META_EXIF_NAME);
  out.icc = get_blob(image, VIPS_META_ICC_NAME);
  return out;
}

}  // namespace

void save_streamed(VipsImage* image, const fs::path& output, const SaveOptions& options,
                   QualityPreset preset) {
  AtomicFile file(output);
  if (options.format == Format::webp) {
    file.write(encode_webp(materialise(image, output), options, preset));
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
