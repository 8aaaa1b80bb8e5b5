#include "pixels.hpp"

#include "../core/channels.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace imgpipe::ops {

cv::Mat filter_premultiplied(const cv::Mat& input,
                             const std::function<cv::Mat(const cv::Mat&)>& filter) {
  const double max = max_value(input);
  cv::Mat as_float;
  input.convertTo(as_float, CV_32F);
  if (!has_alpha(input)) {
    cv::Mat out;
    filter(as_float).convertTo(out, input.depth());
    return out;
  }
  const int cn = input.channels();
  std::vector<cv::Mat> planes;
  cv::split(as_float, planes);
  cv::Mat alpha = planes.back() * (1.0 / max);
  for (int c = 0; c + 1 < cn; ++c) planes[static_cast<std::size_t>(c)] = planes[static_cast<std::size_t>(c)].mul(alpha);
  cv::merge(planes, as_float);
  cv::Mat filtered = filter(as_float);
  cv::split(filtered, planes);
  cv::Mat inverse;
  // Where alpha is 0 the colour is undefined; dividing by a tiny alpha keeps it finite.
  cv::max(planes.back() * (1.0 / max), 1e-6, inverse);
  for (int c = 0; c + 1 < cn; ++c) {
    auto& p = planes[static_cast<std::size_t>(c)];
    cv::divide(p, inverse, p);
    cv::min(p, max, p);
  }
  cv::merge(planes, filtered);
  cv::Mat out;
  filtered.convertTo(out, input.depth());
  return out;
}

cv::Scalar to_scalar(const Colour& colour, int channels, int depth) {
  const double scale = depth == CV_16U ? 257.0 : 1.0;
  const double r = colour.r * scale, g = colour.g * scale, b = colour.b * scale,
               a = colour.a * scale;
  const double grey = (r + g + b) / 3.0;
  switch (channels) {
    case 1: return {grey};
    case 2: return {grey, a};
    case 3: return {r, g, b};
    default: return {r, g, b, a};
  }
}

cv::Mat widen_for(const cv::Mat& input, const Colour& colour) {
  cv::Mat out = input;
  const bool grey_colour = colour.r == colour.g && colour.g == colour.b;
  if (out.channels() <= 2 && !grey_colour) out = detail::grey_to_rgb(out);
  if (colour.a < 255 && !has_alpha(out)) {
    std::vector<cv::Mat> planes;
    cv::split(out, planes);
    planes.emplace_back(out.size(), out.depth(), cv::Scalar(max_value(out)));
    cv::merge(planes, out);
  }
  return out;
}

}  // namespace imgpipe::ops
