#pragma once
// Pixel helpers shared by operations: alpha premultiplication, colours as cv::Scalar, and
// widening an image so it can hold a colour (grey → RGB, opaque → with alpha).

#include <functional>

#include <opencv2/core/mat.hpp>

#include <imgpipe/params.hpp>

namespace imgpipe::ops {

inline bool has_alpha(const cv::Mat& m) { return m.channels() == 2 || m.channels() == 4; }
inline double max_value(const cv::Mat& m) { return m.depth() == CV_16U ? 65535.0 : 255.0; }

// Runs a filter on colour premultiplied by alpha, so that the colour of transparent pixels
// does not bleed into visible ones; returns the result un-premultiplied at the input depth.
// Images without alpha go straight to the filter. The filter gets and must return CV_32F.
cv::Mat filter_premultiplied(const cv::Mat& input,
                             const std::function<cv::Mat(const cv::Mat&)>& filter);

// The colour as a Scalar for an image with the given channels and depth.
cv::Scalar to_scalar(const Colour& colour, int channels, int depth);

// Widens `input` so it can show `colour`: grey becomes RGB when the colour is not grey, and
// an alpha channel (opaque) is added when the colour is not opaque.
cv::Mat widen_for(const cv::Mat& input, const Colour& colour);

}  // namespace imgpipe::ops
