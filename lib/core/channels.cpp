#include "channels.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace imgpipe::detail {

cv::Mat grey_to_rgb(const cv::Mat& pixels) {
  cv::Mat out;
  if (pixels.channels() == 1) {
    cv::cvtColor(pixels, out, cv::COLOR_GRAY2RGB);
    return out;
  }
  if (pixels.channels() != 2) return pixels;
  out.create(pixels.size(), CV_MAKETYPE(pixels.depth(), 4));
  const int from_to[] = {0, 0, 0, 1, 0, 2, 1, 3};
  cv::mixChannels(&pixels, 1, &out, 1, from_to, 4);
  return out;
}

cv::Mat colour_as_rgb(const cv::Mat& pixels) {
  cv::Mat rgb = grey_to_rgb(pixels);
  if (rgb.channels() == 4) cv::cvtColor(rgb, rgb, cv::COLOR_RGBA2RGB);
  return rgb;
}

}  // namespace imgpipe::detail
