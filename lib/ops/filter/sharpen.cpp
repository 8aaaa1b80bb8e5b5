// sharpen: unsharp mask. out = in + amount * (in - blur(in, radius)) wherever
// |in - blur| > threshold (as a fraction of full scale), computed in float on premultiplied
// alpha so that transparent edges do not halo. Alpha itself is not sharpened.

#include <imgpipe/kernels/filter.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"
#include "gaussian.hpp"

namespace imgpipe::kernels {

namespace {

// 8-bit pixels without alpha and without a threshold. Up to amount 1 and radius 3 the blur is
// OpenCV's own 8-bit Gaussian (fixed point, rounded to whole levels; within one level of the
// exact blur): the result, x + amount (x - blur), then stays within one level of the exact
// unsharp mask, and that blur is three times as fast as the 16-bit one on whole images.
// Larger amounts magnify the blur's rounding, so they blur in 16 bits
// (gaussian_blur_8bit_scaled), keeping 1/256 of a level. Then one weighted sum back to 8 bits.
bool sharpen_8bit(cv::InputArray src, cv::OutputArray dst, const SharpenOptions& options) {
  if (!ops::takes_8bit_path(src) || options.threshold > 0) return false;
  const cv::Mat in = src.getMat();
  if (options.amount <= 1.0 && options.radius <= 3.0) {
    cv::Mat blurred;
    ops::gaussian_blur_8bit(in, blurred, options.radius);
    cv::addWeighted(in, 1.0 + options.amount, blurred, -options.amount, 0.0, dst, CV_8U);
    return true;
  }
  cv::Mat scaled, blurred;
  ops::gaussian_blur_8bit_scaled(in, options.radius, scaled, blurred);
  cv::addWeighted(scaled, (1.0 + options.amount) / 256.0, blurred, -options.amount / 256.0, 0.0, dst, CV_8U);
  return true;
}

}  // namespace

void sharpen(cv::InputArray src, cv::OutputArray dst, const SharpenOptions& options) {
  if (sharpen_8bit(src, dst, options)) return;
  const double threshold = options.threshold * ops::max_value(src);
  const bool alpha = ops::has_alpha(src);
  ops::filter_premultiplied(src, dst, [&](cv::InputArray in, cv::OutputArray out) {
    ops::with_kind(in, [&](auto original) {
      using Array = decltype(original);
      Array detail, magnitude, keep;
      ops::gaussian_blur_float(original, detail, options.radius);
      cv::subtract(original, detail, detail);
      if (threshold > 0) {
        // Zero the detail where it is below the threshold, sample by sample.
        cv::absdiff(detail, cv::Scalar::all(0), magnitude);
        cv::threshold(magnitude, keep, threshold, 1.0, cv::THRESH_BINARY);
        cv::multiply(detail, keep, detail);
      }
      // Negative results need no clamp: the conversion back to integers saturates them.
      cv::scaleAdd(detail, options.amount, original, out);
      if (alpha) {  // alpha is not sharpened
        Array sharpened = ops::as_kind<Array>(out);
        const int last = original.channels() - 1, from_to[] = {last, last};
        cv::mixChannels(original, sharpened, from_to, 1);
      }
    });
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Sharpen final : public Operation {
 public:
  explicit Sharpen(const Params& p)
      : options_{
            .amount = p.number("amount"), .radius = p.number("radius"), .threshold = p.number("threshold")} {}

  int halo() const override { return gaussian_radius(options_.radius); }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::sharpen(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int, int, QualityPreset) const override {
    return device == Device::opencl || device == Device::cuda;
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    if (image.device == Device::opencl)
      return on_umat(image,
                     [&](cv::InputArray in, cv::OutputArray out) { kernels::sharpen(in, out, options_); });
    on_cuda_same(image, "sharpen", [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
      return api.sharpen(context, in, out, options_.amount, options_.radius, options_.threshold);
    });
  }

 private:
  kernels::SharpenOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(sharpen) {
  registry.add(OpDescriptor{
      .name = "sharpen",
      .family = "filter",
      .summary =
          "Unsharp mask: add back amount times the detail lost by a Gaussian blur of the given radius.",
      .footprint = Footprint::neighbourhood,
      .params =
          {
              spec::number("amount", 1.0, 0, 10, "Strength: 0 does nothing, 1 adds the detail once."),
              spec::number("radius", 1.0, 0.1, 100,
                           "Sigma of the Gaussian that separates detail from the rest, in pixels."),
              spec::number(
                  "threshold", 0.0, 0, 1,
                  "Leave detail smaller than this fraction of full scale alone (avoids sharpening noise)."),
          },
      .examples =
          {
              {{"amount", 0.3}, {"radius", 1.0}},
              {{"amount", 1.5}, {"radius", 2.0}, {"threshold", 0.02}},
          },
      .create = [](const Params& p) { return std::make_unique<Sharpen>(p); },
  });
}

}  // namespace imgpipe::ops
