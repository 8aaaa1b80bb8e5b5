// sharpen: unsharp mask. out = in + amount * (in - blur(in, radius)) wherever
// |in - blur| > threshold (as a fraction of full scale), computed in float on premultiplied
// alpha so that transparent edges do not halo. Alpha itself is not sharpened.

#include <cmath>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

int gaussian_radius(double sigma);
cv::Mat gaussian_blur_float(const cv::Mat& in, double sigma);

namespace {

class Sharpen final : public Operation {
 public:
  explicit Sharpen(const Params& p)
      : amount_(p.number("amount")), radius_(p.number("radius")), threshold_(p.number("threshold")) {}

  int halo() const override { return gaussian_radius(radius_); }

  Image apply(const Image& input, const Context&) const override {
    const double max = max_value(input.pixels);
    const int colour = input.colour_channels();
    return input.with_pixels(filter_premultiplied(input.pixels, [&](const cv::Mat& in) {
      cv::Mat blurred = gaussian_blur_float(in, radius_);
      cv::Mat detail = in - blurred;
      if (threshold_ > 0) {
        // Zero the detail where it is below the threshold, channel by channel.
        cv::Mat mask = cv::abs(detail) > threshold_ * max;
        cv::Mat keep;
        mask.convertTo(keep, CV_32F, 1.0 / 255.0);
        detail = detail.mul(keep);
      }
      cv::Mat out = in + detail * amount_;
      if (colour < in.channels()) {  // alpha is not sharpened
        const int from_to[] = {in.channels() - 1, in.channels() - 1};
        cv::mixChannels(&in, 1, &out, 1, from_to, 1);
      }
      cv::max(out, 0.0, out);
      return out;
    }));
  }

 private:
  double amount_, radius_, threshold_;
};

}  // namespace

void register_sharpen(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "sharpen",
      .family = "filter",
      .summary = "Unsharp mask: add back amount times the detail lost by a Gaussian blur of the given radius.",
      .footprint = Footprint::neighbourhood,
      .params =
          {
              spec::number("amount", 1.0, 0, 10, "Strength: 0 does nothing, 1 adds the detail once."),
              spec::number("radius", 1.0, 0.1, 100, "Sigma of the Gaussian that separates detail from the rest, in pixels."),
              spec::number("threshold", 0.0, 0, 1, "Leave detail smaller than this fraction of full scale alone (avoids sharpening noise)."),
          },
      .create = [](const Params& p) { return std::make_unique<Sharpen>(p); },
  });
}

}  // namespace imgpipe::ops
