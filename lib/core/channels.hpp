#pragma once
#include <opencv2/core/mat.hpp>

namespace imgpipe::detail {

// Grey → RGB and grey + alpha → RGBA (alpha kept); other images are returned as they are.
cv::Mat grey_to_rgb(const cv::Mat& pixels);

// The colour channels as RGB at the same depth, alpha dropped (grey is replicated).
cv::Mat colour_as_rgb(const cv::Mat& pixels);

}  // namespace imgpipe::detail
