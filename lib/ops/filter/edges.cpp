// edges: Canny edge map (8-bit, 0 or full scale) or Sobel gradient magnitude, on the luma.
// The result is grey (with the input's alpha kept). Canny needs 8-bit input, so 16-bit
// images are reduced for it and come out 8-bit; Sobel keeps 16-bit.

#include <algorithm>
#include <imgpipe/kernels/filter.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

template <typename Array>
void canny(const Array& grey, cv::OutputArray out, const EdgesOptions& options) {
  Array grey8 = grey;
  if (grey.depth() == CV_16U) grey.convertTo(grey8, CV_8U, 1.0 / 257.0);
  cv::Canny(grey8, out, options.low * 255.0, options.high * 255.0, options.aperture, true);
}

template <typename Array>
void sobel_magnitude(const Array& grey, cv::OutputArray out, const EdgesOptions& options) {
  Array gx, gy;
  cv::Sobel(grey, gx, CV_32F, 1, 0, options.aperture, 1, 0, cv::BORDER_REFLECT_101);
  cv::Sobel(grey, gy, CV_32F, 0, 1, options.aperture, 1, 0, cv::BORDER_REFLECT_101);
  cv::magnitude(gx, gy, gx);
  // Normalise by the kernel's response to a unit step, so a full-scale step maps to
  // full scale: half the derivative taps' absolute sum times the smoothing taps' sum.
  cv::Mat derivative, smoothing;
  cv::getDerivKernels(derivative, smoothing, 1, 0, options.aperture, false, CV_32F);
  const double gain = cv::norm(derivative, cv::NORM_L1) / 2.0 * cv::sum(smoothing)[0];
  gx.convertTo(out, grey.depth(), options.scale / gain);
}

}  // namespace

void edges(cv::InputArray src, cv::OutputArray dst, const EdgesOptions& options) {
  ops::with_kind(src, [&](auto input) {
    using Array = decltype(input);
    Array grey;
    if (ops::colour_channels(input) == 3)
      cv::cvtColor(input, grey, ops::has_alpha(input) ? cv::COLOR_RGBA2GRAY : cv::COLOR_RGB2GRAY);
    else
      cv::extractChannel(input, grey, 0);
    const auto detect = [&](cv::OutputArray out) {
      if (options.method == EdgeMethod::canny)
        canny(grey, out, options);
      else
        sobel_magnitude(grey, out, options);
    };
    if (!ops::has_alpha(input)) return detect(dst);
    Array map, alpha;
    detect(map);
    cv::extractChannel(input, alpha, input.channels() - 1);
    if (alpha.depth() != map.depth()) alpha.convertTo(alpha, map.depth(), 1.0 / 257.0);
    cv::merge(std::vector<Array>{map, alpha}, dst);
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Edges final : public Operation {
 public:
  explicit Edges(const Params& p)
      : options_{
            .method = p.text("method") == "canny" ? kernels::EdgeMethod::canny : kernels::EdgeMethod::sobel,
            .low = p.number("low"),
            .high = p.number("high"),
            .aperture = static_cast<int>(p.integer("aperture")),
            .scale = p.number("scale")} {}

  // Sobel's aperture 1 is a 3-tap derivative without smoothing, so it still reads one pixel
  // either side. Canny's hysteresis follows edges across the whole image: a weak edge pixel
  // is kept when a chain of weak pixels links it to a strong one however far away, so a part
  // of the image cannot be computed from a window around it.
  int halo() const override {
    if (options_.method == kernels::EdgeMethod::canny) return kUnboundedHalo;
    return std::max(1, options_.aperture / 2);
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::edges(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int, int, QualityPreset) const override { return device == Device::opencl; }

  void apply_on(DeviceImage& image, const Context&) const override {
    on_umat(image, [&](cv::InputArray in, cv::OutputArray out) { kernels::edges(in, out, options_); });
  }

 private:
  kernels::EdgesOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(edges) {
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
              spec::number("scale", 1.0, 0.01, 100,
                           "Sobel: multiplier on the normalised gradient magnitude."),
          },
      .examples =
          {
              {{"method", "canny"}, {"low", 0.1}, {"high", 0.3}},
              {{"method", "sobel"}, {"aperture", 3}, {"scale", 2.0}},
          },
      .create = [](const Params& p) { return std::make_unique<Edges>(p); },
      .check = [](const Params& p) -> std::string {
        auto a = p.integer("aperture");
        if (a % 2 == 0) return "aperture: expected 1, 3, 5 or 7, got " + std::to_string(a);
        if (p.text("method") == "canny" && a == 1) return "aperture: Canny needs 3, 5 or 7";
        if (p.number("low") > p.number("high")) return "low must not be above high";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
