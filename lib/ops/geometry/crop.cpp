// crop: a rectangle of the image, placed explicitly or centred. A side not given reaches to
// the image's edge: `crop: {width: 100}` is a centred strip of full height.

#include <fmt/format.h>

#include <imgpipe/error.hpp>
#include <imgpipe/kernels/geometry.hpp>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../region_maps.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

// The rectangle a crop takes from an image of `image`, or "" and the reason it does not fit.
cv::Rect crop_rect(cv::Size image, const kernels::CropOptions& options, std::string& why) {
  // A side left 0 reaches from the offset (0 when unset) to the image's edge.
  const cv::Size size(options.size.width > 0 ? options.size.width : image.width - options.left.value_or(0),
                      options.size.height > 0 ? options.size.height : image.height - options.top.value_or(0));
  const cv::Rect region(options.left.value_or((image.width - size.width) / 2),
                        options.top.value_or((image.height - size.height) / 2), size.width, size.height);
  if (region.x < 0 || region.y < 0 || size.width <= 0 || size.height <= 0 ||
      region.x + size.width > image.width || region.y + size.height > image.height)
    why = fmt::format("region {}x{} at ({}, {}) does not fit in the {}x{} image", size.width, size.height,
                      region.x, region.y, image.width, image.height);
  return region;
}

}  // namespace

}  // namespace imgpipe::ops

namespace imgpipe::kernels {

void crop(cv::InputArray src, cv::OutputArray dst, const CropOptions& options) {
  std::string why;
  const cv::Rect region = ops::crop_rect(src.size(), options, why);
  if (!why.empty()) throw Error(ErrorCategory::config, "crop: " + why);
  ops::copy_region(src, dst, region);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Crop final : public Operation {
 public:
  explicit Crop(const Params& p) {
    options_.size = cv::Size(static_cast<int>(p.optional_integer("width").value_or(0)),
                             static_cast<int>(p.optional_integer("height").value_or(0)));
    if (auto left = p.optional_integer("left")) options_.left = static_cast<int>(*left);
    if (auto top = p.optional_integer("top")) options_.top = static_cast<int>(*top);
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    try {
      kernels::crop(input.pixels, out, options_);
    } catch (const Error& e) {
      throw Error(e.category(), fmt::format("{}: {}", input.source, e.what()));
    }
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int, int, QualityPreset) const override {
    return device == Device::opencl || device == Device::cuda;
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    if (image.device == Device::opencl)
      return on_umat(image,
                     [&](cv::InputArray in, cv::OutputArray out) { kernels::crop(in, out, options_); });
    std::string why;
    const cv::Rect rect = crop_rect(image.size(), options_, why);
    if (!why.empty()) throw Error(ErrorCategory::config, fmt::format("crop: {}", why));
    on_cuda(image, rect.size(), image.channels(), "crop",
            [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
              return api.crop(context, in, out, rect.x, rect.y);
            });
  }

  RegionMapping region_map(cv::Size input, QualityPreset) const override {
    std::string why;
    const cv::Rect rect = crop_rect(input, options_, why);
    if (!why.empty()) return {nullptr, why};
    return {crop_map(rect), {}};
  }

 private:
  kernels::CropOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(crop) {
  registry.add(OpDescriptor{
      .name = "crop",
      .family = "geometry",
      .summary = "Cut out a rectangle; without left/top it is centred.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("left", {}, 0, 65535, "Left edge in pixels; unset centres horizontally."),
              spec::integer("top", {}, 0, 65535, "Top edge in pixels; unset centres vertically."),
              spec::integer("width", {}, 1, 65535,
                            "Width of the rectangle in pixels; unset: to the right edge."),
              spec::integer("height", {}, 1, 65535,
                            "Height of the rectangle in pixels; unset: to the bottom edge."),
          },
      .examples =
          {
              {{"width", 96}, {"height", 96}},
              {{"left", 0}, {"top", 0}, {"width", 64}, {"height", 40}},
              {{"width", 100}},
          },
      .create = [](const Params& p) { return std::make_unique<Crop>(p); },
      .check = [](const Params& p) -> std::string {
        if (!p.has("width") && !p.has("height") && !p.has("left") && !p.has("top"))
          return "give width, height, left or top (a crop with none keeps the whole image)";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
