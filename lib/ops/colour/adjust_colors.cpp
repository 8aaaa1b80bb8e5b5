// adjust_colors: brightness, contrast, gamma (one tone curve per channel), then saturation
// and hue (one 3x3 matrix on RGB). A point operation: runs fused with its neighbours.
//
// On values v in 0..1 of the stored (sRGB-encoded) channels:
//   tone(v) = clamp(((v * brightness) - 0.5) * contrast + 0.5) ^ (1 / gamma)
// then rgb' = H(hue) * S(saturation) * rgb, the luminance-preserving saturation and hue
// rotation matrices of the W3C Filter Effects spec (feColorMatrix), Rec. 709 weights.

#include <array>
#include <cmath>

#include "../builtin.hpp"
#include "../point_program.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

using Matrix = std::array<float, 9>;

Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix out{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

Matrix saturation_matrix(double s) {
  const auto f = [](double v) { return static_cast<float>(v); };
  return {f(0.2126 + 0.7874 * s), f(0.7152 - 0.7152 * s), f(0.0722 - 0.0722 * s),
          f(0.2126 - 0.2126 * s), f(0.7152 + 0.2848 * s), f(0.0722 - 0.0722 * s),
          f(0.2126 - 0.2126 * s), f(0.7152 - 0.7152 * s), f(0.0722 + 0.9278 * s)};
}

Matrix hue_matrix(double degrees) {
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
  const auto f = [](double v) { return static_cast<float>(v); };
  return {f(0.2126 + c * 0.7874 - s * 0.2126), f(0.7152 - c * 0.7152 - s * 0.7152), f(0.0722 - c * 0.0722 + s * 0.9278),
          f(0.2126 - c * 0.2126 + s * 0.143),  f(0.7152 + c * 0.2848 + s * 0.140),  f(0.0722 - c * 0.0722 - s * 0.283),
          f(0.2126 - c * 0.2126 - s * 0.7874), f(0.7152 - c * 0.7152 + s * 0.7152), f(0.0722 + c * 0.9278 + s * 0.0722)};
}

class AdjustColors final : public Operation {
 public:
  explicit AdjustColors(const Params& p)
      : brightness_(p.number("brightness")),
        contrast_(p.number("contrast")),
        gamma_(p.number("gamma")),
        saturation_(p.number("saturation")),
        hue_(p.number("hue")) {}

  bool append_point_stages(PointProgram& program, int channels, int) const override {
    if (brightness_ != 1 || contrast_ != 1 || gamma_ != 1) {
      const double b = brightness_, c = contrast_, inverse_gamma = 1.0 / gamma_;
      program.add_curve([=](double v) {
        double t = std::clamp((v * b - 0.5) * c + 0.5, 0.0, 1.0);
        return std::pow(t, inverse_gamma);
      });
    }
    const int colour = channels == 2 || channels == 4 ? channels - 1 : channels;
    if (colour == 3 && (saturation_ != 1 || hue_ != 0))
      program.add_matrix(multiply(hue_matrix(hue_), saturation_matrix(saturation_)), {0, 0, 0});
    return true;
  }

  Image apply(const Image& input, const Context&) const override {
    PointProgram program(input.channels(), input.pixels.depth());
    append_point_stages(program, input.channels(), input.pixels.depth());
    if (program.empty()) return input;
    cv::Mat out;
    program.run(input.pixels, out);
    return input.with_pixels(out);
  }

 private:
  double brightness_, contrast_, gamma_, saturation_, hue_;
};

}  // namespace

void register_adjust_colors(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "adjust_colors",
      .family = "colour",
      .summary = "Brightness, contrast, gamma, saturation and hue in one pass (fused with neighbouring point steps).",
      .footprint = Footprint::point,
      .params =
          {
              spec::number("brightness", 1.0, 0, 10, "Multiplier on every channel; 1 leaves it, 1.1 is 10 % brighter."),
              spec::number("contrast", 1.0, 0, 10, "Stretch around mid-grey; 1 leaves it, 0 makes everything mid-grey."),
              spec::number("gamma", 1.0, 0.01, 10, "Gamma correction: v^(1/gamma); above 1 lightens the midtones."),
              spec::number("saturation", 1.0, 0, 10, "Colour intensity; 0 is grey, 1 leaves it, 2 doubles it."),
              spec::number("hue", 0.0, -360, 360, "Hue rotation in degrees."),
          },
      .create = [](const Params& p) { return std::make_unique<AdjustColors>(p); },
  });
}

}  // namespace imgpipe::ops
