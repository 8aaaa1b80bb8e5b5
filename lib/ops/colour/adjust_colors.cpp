// adjust_colors: brightness, contrast, gamma (one tone curve per channel), then saturation
// and hue (one 3x3 matrix on RGB). A point operation: runs fused with its neighbours.
//
// On values v in 0..1 of the stored (sRGB-encoded) channels:
//   tone(v) = clamp(((v * brightness) - 0.5) * contrast + 0.5) ^ (1 / gamma)
// then rgb' = H(hue) * S(saturation) * rgb, the luminance-preserving saturation and hue
// rotation matrices of the W3C Filter Effects spec (feColorMatrix), Rec. 709 weights.

#include "adjust_colors.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <imgpipe/kernels/colour.hpp>

#include "../point_program.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

using Matrix = std::array<double, 9>;

Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix out{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c)
      for (int k = 0; k < 3; ++k) out[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return out;
}

Matrix saturation_matrix(double s) {
  return {0.2126 + 0.7874 * s, 0.7152 - 0.7152 * s, 0.0722 - 0.0722 * s,
          0.2126 - 0.2126 * s, 0.7152 + 0.2848 * s, 0.0722 - 0.0722 * s,
          0.2126 - 0.2126 * s, 0.7152 - 0.7152 * s, 0.0722 + 0.9278 * s};
}

Matrix hue_matrix(double degrees) {
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a);
  return {
      0.2126 + c * 0.7874 - s * 0.2126, 0.7152 - c * 0.7152 - s * 0.7152, 0.0722 - c * 0.0722 + s * 0.9278,
      0.2126 - c * 0.2126 + s * 0.143,  0.7152 + c * 0.2848 + s * 0.140,  0.0722 - c * 0.0722 - s * 0.283,
      0.2126 - c * 0.2126 - s * 0.7874, 0.7152 - c * 0.7152 + s * 0.7152, 0.0722 + c * 0.9278 + s * 0.0722};
}

}  // namespace

void append_stages(PointProgram& program, const kernels::AdjustColorsOptions& o) {
  if (o.brightness != 1 || o.contrast != 1 || o.gamma != 1) {
    const double b = o.brightness, c = o.contrast, inverse_gamma = 1.0 / o.gamma;
    program.add_curve(
        [=](double v) { return std::pow(std::clamp((v * b - 0.5) * c + 0.5, 0.0, 1.0), inverse_gamma); });
  }
  if (program.colour_channels() == 3 && (o.saturation != 1 || o.hue != 0))
    program.add_matrix(multiply(hue_matrix(o.hue), saturation_matrix(o.saturation)));
}

}  // namespace imgpipe::ops

namespace imgpipe::kernels {

void adjust_colors(cv::InputArray src, cv::OutputArray dst, const AdjustColorsOptions& options) {
  PointProgram program(src.channels(), src.depth());
  ops::append_stages(program, options);
  if (program.empty())
    src.copyTo(dst);
  else
    program.run(src, dst);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class AdjustColors final : public Operation {
 public:
  explicit AdjustColors(const Params& p)
      : options_{.brightness = p.number("brightness"),
                 .contrast = p.number("contrast"),
                 .gamma = p.number("gamma"),
                 .saturation = p.number("saturation"),
                 .hue = p.number("hue")} {}

  bool append_point_stages(PointProgram& program, int, int) const override {
    append_stages(program, options_);
    return true;
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::adjust_colors(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int channels, int depth, QualityPreset) const override {
    return (device == Device::opencl || device == Device::cuda) && program(channels, depth).runs_on(device);
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    const PointProgram p = program(image.channels(), image.depth());
    if (!p.empty()) p.run_on(image);
  }

 private:
  PointProgram program(int channels, int depth) const {
    PointProgram p(channels, depth);
    append_stages(p, options_);
    return p;
  }

  kernels::AdjustColorsOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(adjust_colors) {
  registry.add(OpDescriptor{
      .name = "adjust_colors",
      .family = "colour",
      .summary = "Brightness, contrast, gamma, saturation and hue in one pass (fused with neighbouring point "
                 "steps).",
      .footprint = Footprint::point,
      .params =
          {
              spec::number("brightness", 1.0, 0, 10,
                           "Multiplier on every channel; 1 leaves it, 1.1 is 10 % brighter."),
              spec::number("contrast", 1.0, 0, 10,
                           "Stretch around mid-grey; 1 leaves it, 0 makes everything mid-grey."),
              spec::number("gamma", 1.0, 0.01, 10,
                           "Gamma correction: v^(1/gamma); above 1 lightens the midtones."),
              spec::number("saturation", 1.0, 0, 10,
                           "Colour intensity; 0 is grey, 1 leaves it, 2 doubles it."),
              spec::number("hue", 0.0, -360, 360, "Hue rotation in degrees."),
          },
      .examples =
          {
              {{"brightness", 1.05}, {"contrast", 1.1}, {"saturation", 1.1}},
              {{"gamma", 1.4}},
              {{"saturation", 1.3}, {"hue", -25.0}},
          },
      .create = [](const Params& p) { return std::make_unique<AdjustColors>(p); },
  });
}

}  // namespace imgpipe::ops
