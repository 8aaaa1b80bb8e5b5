// flip: mirror horizontally, vertically or both. Exact.

#include <imgpipe/kernels/geometry.hpp>
#include <opencv2/core.hpp>

#include "../builtin.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

void flip(cv::InputArray src, cv::OutputArray dst, const FlipOptions& options) {
  // cv::flip's codes: 1 mirrors about the vertical axis, 0 about the horizontal, -1 both.
  const int code = options.direction == FlipDirection::horizontal ? 1
                   : options.direction == FlipDirection::vertical ? 0
                                                                  : -1;
  cv::flip(src, dst, code);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Flip final : public Operation {
 public:
  explicit Flip(const Params& p) {
    const auto& d = p.text("direction");
    options_.direction = d == "horizontal" ? kernels::FlipDirection::horizontal
                         : d == "vertical" ? kernels::FlipDirection::vertical
                                           : kernels::FlipDirection::both;
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::flip(input.pixels, out, options_);
    return input.with_pixels(out);
  }

 private:
  kernels::FlipOptions options_;
};

}  // namespace

void register_flip(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "flip",
      .family = "geometry",
      .summary = "Mirror the image: horizontal swaps left and right, vertical swaps top and bottom.",
      .footprint = Footprint::geometry,
      .params = {spec::choice("direction", "horizontal", {"horizontal", "vertical", "both"},
                              "Which way to mirror.")},
      .create = [](const Params& p) { return std::make_unique<Flip>(p); },
  });
}

}  // namespace imgpipe::ops
