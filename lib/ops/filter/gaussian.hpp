#pragma once
// The Gaussian that gaussian_blur and sharpen share.

#include <opencv2/core/mat.hpp>

namespace imgpipe::ops {

// The kernel radius for a standard deviation: ceil(3 sigma), at least 1.
int gaussian_radius(double sigma);
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

// Whether `src` takes that path: 8-bit without alpha, a cv::Mat. Every schedule takes it
// alike, so streamed and in-memory runs stay bit for bit the same. gaussian_blur itself stays in
// float: as its path this was faster on 512-pixel tiles (22 against 35 ms for 1 MP) but slower
// on the streaming benchmark's 140-pixel tiles (6.3 s against 4.0 s for the 16000² blur).
// OpenCV's fixed-point Gaussians (8- and 16-bit) build their kernel on every call, 15-55 µs
// more than the float path's, which small tiles pay many times over.
bool takes_8bit_path(cv::InputArray src);

}  // namespace imgpipe::ops
