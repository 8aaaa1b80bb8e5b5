#pragma once
// EXIF orientation (1..8) applied to pixels: shared by the loader and the auto_orient step.

#include <opencv2/core/mat.hpp>

namespace imgpipe::detail {

// Returns the upright image for pixels stored with the given EXIF orientation.
// Orientation 1 (or an unknown value) returns the input unchanged.
cv::Mat apply_orientation(const cv::Mat& stored, int orientation);

}  // namespace imgpipe::detail
