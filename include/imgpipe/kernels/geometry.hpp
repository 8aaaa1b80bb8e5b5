#pragma once
/// \file
/// Geometry kernels: the pixel work of resize, crop, rotate, flip and auto_orient, callable
/// without a chain.
///
/// Every kernel reads `src` and writes `dst` (cv::Mat or cv::UMat; `dst` may be `src`: in-place
/// works), then takes a small options struct. Images are as in imgpipe::Image:
/// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels in RGB order, CV_8U or CV_16U;
/// the output keeps the input's depth and, unless a colour below needs more, its channels.
/// Resampling kernels work on colour premultiplied by alpha, so transparent pixels never
/// bleed their (invisible) colour into visible ones. Background colours are given in 8 bits
/// and scaled to 16-bit images (× 257); a non-grey colour turns a grey image into RGB and a
/// colour that is not opaque gives an opaque image an alpha channel.

#include <imgpipe/params.hpp>
#include <opencv2/core/mat.hpp>
#include <optional>

namespace imgpipe::kernels {

/// The resampling kernel of resize() and rotate().
enum class Interpolation {
  nearest,  ///< copies pixels: exact, blocky; no premultiplication needed
  linear,   ///< bilinear
  cubic,    ///< bicubic
  area,     ///< box average when shrinking (best for downscales); linear when enlarging
  lanczos,  ///< Lanczos-4 (8×8 support)
};

/// How a resized image meets a box of both a width and a height.
enum class Fit {
  inside,  ///< the whole image fits within the box; the output is `size`
  cover,   ///< the image covers the box; the centre is cropped to the box
  fill,    ///< the image fits within the box and is centred on it, padded with the background
  exact,   ///< the image is stretched to the box; the output is `size`
};

/// The settings of resize(): the size to resample to, the kernel, and how the result meets a box.
struct ResizeOptions {
  cv::Size size{};                             ///< what the whole image is resampled to
  Interpolation kernel = Interpolation::area;  ///< the resampling kernel
  Fit fit = Fit::inside;            ///< cover crops to `box`, fill pads to it; inside and exact keep `size`
  cv::Size box{};                   ///< cover and fill: the box the resampled image is cropped or padded to
  Colour background{0, 0, 0, 255};  ///< fill: the padding (transparent adds alpha)
};
/// Resamples to `options.size`. Shrinking by more than 2× with an interpolating kernel
/// (linear, cubic, lanczos) first shrinks with `area` to twice the target, as libvips does
/// with shrink + reduce: those kernels have a fixed support and would alias badly otherwise.
/// Then cover crops the centre to the box (where the image is larger than it) and fill pads
/// to the box (where the image is smaller than it).
void resize(cv::InputArray src, cv::OutputArray dst, const ResizeOptions& options);

/// The region crop() copies.
struct CropOptions {
  cv::Size size{};  ///< a side of 0 reaches from left/top (0 when unset) to the image's edge
  /// The region's left and top edges in pixels; unset: centred (rounded towards the top left).
  ///@{
  std::optional<int> left{}, top{};
  ///@}
};
/// Copies the region. Throws Error(config) naming both sizes when it does not fit.
void crop(cv::InputArray src, cv::OutputArray dst, const CropOptions& options);

/// The settings of rotate().
struct RotateOptions {
  double angle = 90;                ///< clockwise degrees, any value (450 is 90)
  Colour background{0, 0, 0, 255};  ///< uncovered corners (transparent adds alpha)
  bool expand = true;               ///< grow the canvas to hold the whole rotated image; false keeps the size
  Interpolation kernel = Interpolation::linear;  ///< where the angle is resampled; area is treated as linear
};
/// Multiples of 90° are exact (a transpose and flips) when the canvas takes the rotated size;
/// other angles resample about the image centre onto a canvas of
/// ceil(w·|cos| + h·|sin|) × ceil(w·|sin| + h·|cos|) (expand) or the input size.
void rotate(cv::InputArray src, cv::OutputArray dst, const RotateOptions& options);

/// Which way flip() mirrors an image.
enum class FlipDirection {
  horizontal,  ///< swaps left and right
  vertical,    ///< swaps top and bottom
  both,        ///< both at once: a half turn
};
/// The settings of flip().
struct FlipOptions {
  FlipDirection direction = FlipDirection::horizontal;  ///< which way to mirror
};
/// Mirrors the image as `options.direction` says. Exact.
void flip(cv::InputArray src, cv::OutputArray dst, const FlipOptions& options);

/// The settings of auto_orient().
struct AutoOrientOptions {
  int orientation = 1;  ///< the EXIF orientation (1..8) the pixels are stored with
};
/// Makes pixels stored with an EXIF orientation upright (exact); 1 or an unknown value copies.
void auto_orient(cv::InputArray src, cv::OutputArray dst, const AutoOrientOptions& options);

}  // namespace imgpipe::kernels
