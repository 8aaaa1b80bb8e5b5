// grayscale: luma from RGB with Rec. 709 (default) or Rec. 601 weights, or the plain mean.
// Alpha is kept (RGBA → grey + alpha). With keep_channels the grey is written to all three
// colour channels, for outputs that must stay RGB.

#include <array>
#include <cmath>

#include <opencv2/core.hpp>

#include "../builtin.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Grayscale final : public Operation {
 public:
  explicit Grayscale(const Params& p) : keep_channels_(p.boolean("keep_channels")) {
    const auto& w = p.text("weights");
    weights_ = w == "rec601" ? std::array<float, 3>{0.299f, 0.587f, 0.114f}
               : w == "average" ? std::array<float, 3>{1 / 3.0f, 1 / 3.0f, 1 / 3.0f}
                                : std::array<float, 3>{0.2126f, 0.7152f, 0.0722f};
  }

  Image apply(const Image& input, const Context&) const override {
    const cv::Mat& src = input.pixels;
    if (input.colour_channels() == 1) return input;
    const bool alpha = input.has_alpha();
    const int out_channels = (keep_channels_ ? 3 : 1) + (alpha ? 1 : 0);
    // cv::transform applies one row of weights per output channel; alpha passes through.
    cv::Mat m = cv::Mat::zeros(out_channels, src.channels(), CV_32F);
    for (int r = 0; r < (keep_channels_ ? 3 : 1); ++r)
      for (int c = 0; c < 3; ++c) m.at<float>(r, c) = weights_[static_cast<std::size_t>(c)];
    if (alpha) m.at<float>(out_channels - 1, 3) = 1.0f;
    cv::Mat out;
    cv::transform(src, out, m);
    return input.with_pixels(out);
  }

 private:
  std::array<float, 3> weights_{};
  bool keep_channels_;
};

}  // namespace

void register_grayscale(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "grayscale",
      .family = "colour",
      .summary = "Convert to grey (luma), keeping alpha.",
      .footprint = Footprint::point,
      .params =
          {
              spec::choice("weights", "rec709", {"rec709", "rec601", "average"},
                           "Luma weights: Rec. 709 (sRGB primaries), Rec. 601 (as OpenCV's COLOR_RGB2GRAY), or the plain mean."),
              spec::boolean("keep_channels", false, "Write the grey to three RGB channels instead of one."),
          },
      .create = [](const Params& p) { return std::make_unique<Grayscale>(p); },
  });
}

}  // namespace imgpipe::ops
