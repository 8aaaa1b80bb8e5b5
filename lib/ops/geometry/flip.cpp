// flip: mirror horizontally, vertically or both. Exact.

#include <imgpipe/kernels/geometry.hpp>
#include <opencv2/core.hpp>

#include "../device_ops.hpp"
#include "../register.hpp"
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

// A mirror reads the mirrored rectangle and mirrors it.
class FlipMap final : public RegionMap {
 public:
  FlipMap(cv::Size size, kernels::FlipDirection direction) : size_(size), direction_(direction) {}
  cv::Size output_size() const override { return size_; }
  cv::Rect input_rect(const cv::Rect& o) const override {
    cv::Rect in = o;
    if (direction_ != kernels::FlipDirection::vertical) in.x = size_.width - o.x - o.width;
    if (direction_ != kernels::FlipDirection::horizontal) in.y = size_.height - o.y - o.height;
    return in;
  }
  void compute(const cv::Mat& in, const cv::Rect&, cv::Mat& out) const override {
    kernels::flip(in, out, {.direction = direction_});
  }
  bool top_to_bottom() const override { return direction_ == kernels::FlipDirection::horizontal; }

 private:
  cv::Size size_;
  kernels::FlipDirection direction_;
};

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

  bool runs_on(Device device, int, int, QualityPreset) const override {
    return device == Device::opencl || device == Device::cuda;
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    if (image.device == Device::opencl)
      return on_umat(image,
                     [&](cv::InputArray in, cv::OutputArray out) { kernels::flip(in, out, options_); });
    const bool horizontal = options_.direction != kernels::FlipDirection::vertical;
    const bool vertical = options_.direction != kernels::FlipDirection::horizontal;
    on_cuda_same(image, "flip", [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
      return api.flip(context, in, out, horizontal, vertical);
    });
  }

  RegionMapping region_map(cv::Size input, QualityPreset) const override {
    return {std::make_shared<FlipMap>(input, options_.direction), {}};
  }

 private:
  kernels::FlipOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(flip) {
  registry.add(OpDescriptor{
      .name = "flip",
      .family = "geometry",
      .summary = "Mirror the image: horizontal swaps left and right, vertical swaps top and bottom.",
      .footprint = Footprint::geometry,
      .params = {spec::choice("direction", "horizontal", {"horizontal", "vertical", "both"},
                              "Which way to mirror.")},
      .examples = {{{"direction", "horizontal"}}, {{"direction", "vertical"}}},
      .create = [](const Params& p) { return std::make_unique<Flip>(p); },
  });
}

}  // namespace imgpipe::ops
