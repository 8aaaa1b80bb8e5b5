// grayscale: luma from RGB with Rec. 709 (default) or Rec. 601 weights, or the plain mean.
// Alpha is kept (RGBA → grey + alpha). With keep_channels the grey is written to all three
// colour channels, for outputs that must stay RGB.

#include <array>
#include <imgpipe/kernels/colour.hpp>
#include <opencv2/core.hpp>
#include <vector>

#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

void grayscale(cv::InputArray src, cv::OutputArray dst, const GrayscaleOptions& options) {
  if (ops::colour_channels(src) == 1) return src.copyTo(dst);
  const bool alpha = ops::has_alpha(src);
  const std::array<float, 3> weights =
      options.weights == LumaWeights::rec601    ? std::array{0.299f, 0.587f, 0.114f}
      : options.weights == LumaWeights::average ? std::array{1 / 3.0f, 1 / 3.0f, 1 / 3.0f}
                                                : std::array{0.2126f, 0.7152f, 0.0722f};
  // One output channel: cv::transform's per-pixel path, the same at every position (its SIMD
  // path for 3 → 3 channels rounds the row's tail differently, so a tile would differ from the
  // whole image by one level). Copies of the grey and the untouched alpha are merged after.
  cv::Mat m = cv::Mat::zeros(1, src.channels(), CV_32F);
  for (int c = 0; c < 3; ++c) m.at<float>(0, c) = weights[static_cast<std::size_t>(c)];
  cv::Mat grey;
  cv::transform(src, grey, m);
  if (!options.keep_channels && !alpha) {
    dst.assign(grey);
    return;
  }
  std::vector<cv::Mat> planes(options.keep_channels ? 3 : 1, grey);
  if (alpha) {
    planes.emplace_back();
    cv::extractChannel(src, planes.back(), 3);
  }
  cv::merge(planes, dst);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Grayscale final : public Operation {
 public:
  explicit Grayscale(const Params& p) {
    const auto& w = p.text("weights");
    options_.weights = w == "rec601"    ? kernels::LumaWeights::rec601
                       : w == "average" ? kernels::LumaWeights::average
                                        : kernels::LumaWeights::rec709;
    options_.keep_channels = p.boolean("keep_channels");
  }

  Image apply(const Image& input, const Context&) const override {
    if (input.colour_channels() == 1) return input;
    cv::Mat out;
    kernels::grayscale(input.pixels, out, options_);
    return input.with_pixels(out);
  }

 private:
  kernels::GrayscaleOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(grayscale) {
  registry.add(OpDescriptor{
      .name = "grayscale",
      .family = "colour",
      .summary = "Convert to grey (luma), keeping alpha.",
      .footprint = Footprint::point,
      .params =
          {
              spec::choice("weights", "rec709", {"rec709", "rec601", "average"},
                           "Luma weights: Rec. 709 (sRGB primaries), Rec. 601 (as OpenCV's COLOR_RGB2GRAY), "
                           "or the plain mean."),
              spec::boolean("keep_channels", false, "Write the grey to three RGB channels instead of one."),
          },
      .examples = {{{"weights", "rec709"}}, {{"weights", "rec601"}, {"keep_channels", true}}},
      .create = [](const Params& p) { return std::make_unique<Grayscale>(p); },
  });
}

}  // namespace imgpipe::ops
