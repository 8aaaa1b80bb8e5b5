// gaussian_blur: separable Gaussian of standard deviation sigma, kernel radius ceil(3 sigma),
// edges mirrored (BORDER_REFLECT_101), computed on premultiplied alpha.

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

int gaussian_radius(double sigma) { return std::max(1, static_cast<int>(std::ceil(3.0 * sigma))); }

cv::Mat gaussian_blur_float(const cv::Mat& in, double sigma) {
  const int r = gaussian_radius(sigma);
  cv::Mat out;
  cv::GaussianBlur(in, out, cv::Size(2 * r + 1, 2 * r + 1), sigma, sigma, cv::BORDER_REFLECT_101);
  return out;
}

namespace {

class GaussianBlur final : public Operation {
 public:
  explicit GaussianBlur(const Params& p) : sigma_(p.number("sigma")) {}

  int halo() const override { return gaussian_radius(sigma_); }

  Image apply(const Image& input, const Context&) const override {
    return input.with_pixels(filter_premultiplied(
        input.pixels, [&](const cv::Mat& in) { return gaussian_blur_float(in, sigma_); }));
  }

 private:
  double sigma_;
};

}  // namespace

void register_gaussian_blur(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "gaussian_blur",
      .family = "filter",
      .summary = "Gaussian blur of standard deviation sigma (kernel radius ceil(3 sigma)).",
      .footprint = Footprint::neighbourhood,
      .params = {spec::number("sigma", 2.0, 0.1, 1000, "Standard deviation in pixels.")},
      .create = [](const Params& p) { return std::make_unique<GaussianBlur>(p); },
  });
}

}  // namespace imgpipe::ops
