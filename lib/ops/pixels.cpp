#include "pixels.hpp"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace imgpipe::ops {

void filter_premultiplied(cv::InputArray src, cv::OutputArray dst, const ArrayFilter& filter) {
  with_kind(src, [&](auto input) {
    using Array = decltype(input);
    const double max = max_value(input);
    const int depth = input.depth();
    Array as_float, filtered;
    input.convertTo(as_float, CV_32F);
    if (!has_alpha(input)) {
      filter(as_float, filtered);
      filtered.convertTo(dst, depth);
      return;
    }
    const auto colours = static_cast<std::size_t>(colour_channels(input));
    std::vector<Array> planes;
    Array alpha;
    cv::split(as_float, planes);
    planes.back().convertTo(alpha, CV_32F, 1.0 / max);
    for (std::size_t c = 0; c < colours; ++c) cv::multiply(planes[c], alpha, planes[c]);
    cv::merge(planes, as_float);
    filter(as_float, filtered);
    cv::split(filtered, planes);
    planes.back().convertTo(alpha, CV_32F, 1.0 / max);
    // Where alpha is 0 the colour is undefined; dividing by a tiny alpha keeps it finite.
    cv::max(alpha, 1e-6, alpha);
    for (std::size_t c = 0; c < colours; ++c) {
      cv::divide(planes[c], alpha, planes[c]);
      cv::min(planes[c], max, planes[c]);
    }
    cv::merge(planes, filtered);
    filtered.convertTo(dst, depth);
  });
}

cv::Mat filter_premultiplied(const cv::Mat& input, const std::function<cv::Mat(const cv::Mat&)>& filter) {
  cv::Mat out;
  filter_premultiplied(
      input, out, [&](cv::InputArray in, cv::OutputArray result) { result.assign(filter(in.getMat())); });
  return out;
}

int cv_interpolation(kernels::Interpolation kernel, bool shrinking) {
  switch (kernel) {
    case kernels::Interpolation::nearest: return cv::INTER_NEAREST;
    case kernels::Interpolation::linear: return cv::INTER_LINEAR;
    case kernels::Interpolation::cubic: return cv::INTER_CUBIC;
    case kernels::Interpolation::area: return shrinking ? cv::INTER_AREA : cv::INTER_LINEAR;
    case kernels::Interpolation::lanczos: return cv::INTER_LANCZOS4;
  }
  return cv::INTER_LINEAR;
}

cv::Scalar to_scalar(const Colour& colour, int channels, int depth) {
  const double scale = depth == CV_16U ? 257.0 : 1.0;
  const double r = colour.r * scale, g = colour.g * scale, b = colour.b * scale, a = colour.a * scale;
  const double grey = (r + g + b) / 3.0;
  switch (channels) {
    case 1: return {grey};
    case 2: return {grey, a};
    case 3: return {r, g, b};
    default: return {r, g, b, a};
  }
}

bool widen(cv::InputArray src, cv::OutputArray dst, bool to_rgb, bool add_alpha) {
  to_rgb = to_rgb && colour_channels(src) == 1;
  add_alpha = add_alpha && !has_alpha(src);
  if (!to_rgb && !add_alpha) return false;
  with_kind(src, [&](auto input) {
    using Array = decltype(input);
    std::vector<Array> planes;
    cv::split(input, planes);
    if (to_rgb) {
      const Array grey = planes.front();
      planes.insert(planes.begin() + 1, 2, grey);
    }
    if (add_alpha) planes.emplace_back(input.size(), input.depth(), cv::Scalar(max_value(input)));
    cv::merge(planes, dst);
  });
  return true;
}

bool widen_for(cv::InputArray src, cv::OutputArray dst, const Colour& colour) {
  const bool grey = colour.r == colour.g && colour.g == colour.b;
  return widen(src, dst, !grey, colour.a < 255);
}

void copy_region(cv::InputArray src, cv::OutputArray dst, cv::Rect region) {
  with_kind(src, [&](auto input) { input(region).copyTo(dst); });
}

void blend_into(cv::OutputArray base, cv::InputArray overlay, cv::InputArray coverage, cv::Point at) {
  const cv::Rect area = cv::Rect(at, coverage.size()) & cv::Rect(cv::Point(), base.size());
  if (area.empty()) return;
  const cv::Rect local(area.tl() - at, area.size());
  with_kind(base, [&](auto image) {
    using Array = decltype(image);
    const auto colours = static_cast<std::size_t>(colour_channels(image));
    Array target = image(area), region, weight = as_kind<Array>(coverage)(local), inverse;
    std::vector<Array> planes, over;
    target.convertTo(region, CV_32F);
    cv::split(region, planes);
    cv::split(as_kind<Array>(overlay)(local), over);
    cv::subtract(1.0, weight, inverse);
    for (std::size_t c = 0; c < colours; ++c) {
      cv::multiply(planes[c], inverse, planes[c]);
      cv::multiply(over[c], weight, over[c]);
      cv::add(planes[c], over[c], planes[c]);
    }
    if (has_alpha(image)) {
      auto& alpha = planes.back();
      cv::multiply(alpha, inverse, alpha);
      cv::scaleAdd(weight, max_value(image), alpha, alpha);
    }
    cv::merge(planes, region);
    region.convertTo(target, image.depth());
  });
}

}  // namespace imgpipe::ops
