#pragma once
/// \file
/// Filter kernels: the pixel work of the filter operations, callable on their own.
///
/// Every kernel reads `src` and writes `dst` (which may be `src`: in-place works), takes
/// cv::InputArray and cv::OutputArray so that it serves cv::Mat and cv::UMat alike, and accepts
/// what imgpipe::Image holds: RGB(A) channel order (not OpenCV's BGR), 1 (grey), 2 (grey +
/// alpha), 3 (RGB) or 4 (RGBA) channels, CV_8U or CV_16U. Alpha is the last channel. Image
/// edges are mirrored without repeating the edge pixel (cv::BORDER_REFLECT_101).

#include <opencv2/core/mat.hpp>

namespace imgpipe::kernels {

/// The settings of gaussian_blur(). A separable Gaussian of standard deviation sigma with a
/// kernel of radius ceil(3 sigma) (at least 1), computed in float and rounded to the input
/// depth. With alpha the colour is blurred premultiplied by alpha, so the colour of
/// transparent pixels never bleeds into visible ones; alpha itself is blurred. Pixels that
/// stay fully transparent come out black.
struct GaussianBlurOptions {
  double sigma = 2.0;  ///< > 0, in pixels
};
/// Blurs `src` into `dst` as GaussianBlurOptions describes.
void gaussian_blur(cv::InputArray src, cv::OutputArray dst, const GaussianBlurOptions& options = {});

/// The settings of sharpen(), an unsharp mask in float. Per sample,
/// out = in + amount * (in - blur(in, radius)) where |in - blur| exceeds threshold * full
/// scale (elsewhere the sample is kept), clamped to the depth's range. blur is gaussian_blur
/// with sigma = radius. With alpha the colour is sharpened premultiplied by alpha (no halo
/// from transparent pixels) and alpha is copied, so fully transparent pixels come out black.
struct SharpenOptions {
  double amount = 1.0;     ///< 0 leaves the image as it is
  double radius = 1.0;     ///< sigma of the blur, > 0
  double threshold = 0.0;  ///< fraction of full scale, 0..1
};
/// Sharpens `src` into `dst` as SharpenOptions describes.
void sharpen(cv::InputArray src, cv::OutputArray dst, const SharpenOptions& options = {});

/// How edges() finds edges: cv::Canny, or the magnitude of the Sobel gradient (see EdgesOptions).
enum class EdgeMethod { canny, sobel };

/// The settings of edges(). The edge map is of the luma (Rec. 601, as OpenCV's
/// COLOR_RGB2GRAY; grey input is its own luma); the output is grey plus the input's alpha.
///   canny: cv::Canny with the L2 gradient, thresholds low * 255 and high * 255 on the 8-bit
///          luma (16-bit luma is divided by 257 first); the output is 8-bit, 0 or 255, and a
///          16-bit alpha is reduced to 8 bits with it.
///   sobel: sqrt(dx^2 + dy^2) of the Sobel derivatives, divided by the kernel's response to
///          a unit step so that a step from 0 to full scale gives full scale, times `scale`;
///          the output keeps the input depth.
struct EdgesOptions {
  EdgeMethod method = EdgeMethod::canny;  ///< canny or sobel
  double low = 0.1;                       ///< canny: lower hysteresis threshold, fraction of full scale
  double high = 0.3;                      ///< canny: upper hysteresis threshold, fraction of full scale
  int aperture = 3;                       ///< Sobel kernel size: 1, 3, 5 or 7 (canny: 3, 5 or 7)
  double scale = 1.0;                     ///< sobel: multiplier on the normalised magnitude
};
/// The edge map of `src` into `dst`, as EdgesOptions describes.
void edges(cv::InputArray src, cv::OutputArray dst, const EdgesOptions& options = {});

}  // namespace imgpipe::kernels
