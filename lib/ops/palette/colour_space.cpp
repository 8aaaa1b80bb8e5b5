// Exact sRGB ↔ CIE Lab (D65) for small colour sets (palettes, centres) and the table-driven
// converter for pixels. OpenCV's cvtColor is avoided on purpose: its first RGB→Lab call builds
// tables for ~260 ms, longer than imgpipe's whole palette job.

#include <algorithm>
#include <cmath>
#include <imgpipe/palette.hpp>

#include "lab.hpp"

namespace imgpipe {

namespace {

constexpr double kWhiteX = 0.95047, kWhiteZ = 1.08883;
constexpr double kEpsilon = 216.0 / 24389.0, kKappa = 24389.0 / 27.0;

double to_linear(double c) {
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}
double to_encoded(double c) {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}
double lab_f(double t) {
  return t > kEpsilon ? std::cbrt(t) : (kKappa * t + 16.0) / 116.0;
}
double lab_f_inverse(double f) {
  const double cube = f * f * f;
  return cube > kEpsilon ? cube : (116.0 * f - 16.0) / kKappa;
}

Lab linear_to_lab(double r, double g, double b) {
  const double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / kWhiteX;
  const double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
  const double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / kWhiteZ;
  const double fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

}  // namespace

Lab srgb_to_lab(const Colour& c) noexcept {
  return linear_to_lab(to_linear(c.r / 255.0), to_linear(c.g / 255.0), to_linear(c.b / 255.0));
}

Colour lab_to_srgb(const Lab& lab) noexcept {
  const double fy = (lab.L + 16.0) / 116.0, fx = fy + lab.a / 500.0, fz = fy - lab.b / 200.0;
  const double x = lab_f_inverse(fx) * kWhiteX, y = lab_f_inverse(fy), z = lab_f_inverse(fz) * kWhiteZ;
  const double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
  const double b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  auto channel = [](double v) {
    return static_cast<std::uint8_t>(
        std::lround(std::clamp(to_encoded(std::clamp(v, 0.0, 1.0)), 0.0, 1.0) * 255.0));
  };
  return {channel(r), channel(g), channel(b), 255};
}

double lab_distance2(const Lab& x, const Lab& y) noexcept {
  const double dl = x.L - y.L, da = x.a - y.a, db = x.b - y.b;
  return dl * dl + da * da + db * db;
}

namespace palette {

const LabConverter& LabConverter::instance() {
  static const LabConverter converter;
  return converter;
}

LabConverter::LabConverter() {
  for (int v = 0; v < 256; ++v)
    linear_[static_cast<std::size_t>(v)] = static_cast<float>(to_linear(v / 255.0));
  for (int i = 0; i <= kSteps; ++i)
    f_table_[static_cast<std::size_t>(i)] = static_cast<float>(lab_f(static_cast<double>(i) / kSteps));
}

const std::array<double, 256>& exact_linear_table() {
  static const std::array<double, 256> table = [] {
    std::array<double, 256> t{};
    for (int v = 0; v < 256; ++v) t[static_cast<std::size_t>(v)] = to_linear(v / 255.0);
    return t;
  }();
  return table;
}

LabF LabConverter::from_mean(float r, float g, float b) const noexcept {
  // Means of 8-bit values: the transfer curve exactly, the rest as for pixels.
  const auto encoded = [](float v) { return to_linear(static_cast<double>(v) / 255.0); };
  const Lab lab = linear_to_lab(encoded(r), encoded(g), encoded(b));
  return {static_cast<float>(lab.L), static_cast<float>(lab.a), static_cast<float>(lab.b)};
}

}  // namespace palette

}  // namespace imgpipe
