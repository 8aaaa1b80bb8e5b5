// edges: Canny edge map (8-bit, 0 or full scale) or Sobel gradient magnitude, on the luma.
// The result is grey (with the input's alpha kept). Canny needs 8-bit input, so 16-bit
// images are reduced for it and come out 8-bit; Sobel keeps 16-bit.

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Edges final : public Operation {
 public:
  explicit Edges(const Params& p)
      : method_(p.text("method")),
        low_(p.number("low")),
        high_(p.number("high")),
        aperture_(static_cast<int>(p.integer("aperture"))),
        scale_(p.number("scale")) {}

  int halo() const override { return aperture_ / 2 + (method_ == "canny" ? 1 : 0); }

  Image apply(const Image& input, const Context&) const override {
    const cv::Mat& src = input.pixels;
    cv::Mat grey;
    if (input.colour_channels() == 3) cv::cvtColor(src, grey, has_alpha(src) ? cv::COLOR_RGBA2GRAY : cv::COLOR_RGB2GRAY);
    else cv::extractChannel(src, grey, 0);
    cv::Mat edges;
    if (method_ == "canny") {
      cv::Mat grey8;
      if (grey.depth() == CV_16U) grey.convertTo(grey8, CV_8U, 1.0 / 257.0);
      else grey8 = grey;
      cv::Canny(grey8, edges, low_ * 255.0, high_ * 255.0, aperture_, true);
    } else {
      cv::Mat gx, gy, magnitude;
      cv::Sobel(grey, gx, CV_32F, 1, 0, aperture_, 1, 0, cv::BORDER_REFLECT_101);
      cv::Sobel(grey, gy, CV_32F, 0, 1, aperture_, 1, 0, cv::BORDER_REFLECT_101);
      cv::magnitude(gx, gy, magnitude);
      // Normalise by the kernel's response to a unit step, so a full-scale step maps to
      // full scale: half the derivative taps' absolute sum times the smoothing taps' sum.
      cv::Mat derivative, smoothing;
      cv::getDerivKernels(derivative, smoothing, 1, 0, aperture_, false, CV_32F);
      const double gain = cv::norm(derivative, cv::NORM_L1) / 2.0 * cv::sum(smoothing)[0];
      magnitude.convertTo(edges, grey.depth(), scale_ / gain);
    }
    if (has_alpha(src)) {
      cv::Mat alpha;
      cv::extractChannel(src, alpha, src.channels() - 1);
      if (alpha.depth() != edges.depth()) alpha.convertTo(alpha, edges.depth(), 1.0 / 257.0);
      cv::Mat planes[] = {edges, alpha};
      cv::merge(planes, 2, edges);
    }
    return input.with_pixels(edges);
  }

 private:
  std::string method_;
  double low_, high_;
  int aperture_;
  double scale_;
};

}  // namespace

void register_edges(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "edges",
      .family = "filter",
      .summary = "Edge map of the luma: Canny (thin binary edges) or Sobel (gradient magnitude).",
      .footprint = Footprint::neighbourhood,
      .params =
          {
              spec::choice("method", "canny", {"canny", "sobel"}, "Edge detector."),
              spec::number("low", 0.1, 0, 1, "Canny: lower hysteresis threshold, fraction of full scale."),
              spec::number("high", 0.3, 0, 1, "Canny: upper hysteresis threshold, fraction of full scale."),
              spec::integer("aperture", 3, 1, 7, "Sobel kernel size: 1, 3, 5 or 7 (Canny: 3, 5 or 7)."),
              spec::number("scale", 1.0, 0.01, 100, "Sobel: multiplier on the normalised gradient magnitude."),
          },
      .create = [](const Params& p) { return std::make_unique<Edges>(p); },
      .check =
          [](const Params& p) -> std::string {
        auto a = p.integer("aperture");
        if (a % 2 == 0) return "aperture: expected 1, 3, 5 or 7, got " + std::to_string(a);
        if (p.text("method") == "canny" && a == 1) return "aperture: Canny needs 3, 5 or 7";
        if (p.number("low") > p.number("high")) return "low must not be above high";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
