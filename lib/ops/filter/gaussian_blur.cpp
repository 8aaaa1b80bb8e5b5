// gaussian_blur: separable Gaussian of standard deviation sigma, kernel radius ceil(3 sigma),
// edges mirrored (BORDER_REFLECT_101), computed on premultiplied alpha.

#include <algorithm>
#include <cmath>
#include <imgpipe/kernels/filter.hpp>
#include <opencv2/imgproc.hpp>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"
#include "gaussian.hpp"

namespace imgpipe::ops {

int gaussian_radius(double sigma) {
  return std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
}

void separable_gaussian(const cv::Mat& src, cv::OutputArray dst, double sigma) {
  const int r = gaussian_radius(sigma);
  const cv::Mat kernel = cv::getGaussianKernel(2 * r + 1, sigma, std::max(src.depth(), CV_32F));
  cv::sepFilter2D(src, dst, src.depth(), kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
}

void gaussian_blur_float(cv::InputArray src, cv::OutputArray dst, double sigma) {
  // cv::GaussianBlur ends in sepFilter2D with these kernels for a float image — the same
  // pixels — after checks and set-up of its own that cost small regions a third more time. A
  // 16-bit image (sharpen's scaled path) keeps its bit-exact fixed-point path, a UMat OpenCL.
  if (src.isMat() && src.depth() == CV_32F) return separable_gaussian(src.getMat(), dst, sigma);
  const int r = gaussian_radius(sigma);
  cv::GaussianBlur(src, dst, cv::Size(2 * r + 1, 2 * r + 1), sigma, sigma, cv::BORDER_REFLECT_101);
}

void gaussian_blur_8bit_scaled(const cv::Mat& in, double sigma, cv::Mat& scaled, cv::Mat& blurred) {
  in.convertTo(scaled, CV_16U, 256.0);
  gaussian_blur_float(scaled, blurred, sigma);
}

void gaussian_blur_8bit(const cv::Mat& in, cv::Mat& out, double sigma) {
  const int r = gaussian_radius(sigma);
  // BORDER_ISOLATED: OpenCV takes its bit-exact path for a view only when told not to look
  // outside it (a region's halo is inside the view).
  cv::GaussianBlur(in, out, cv::Size(2 * r + 1, 2 * r + 1), sigma, sigma,
                   cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED);
}

bool takes_8bit_path(cv::InputArray src) {
  return src.depth() == CV_8U && !has_alpha(src) && src.isMat();
}

}  // namespace imgpipe::ops

namespace imgpipe::kernels {

void gaussian_blur(cv::InputArray src, cv::OutputArray dst, const GaussianBlurOptions& options) {
  // Opaque 8-bit images straight through sepFilter2D's 8-bit path, correctly rounded like the
  // float path (within half a level of the exact blur) without converting to float and back.
  if (ops::takes_8bit_path(src)) return ops::separable_gaussian(src.getMat(), dst, options.sigma);
  ops::filter_premultiplied(src, dst, [&](cv::InputArray in, cv::OutputArray out) {
    ops::gaussian_blur_float(in, out, options.sigma);
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class GaussianBlur final : public Operation {
 public:
  explicit GaussianBlur(const Params& p) : options_{.sigma = p.number("sigma")} {}

  int halo() const override { return gaussian_radius(options_.sigma); }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::gaussian_blur(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int, int, QualityPreset) const override {
    return device == Device::opencl || device == Device::cuda;
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    if (image.device == Device::opencl)
      return on_umat(
          image, [&](cv::InputArray in, cv::OutputArray out) { kernels::gaussian_blur(in, out, options_); });
    on_cuda_same(image, "gaussian_blur", [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
      return api.gaussian_blur(context, in, out, options_.sigma);
    });
  }

 private:
  kernels::GaussianBlurOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(gaussian_blur) {
  registry.add(OpDescriptor{
      .name = "gaussian_blur",
      .family = "filter",
      .summary = "Gaussian blur of standard deviation sigma (kernel radius ceil(3 sigma)).",
      .footprint = Footprint::neighbourhood,
      .params = {spec::number("sigma", 2.0, 0.1, 1000, "Standard deviation in pixels.")},
      .examples = {{{"sigma", 2.0}}, {{"sigma", 0.7}}},
      .create = [](const Params& p) { return std::make_unique<GaussianBlur>(p); },
  });
}

}  // namespace imgpipe::ops
