#pragma once
/// \file
/// Colour kernels: the pixel work of the colour operations, callable on their own.
///
/// Every kernel reads `src` and writes `dst` (which may be `src`: in-place works), takes
/// cv::InputArray and cv::OutputArray so that it serves cv::Mat and cv::UMat alike, and accepts
/// what imgpipe::Image holds: RGB(A) channel order (not OpenCV's BGR), 1 (grey), 2 (grey +
/// alpha), 3 (RGB) or 4 (RGBA) channels, CV_8U or CV_16U. Alpha is the last channel; it is
/// copied bit-exact, never adjusted.

#include <opencv2/core/mat.hpp>

namespace imgpipe::kernels {

/// The settings of adjust_colors(), a tone curve followed by a colour matrix.
/// On values v in 0..1 of the stored (sRGB-encoded) colour channels:
///   tone(v) = clamp(((v * brightness) - 0.5) * contrast + 0.5) ^ (1 / gamma)
/// then rgb' = H(hue) * S(saturation) * rgb with the luminance-preserving saturation and hue
/// rotation matrices of the W3C Filter Effects spec (feColorMatrix), Rec. 709 weights.
/// Each of the two stages rounds to the output depth. Grey images take the tone curve only.
struct AdjustColorsOptions {
  double brightness = 1.0;  ///< multiplier; 1 leaves the image as it is
  double contrast = 1.0;    ///< stretch around mid-grey; 0 makes everything mid-grey
  double gamma = 1.0;       ///< > 0; above 1 lightens the midtones
  double saturation = 1.0;  ///< 0 grey (Rec. 709 luma), 1 as is, 2 doubled
  double hue = 0.0;         ///< rotation in degrees
};
/// Applies the tone curve, then the saturation and hue matrices, as AdjustColorsOptions says.
void adjust_colors(cv::InputArray src, cv::OutputArray dst, const AdjustColorsOptions& options = {});

/// The weights of R, G and B in the luma grayscale() computes.
enum class LumaWeights {
  rec709,   ///< 0.2126 R + 0.7152 G + 0.0722 B: sRGB primaries
  rec601,   ///< 0.299 R + 0.587 G + 0.114 B: as OpenCV's COLOR_RGB2GRAY
  average,  ///< (R + G + B) / 3
};

/// The settings of grayscale(), which gives the luma of RGB(A), rounded to the input depth.
/// The output has 1 channel (3 equal ones with keep_channels) plus the input's alpha. Grey
/// input is copied as it is.
struct GrayscaleOptions {
  LumaWeights weights = LumaWeights::rec709;  ///< how R, G and B are weighted
  bool keep_channels = false;                 ///< three equal colour channels instead of one
};
/// The luma of `src` (see GrayscaleOptions) into `dst`.
void grayscale(cv::InputArray src, cv::OutputArray dst, const GrayscaleOptions& options = {});

}  // namespace imgpipe::kernels
