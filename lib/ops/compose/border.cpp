// border: add a solid border (per side if wanted), or extend the edge pixels outwards.

#include <imgpipe/kernels/compose.hpp>
#include <opencv2/core.hpp>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

void border(cv::InputArray src, cv::OutputArray dst, const BorderOptions& options) {
  const bool solid = options.mode == BorderMode::colour;
  // Isolated: a region of a larger image is extended from its own edges, not its neighbours'.
  const int type = solid                                   ? cv::BORDER_CONSTANT
                   : options.mode == BorderMode::replicate ? cv::BORDER_REPLICATE | cv::BORDER_ISOLATED
                                                           : cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED;
  ops::with_kind(src, [&](auto image) {
    decltype(image) storage;
    const auto& widened = solid ? ops::widened_for(image, storage, options.colour) : image;
    const cv::Scalar fill =
        solid ? ops::to_scalar(options.colour, widened.channels(), widened.depth()) : cv::Scalar();
    cv::copyMakeBorder(widened, dst, options.top, options.bottom, options.left, options.right, type, fill);
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Border final : public Operation {
 public:
  explicit Border(const Params& p) {
    const int size = static_cast<int>(p.integer("size"));
    auto side = [&](const char* name) {
      auto v = p.optional_integer(name);
      return v ? static_cast<int>(*v) : size;
    };
    const auto& mode = p.text("mode");
    options_ = {.top = side("top"),
                .right = side("right"),
                .bottom = side("bottom"),
                .left = side("left"),
                .mode = mode == "color"       ? kernels::BorderMode::colour
                        : mode == "replicate" ? kernels::BorderMode::replicate
                                              : kernels::BorderMode::mirror,
                .colour = p.colour("color")};
  }

  std::optional<cv::Size> output_size(cv::Size in) const override {
    return cv::Size(in.width + options_.left + options_.right, in.height + options_.top + options_.bottom);
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::border(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int, int, QualityPreset) const override { return device == Device::opencl; }

  void apply_on(DeviceImage& image, const Context&) const override {
    on_umat(image, [&](cv::InputArray in, cv::OutputArray out) { kernels::border(in, out, options_); });
  }

 private:
  kernels::BorderOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(border) {
  registry.add(OpDescriptor{
      .name = "border",
      .family = "compose",
      .summary = "Add a border of a colour, or extend the edges outwards.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("size", 10, 0, 10000, "Border width in pixels on every side not given below."),
              spec::integer("top", {}, 0, 10000, "Top border in pixels (default: size)."),
              spec::integer("right", {}, 0, 10000, "Right border in pixels (default: size)."),
              spec::integer("bottom", {}, 0, 10000, "Bottom border in pixels (default: size)."),
              spec::integer("left", {}, 0, 10000, "Left border in pixels (default: size)."),
              spec::colour("color", "white", "Border color for mode color (may be transparent)."),
              spec::choice("mode", "color", {"color", "replicate", "mirror"},
                           "color fills with `color`; replicate repeats the edge pixels; mirror reflects "
                           "the image."),
          },
      .examples =
          {
              {{"size", 20}, {"color", "white"}},
              {{"size", 8}, {"mode", "mirror"}},
              {{"size", 0}, {"bottom", 48}, {"color", "#202020"}},
          },
      .create = [](const Params& p) { return std::make_unique<Border>(p); },
  });
}

}  // namespace imgpipe::ops
