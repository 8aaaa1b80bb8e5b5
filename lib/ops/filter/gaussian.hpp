#pragma once
// The Gaussian that gaussian_blur and sharpen share.

#include <opencv2/core/mat.hpp>

namespace imgpipe::ops {

// The kernel radius for a standard deviation: ceil(3 sigma), at least 1.
int gaussian_radius(double sigma);
// The Gaussian with that radius and mirrored edges (BORDER_REFLECT_101) through sepFilter2D,
// in `src`'s depth: for 8 bits OpenCV's fixed-point row and column passes, correctly rounded
// (within half a level of the exact blur, as the float path). A view reads its parent around
// it, as cv::GaussianBlur does; `dst` may be `src`.
void separable_gaussian(const cv::Mat& src, cv::OutputArray dst, double sigma);

// Gaussian blur of a CV_32F image (cv::Mat or cv::UMat) with that radius and mirrored edges
// (BORDER_REFLECT_101); `dst` may be `src`. CV_16U works too (OpenCV's fixed-point path).
void gaussian_blur_float(cv::InputArray src, cv::OutputArray dst, double sigma);

// The 8-bit path of sharpen: `in` (CV_8U) times 256 in 16 bits into `scaled`, and
// its blur in the same scale into `blurred`. The blur keeps 1/256 of a level, far inside the
// one level of the final rounding, and the passes move a third of the bytes of float ones.
void gaussian_blur_8bit_scaled(const cv::Mat& in, double sigma, cv::Mat& scaled, cv::Mat& blurred);

// OpenCV's 8-bit Gaussian (fixed point, its bit-exact path whatever `in` is a view of: the
// same pixels for a region as for the whole image) with that radius and mirrored edges.
void gaussian_blur_8bit(const cv::Mat& in, cv::Mat& out, double sigma);

// Whether `src` takes the 8-bit paths (sharpen's above, gaussian_blur's separable_gaussian):
// 8-bit without alpha, a cv::Mat. Every schedule takes them alike, so streamed and in-memory
// runs stay bit for bit the same. cv::GaussianBlur's own fixed-point path for whole 8- and
// 16-bit images builds its kernel on every call, 15-55 µs more than sepFilter2D's, which small
// tiles pay many times over (6.3 s against 4.0 s for the streaming benchmark's 16000² blur):
// gaussian_blur takes sepFilter2D's.
bool takes_8bit_path(cv::InputArray src);

}  // namespace imgpipe::ops
