#pragma once
/// \file
/// Black-and-white conversion with a channel mixer, local contrast, a tone curve and grain.
///
/// Conventions as in filter.hpp: RGB(A) channel order, 1..4 channels, CV_8U or CV_16U, alpha
/// last. The output is grey (+ the input's alpha, copied unchanged) at the input depth.

#include <array>
#include <cstdint>
#include <opencv2/core/mat.hpp>

namespace imgpipe::kernels {

/// A colour filter for enhanced_bw(), as channel mixer weights (R, G, B), each set summing to
/// 1 so that white stays white. The colour filters imitate a glass filter on black-and-white
/// film: the filter's own colour comes out lighter and its complement darker.
///   neutral  0.2126 0.7152 0.0722  (Rec. 709 luma)
///   red      0.70   0.25   0.05    (dark skies, light skin, strong drama)
///   orange   0.55   0.35   0.10    (between red and yellow)
///   yellow   0.45   0.45   0.10    (slightly darker skies, the classic landscape filter)
///   green    0.10   0.80   0.10    (light foliage, darker skin and reds)
///   blue     0.10   0.20   0.70    (light skies and haze, dark reds)
enum class BwFilter { neutral, red, orange, yellow, green, blue };
/// The mixer weights (R, G, B) of `filter`, as BwFilter lists them.
std::array<double, 3> bw_filter_weights(BwFilter filter) noexcept;

/// The settings of enhanced_bw(); clahe, curve and grain at 0 skip their step.
struct EnhancedBwOptions {
  /// Mixer weights for R, G, B; grey input is used as it is. Results outside the depth's
  /// range are clipped.
  std::array<double, 3> mix{0.2126, 0.7152, 0.0722};
  /// CLAHE (cv::createCLAHE) clip limit; 0 skips local contrast. tile = grid cells per side
  /// (at most the image's shorter side). At 16 bits OpenCV is given clahe * 256, because it
  /// counts the limit per histogram bin and a 16-bit histogram has 256 times more bins.
  double clahe = 0.0;
  int tile = 8;  ///< CLAHE grid cells per side (at most the image's shorter side)
  /// S-curve strength 0..1 on x = value / full scale:
  ///   y = (1 - curve) * x + curve * smoothstep(x),  smoothstep(x) = x^2 (3 - 2x).
  /// 0, 1/2 and 1 stay put, the curve stays monotonic, and the slope at mid-grey is
  /// 1 + curve / 2: contrast rises around the middle tones and falls in the extremes.
  double curve = 0.0;
  /// Film grain: Gaussian noise of standard deviation grain * 10 % of full scale, added after
  /// the curve. It comes from one cv::RNG seeded with `seed` filled in raster order, so the
  /// same seed gives the same grain whatever the thread count.
  double grain = 0.0;
  std::uint64_t seed = 1;  ///< the grain's cv::RNG seed
};

/// Converts to black and white as EnhancedBwOptions says. Order: mixer (float, rounded to the
/// input depth) → CLAHE → curve → grain.
void enhanced_bw(cv::InputArray src, cv::OutputArray dst, const EnhancedBwOptions& options = {});

}  // namespace imgpipe::kernels
