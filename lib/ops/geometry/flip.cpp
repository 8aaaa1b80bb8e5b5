// flip: mirror horizontally, vertically or both. Exact.

#include <opencv2/core.hpp>

#include "../builtin.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Flip final : public Operation {
 public:
  explicit Flip(const Params& p) {
    const auto& d = p.text("direction");
    code_ = d == "horizontal" ? 1 : d == "vertical" ? 0 : -1;
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    cv::flip(input.pixels, out, code_);
    return input.with_pixels(out);
  }

 private:
  int code_;  // cv::flip's: 1 around the vertical axis, 0 around the horizontal, -1 both
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
