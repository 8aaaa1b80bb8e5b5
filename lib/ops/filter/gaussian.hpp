#pragma once
// The Gaussian that gaussian_blur and sharpen share.

#include <opencv2/core/mat.hpp>

namespace imgpipe::ops {

// The kernel radius for a standard deviation: ceil(3 sigma), at least 1.
int gaussian_radius(double sigma);
// Gaussian blur of a CV_32F image (cv::Mat or cv::UMat) with that radius and mirrored edges
// (BORDER_REFLECT_101); `dst` may be `src`.
void gaussian_blur_float(cv::InputArray src, cv::OutputArray dst, double sigma);

}  // namespace imgpipe::ops
