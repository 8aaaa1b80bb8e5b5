#pragma once
// Naive per-pixel references for the colour tests, written from the documented formulas
// rather than from the library's code: double precision, rounding only where the
// documentation puts it.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <opencv2/core.hpp>

namespace imgpipe::test {

using Pixel = std::array<double, 4>;  // samples scaled to 0..1, alpha last

inline double full_scale(int depth) {
  return depth == CV_16U ? 65535.0 : 255.0;
}

// Maps every pixel of `src` (CV_8U or CV_16U, 1-4 channels) through `f`, on samples scaled to
// 0..1, clamps and rounds the result to src's depth with `out_channels` channels (0: src's).
inline cv::Mat map_pixels(const cv::Mat& src, const std::function<Pixel(const Pixel&)>& f,
                          int out_channels = 0) {
  const int cn = src.channels(), out_cn = out_channels > 0 ? out_channels : cn;
  const double max = full_scale(src.depth());
  cv::Mat in, out(src.size(), CV_64FC(out_cn));
  src.convertTo(in, CV_64F, 1.0 / max);
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x) {
      Pixel px{};
      for (int c = 0; c < cn; ++c) px[static_cast<std::size_t>(c)] = in.ptr<double>(y)[x * cn + c];
      const Pixel result = f(px);
      for (int c = 0; c < out_cn; ++c)
        out.ptr<double>(y)[x * out_cn + c] =
            std::round(std::clamp(result[static_cast<std::size_t>(c)], 0.0, 1.0) * max);
    }
  cv::Mat rounded;
  out.convertTo(rounded, src.depth());
  return rounded;
}

// One adjust_colors step, as the documentation states it.
struct Adjustment {
  double brightness = 1, contrast = 1, gamma = 1, saturation = 1, hue = 0;
};

inline constexpr std::array<double, 3> kRec709{0.2126, 0.7152, 0.0722};

inline double luma709(const Pixel& p) {
  return kRec709[0] * p[0] + kRec709[1] * p[1] + kRec709[2] * p[2];
}

// tone(v) = clamp(((v * brightness) - 0.5) * contrast + 0.5) ^ (1 / gamma)
inline double tone(double v, const Adjustment& a) {
  return std::pow(std::clamp((v * a.brightness - 0.5) * a.contrast + 0.5, 0.0, 1.0), 1.0 / a.gamma);
}

// feColorMatrix type="saturate": each channel moves from the luma towards itself by s.
inline Pixel saturate(Pixel p, double s) {
  const double luma = luma709(p);
  for (std::size_t c = 0; c < 3; ++c) p[c] = luma + s * (p[c] - luma);
  return p;
}

// feColorMatrix type="hueRotate", as the W3C Filter Effects spec builds it:
// L + cos(a) * (I - L) + sin(a) * K, where every row of L is the luma weights.
inline Pixel rotate_hue(Pixel p, double degrees) {
  const double a = degrees * M_PI / 180.0;
  const auto [wr, wg, wb] = kRec709;
  const double k[3][3] = {{-wr, -wg, 1 - wb}, {0.143, 0.140, -0.283}, {-(1 - wr), wg, wb}};
  const Pixel in = p;
  const double luma = luma709(in);
  for (std::size_t r = 0; r < 3; ++r) {
    double sine_part = 0;
    for (std::size_t c = 0; c < 3; ++c) sine_part += k[r][c] * in[c];
    p[r] = luma + std::cos(a) * (in[r] - luma) + std::sin(a) * sine_part;
  }
  return p;
}

// One step: the tone curve on every colour channel (rounded), then on RGB the hue rotation
// of the saturated colour (rounded). Alpha is left as it is.
inline cv::Mat adjust_reference(const cv::Mat& src, const Adjustment& a) {
  const int colours = src.channels() == 2 || src.channels() == 4 ? src.channels() - 1 : src.channels();
  cv::Mat toned = map_pixels(src, [&](Pixel p) {
    for (int c = 0; c < colours; ++c)
      p[static_cast<std::size_t>(c)] = tone(p[static_cast<std::size_t>(c)], a);
    return p;
  });
  if (colours != 3) return toned;
  return map_pixels(toned, [&](const Pixel& p) { return rotate_hue(saturate(p, a.saturation), a.hue); });
}

}  // namespace imgpipe::test
