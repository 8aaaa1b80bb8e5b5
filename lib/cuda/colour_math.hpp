#pragma once
// The colour arithmetic the palette and dither kernels share, written as the CPU writes it:
// 16-bit → 8-bit reduction, OpenCV's grey conversions, the table-driven CIE Lab converter
// (lib/ops/palette/lab.hpp) and the exact double-precision one (lib/ops/palette/colour_space.cpp).

#include <cstdint>

#include "ieee.hpp"

namespace imgpipe::cuda {

// cv::Mat::convertTo(CV_8U, 1.0 / 257.0) of one 16-bit sample: OpenCV scales in float and
// rounds to nearest even.
IMGPIPE_HD inline std::uint8_t reduce16(std::uint16_t v) {
  const int rounded = round_even(mul(static_cast<float>(v), static_cast<float>(1.0 / 257.0)));
  return static_cast<std::uint8_t>(rounded > 255 ? 255 : rounded);
}

// Sample `c` of pixel `x` of a row of 8- or 16-bit samples, as 8 bits.
IMGPIPE_HD inline std::uint8_t sample8(const unsigned char* row, int x, int channels, int depth, int c) {
  if (depth == 1) return row[x * channels + c];
  return reduce16(reinterpret_cast<const std::uint16_t*>(row)[x * channels + c]);
}

// An 8-bit pixel as RGB + alpha: grey replicated (COLOR_GRAY2RGB), alpha 255 when there is none.
struct Rgba8 {
  std::uint8_t r, g, b, a;
};
IMGPIPE_HD inline Rgba8 load_rgba8(const unsigned char* row, int x, int channels, int depth) {
  if (channels <= 2) {
    const std::uint8_t grey = sample8(row, x, channels, depth, 0);
    return {grey, grey, grey, channels == 2 ? sample8(row, x, channels, depth, 1) : std::uint8_t{255}};
  }
  return {sample8(row, x, channels, depth, 0), sample8(row, x, channels, depth, 1),
          sample8(row, x, channels, depth, 2),
          channels == 4 ? sample8(row, x, channels, depth, 3) : std::uint8_t{255}};
}

// cv::cvtColor(COLOR_RGB2GRAY) of 8-bit RGB as OpenCV 4 computes it: Rec. 601 in 15-bit fixed
// point (RY15, GY15, BY15 of color_rgb.simd.hpp), rounded. The 14-bit coefficients of
// OpenCV's documentation give another value for 43 864 of the 2^24 colours.
IMGPIPE_HD inline std::uint8_t grey601(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  return static_cast<std::uint8_t>((r * 9798 + g * 19235 + b * 3735 + (1 << 14)) >> 15);
}

// std::upper_bound over values[0..n): the index of the first value greater than v.
IMGPIPE_HD inline int upper_bound(const float* values, int n, float v) {
  int first = 0;
  while (n > 0) {
    const int half = n / 2;
    if (!(v < values[first + half])) {
      first += half + 1;
      n -= half + 1;
    } else {
      n = half;
    }
  }
  return first;
}

// A CIE Lab colour in float, as palette::LabF.
struct LabF {
  float L, a, b;
};

// The tables of palette::LabConverter: linear[256] is the sRGB curve of each 8-bit code, f[4097]
// the Lab cube-root function f() on 0..1 in 4096 steps.
struct LabTables {
  const float* linear;
  const float* f;
};

namespace lab_detail {

constexpr int kSteps = 4096;

IMGPIPE_HD inline float f(const float* table, float t) {
  if (t <= 0) return table[0];
  if (t >= 1) return table[kSteps];
  const float position = mul(t, static_cast<float>(kSteps));
  const int i = static_cast<int>(position);
  const float w = sub(position, static_cast<float>(i));
  return add(mul(table[i], sub(1.0f, w)), mul(table[i + 1], w));
}

}  // namespace lab_detail

// palette::LabConverter::operator(): the Lab of an 8-bit sRGB colour through the tables.
IMGPIPE_HD inline LabF lab_of(const LabTables& tables, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  const float lr = tables.linear[r], lg = tables.linear[g], lb = tables.linear[b];
  const float x = div(add(add(mul(0.4124564f, lr), mul(0.3575761f, lg)), mul(0.1804375f, lb)), 0.95047f);
  const float y = add(add(mul(0.2126729f, lr), mul(0.7151522f, lg)), mul(0.0721750f, lb));
  const float z = div(add(add(mul(0.0193339f, lr), mul(0.1191920f, lg)), mul(0.9503041f, lb)), 1.08883f);
  const float fx = lab_detail::f(tables.f, x), fy = lab_detail::f(tables.f, y),
              fz = lab_detail::f(tables.f, z);
  return {sub(mul(116.0f, fy), 16.0f), mul(500.0f, sub(fx, fy)), mul(200.0f, sub(fy, fz))};
}

// palette::distance2.
IMGPIPE_HD inline float distance2(const LabF& p, const LabF& q) {
  const float dl = sub(p.L, q.L), da = sub(p.a, q.a), db = sub(p.b, q.b);
  return add(add(mul(dl, dl), mul(da, da)), mul(db, db));
}

// The index of the nearest of `count` colours (L, a, b interleaved), the first of equals
// (palette::nearest, and the palette search of dither's Plan::nearest_colour).
IMGPIPE_HD inline int nearest(const LabF& p, const float* colours, int count) {
  int best = 0;
  float best_d = distance2(p, {colours[0], colours[1], colours[2]});
  for (int c = 1; c < count; ++c) {
    const float d = distance2(p, {colours[3 * c], colours[3 * c + 1], colours[3 * c + 2]});
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// The cube root of a positive, finite, normal double, correctly rounded (to nearest) except
// where the exact root lies within about 2^-50 of an ulp of a midpoint between two doubles.
// Built from single-rounding operations only, so host and device agree bit for bit: an
// integer first guess, four Newton steps, then one correction from the residual t - y^3
// evaluated to about 106 bits with fma.
//
// std::cbrt, which the CPU's exact Lab uses, is not correctly rounded: glibc 2.36's is one ulp
// off for 29.2 M of the 50.0 M cube roots that the 2^24 colours need, so the exact Lab of
// 92 % of the colours differs from the CPU's in the last bits (with std::cbrt in its place
// none does). A nearest-centre decision moves only when two centres are equally near to
// within about 1e-13 of their distance; over every 8-bit colour and the centres of several
// photos' clusterings (k 5, 10, 16) no label differs.
IMGPIPE_HD inline double cbrt_rn(double t) {
  double y = double_of(bits_of(t) / 3 + 0x2A9F7893782DA1CEull);
  for (int i = 0; i < 4; ++i) {
    const double y2 = mul(y, y);
    y = sub(y, div(sub(mul(y2, y), t), mul(3.0, y2)));
  }
  const double y2 = mul(y, y), y2_error = fused(y, y, -y2);  // y*y = y2 + y2_error exactly
  const double y3 = mul(y2, y), y3_error = fused(y2, y, -y3);
  const double residual = sub(sub(sub(t, y3), y3_error), mul(y2_error, y));
  return add(y, div(residual, mul(3.0, y2)));
}

// The CIE Lab (D65) of three linear-light values, as colour_space.cpp's linear_to_lab(), with
// cbrt_rn for std::cbrt.
struct Lab {
  double L, a, b;
};
IMGPIPE_HD inline double lab_f_exact(double t) {
  constexpr double kEpsilon = 216.0 / 24389.0, kKappa = 24389.0 / 27.0;
  return t > kEpsilon ? cbrt_rn(t) : div(add(mul(kKappa, t), 16.0), 116.0);
}
IMGPIPE_HD inline Lab linear_to_lab(double r, double g, double b) {
  constexpr double kWhiteX = 0.95047, kWhiteZ = 1.08883;
  const double x = div(add(add(mul(0.4124564, r), mul(0.3575761, g)), mul(0.1804375, b)), kWhiteX);
  const double y = add(add(mul(0.2126729, r), mul(0.7151522, g)), mul(0.0721750, b));
  const double z = div(add(add(mul(0.0193339, r), mul(0.1191920, g)), mul(0.9503041, b)), kWhiteZ);
  const double fx = lab_f_exact(x), fy = lab_f_exact(y), fz = lab_f_exact(z);
  return {sub(mul(116.0, fy), 16.0), mul(500.0, sub(fx, fy)), mul(200.0, sub(fy, fz))};
}
// imgpipe::lab_distance2.
IMGPIPE_HD inline double distance2(const Lab& p, const Lab& q) {
  const double dl = sub(p.L, q.L), da = sub(p.a, q.a), db = sub(p.b, q.b);
  return add(add(mul(dl, dl), mul(da, da)), mul(db, db));
}

}  // namespace imgpipe::cuda
