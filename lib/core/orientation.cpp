#include "orientation.hpp"

#include <opencv2/core.hpp>

namespace imgpipe::detail {

// EXIF 2.3, tag 0x0112: how the stored rows and columns map to the visual top and left.
cv::Mat apply_orientation(const cv::Mat& stored, int orientation) {
  cv::Mat out;
  switch (orientation) {
    case 2: cv::flip(stored, out, 1); break;  // mirror horizontal
    case 3: cv::rotate(stored, out, cv::ROTATE_180); break;
    case 4: cv::flip(stored, out, 0); break;    // mirror vertical
    case 5: cv::transpose(stored, out); break;  // mirror + rotate 270 CW
    case 6: cv::rotate(stored, out, cv::ROTATE_90_CLOCKWISE); break;
    case 7:
      cv::transpose(stored, out);
      cv::flip(out, out, -1);
      break;  // mirror + rotate 90 CW
    case 8: cv::rotate(stored, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: return stored;
  }
  return out;
}

}  // namespace imgpipe::detail
