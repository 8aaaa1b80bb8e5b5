// crop: a rectangle of the image, placed explicitly or centred.

#include <imgpipe/error.hpp>

#include <fmt/format.h>

#include "../builtin.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Crop final : public Operation {
 public:
  explicit Crop(const Params& p)
      : left_(p.optional_integer("left")),
        top_(p.optional_integer("top")),
        width_(static_cast<int>(p.integer("width"))),
        height_(static_cast<int>(p.integer("height"))) {}

  Image apply(const Image& input, const Context&) const override {
    const cv::Size size = input.pixels.size();
    const int left = left_ ? static_cast<int>(*left_) : (size.width - width_) / 2;
    const int top = top_ ? static_cast<int>(*top_) : (size.height - height_) / 2;
    if (left < 0 || top < 0 || left + width_ > size.width || top + height_ > size.height)
      throw Error(ErrorCategory::config,
                  fmt::format("{}: crop: region {}x{} at ({}, {}) does not fit in the {}x{} image",
                              input.source, width_, height_, left, top, size.width, size.height));
    return input.with_pixels(input.pixels(cv::Rect(left, top, width_, height_)).clone());
  }

 private:
  std::optional<std::int64_t> left_, top_;
  int width_, height_;
};

}  // namespace

void register_crop(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "crop",
      .family = "geometry",
      .summary = "Cut out a rectangle; without left/top it is centred.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("left", {}, 0, 65535, "Left edge in pixels; unset centres horizontally."),
              spec::integer("top", {}, 0, 65535, "Top edge in pixels; unset centres vertically."),
              spec::integer("width", 1, 1, 65535, "Width of the rectangle in pixels."),
              spec::integer("height", 1, 1, 65535, "Height of the rectangle in pixels."),
          },
      .create = [](const Params& p) { return std::make_unique<Crop>(p); },
  });
}

}  // namespace imgpipe::ops
