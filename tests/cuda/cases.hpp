#pragma once
// The parity cases of the CUDA plugin's kernels: real photos at 1..4 channels, 8 and 16 bits,
// each kernel's settings, and the CPU kernel (include/imgpipe/kernels/) that gives the expected
// pixels. test_cuda_arithmetic.cpp runs them through the kernels' passes on the host;
// test_cuda_plugin.cpp through the plugin on a GPU.

#include <cctype>
#include <imgpipe/imgpipe.hpp>
#include <imgpipe/kernels/colour.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <opencv2/core.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "cuda/imgpipe_cuda.h"
#include "test_support.hpp"

namespace imgpipe::test::cuda {

enum class Kernel { gaussian_blur, sharpen, resize, flip, rotate90, crop, grayscale };

struct Case {
  std::string name;
  Kernel kernel;
  double sigma = 0, amount = 0, radius = 0, threshold = 0;  // gaussian_blur, sharpen
  int interpolation = 0;                                    // resize: 0 area, 1 linear
  double scale_x = 1, scale_y = 1;                          // resize: the target size as factors
  int horizontal = 0, vertical = 0, quarter_turns = 0;      // flip, rotate90
  int weights = 0, keep_channels = 0;                       // grayscale
  bool exact = false;                                       // bit for bit, else within one level
};

inline std::vector<Case> cases() {
  std::vector<Case> list;
  const auto blur = [&](double sigma) {
    list.push_back({.name = "gaussian_blur_" + std::to_string(sigma).substr(0, 4),
                    .kernel = Kernel::gaussian_blur,
                    .sigma = sigma});
  };
  blur(0.5);  // 5 taps: the symmetric row filter for float images
  blur(2.0);
  blur(5.3);
  const auto sharpen = [&](const std::string& name, double amount, double radius, double threshold) {
    list.push_back({.name = "sharpen_" + name,
                    .kernel = Kernel::sharpen,
                    .amount = amount,
                    .radius = radius,
                    .threshold = threshold});
  };
  sharpen("default", 1.0, 1.0, 0.0);  // 8-bit: OpenCV's 8-bit fixed-point blur
  sharpen("strong", 1.5, 2.0, 0.0);   // 8-bit: the 16-bit blur of the image times 256
  sharpen("wide", 0.5, 4.0, 0.0);
  sharpen("threshold", 1.0, 0.6, 0.02);  // float everywhere
  const auto resize = [&](const std::string& name, int interpolation, double sx, double sy) {
    list.push_back({.name = std::string(interpolation ? "resize_linear_" : "resize_area_") + name,
                    .kernel = Kernel::resize,
                    .interpolation = interpolation,
                    .scale_x = sx,
                    .scale_y = sy});
  };
  resize("half", 0, 0.5, 0.5);  // whole factors: OpenCV's area_fast
  resize("third", 0, 1 / 3.0, 1 / 3.0);
  resize("0.6", 0, 0.6, 0.6);  // 8-bit opaque: ops::area_downscale_8u's fixed point
  resize("0.37x0.52", 0, 0.37, 0.52);
  resize("mixed", 0, 0.6, 1.3);     // one side grows: OpenCV's bilinear stand-in
  resize("enlarge", 0, 1.5, 1.25);  // area enlarges as linear
  resize("0.6", 1, 0.6, 0.6);
  resize("half", 1, 0.5, 0.5);  // a linear 2x shrink is the 2x2 area average
  resize("0.3", 1, 0.3, 0.3);   // more than 2x: area to twice the target first
  resize("0.2x0.7", 1, 0.2, 0.7);
  resize("enlarge", 1, 1.7, 1.3);
  list.push_back({.name = "flip_horizontal", .kernel = Kernel::flip, .horizontal = 1, .exact = true});
  list.push_back({.name = "flip_vertical", .kernel = Kernel::flip, .vertical = 1, .exact = true});
  list.push_back(
      {.name = "flip_both", .kernel = Kernel::flip, .horizontal = 1, .vertical = 1, .exact = true});
  for (int turns = 1; turns <= 3; ++turns)
    list.push_back({.name = "rotate" + std::to_string(90 * turns),
                    .kernel = Kernel::rotate90,
                    .quarter_turns = turns,
                    .exact = true});
  list.push_back({.name = "crop", .kernel = Kernel::crop, .exact = true});
  for (int weights = 0; weights < 3; ++weights)
    for (int keep = 0; keep < 2; ++keep)
      list.push_back({.name = "grayscale_" + std::to_string(weights) + (keep ? "_keep" : ""),
                      .kernel = Kernel::grayscale,
                      .weights = weights,
                      .keep_channels = keep,
                      .exact = true});
  return list;
}

// How GoogleTest shows a case: its name.
inline void PrintTo(const Case& c, std::ostream* out) {
  *out << c.name;
}

// The case's name as a test name: its letters and digits, '_' for the rest.
inline std::string case_name(const testing::TestParamInfo<Case>& param) {
  std::string name = param.param.name;
  for (char& ch : name)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return name;
}

// The output size of resize and crop cases (crop: the centre half, at an odd offset).
inline cv::Size target_size(const Case& c, cv::Size in) {
  if (c.kernel == Kernel::crop) return {in.width / 2, in.height / 2};
  return {std::max(1, static_cast<int>(std::lround(in.width * c.scale_x))),
          std::max(1, static_cast<int>(std::lround(in.height * c.scale_y)))};
}
inline cv::Point crop_origin(cv::Size in) {
  return {in.width / 4 + 1, in.height / 3};
}

// What the CPU kernel gives for the case.
inline cv::Mat expected(const Case& c, const cv::Mat& in) {
  namespace k = imgpipe::kernels;
  cv::Mat out;
  switch (c.kernel) {
    case Kernel::gaussian_blur: k::gaussian_blur(in, out, {.sigma = c.sigma}); break;
    case Kernel::sharpen:
      k::sharpen(in, out, {.amount = c.amount, .radius = c.radius, .threshold = c.threshold});
      break;
    case Kernel::resize:
      k::resize(in, out,
                {.size = target_size(c, in.size()),
                 .kernel = c.interpolation ? k::Interpolation::linear : k::Interpolation::area,
                 .fit = k::Fit::exact});
      break;
    case Kernel::flip:
      k::flip(in, out,
              {.direction = c.horizontal && c.vertical ? k::FlipDirection::both
                            : c.horizontal             ? k::FlipDirection::horizontal
                                                       : k::FlipDirection::vertical});
      break;
    case Kernel::rotate90: k::rotate(in, out, {.angle = 90.0 * c.quarter_turns}); break;
    case Kernel::crop: {
      const cv::Point at = crop_origin(in.size());
      k::crop(in, out, {.size = target_size(c, in.size()), .left = at.x, .top = at.y});
      break;
    }
    case Kernel::grayscale:
      k::grayscale(in, out,
                   {.weights = c.weights == 1   ? k::LumaWeights::rec601
                               : c.weights == 2 ? k::LumaWeights::average
                                                : k::LumaWeights::rec709,
                    .keep_channels = c.keep_channels != 0});
      break;
  }
  return out;
}

// The plugin's view of a cv::Mat.
inline imgpipe_cuda_image view(const cv::Mat& m) {
  return {m.data, m.step[0], m.cols, m.rows, m.channels(), static_cast<int>(m.elemSize1())};
}

// A named input image.
struct Input {
  std::string name;
  cv::Mat pixels;
};

// An alpha for `size`: a radial falloff to fully transparent corners and a fully transparent
// rectangle with hard edges, so that the premultiplied paths meet every case.
inline cv::Mat make_alpha(cv::Size size) {
  cv::Mat alpha(size, CV_8U);
  const double cx = size.width / 2.0, cy = size.height / 2.0;
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double d = std::hypot((x - cx) / cx, (y - cy) / cy);
      const bool hole =
          x > size.width / 3 && x < size.width / 2 && y > size.height / 3 && y < size.height / 2;
      alpha.at<std::uint8_t>(y, x) = hole ? 0 : cv::saturate_cast<std::uint8_t>((1.2 - d) * 2.0 * 255);
    }
  return alpha;
}

// 16-bit from 8-bit: x 257 plus a fine pattern, so that the low bits carry detail too.
inline cv::Mat to_16bit(const cv::Mat& in) {
  cv::Mat out;
  in.convertTo(out, CV_16U, 257.0);
  const int channels = out.channels();
  for (int y = 0; y < out.rows; ++y) {
    auto* row = out.ptr<std::uint16_t>(y);
    for (int i = 0; i < out.cols * channels; ++i)
      row[i] = static_cast<std::uint16_t>(std::max(0, row[i] - (y * 31 + i * 17) % 257));
  }
  return out;
}

inline cv::Mat with_alpha(const cv::Mat& colour, const cv::Mat& alpha) {
  std::vector<cv::Mat> planes;
  cv::split(colour, planes);
  planes.push_back(alpha);
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

// The inputs: a photo with odd sides and cut to sides divisible by 2 and 3 (where resizing by
// a half or a third has whole factors), as RGB, RGBA with a made alpha, grey and grey + alpha,
// at 8 and 16 bits, and a logo with its own alpha.
inline std::vector<Input> inputs() {
  const cv::Mat odd = imgpipe::load(photo("butterfly.jpg")).pixels;  // 493 x 356
  const cv::Mat even = odd(cv::Rect(0, 0, odd.cols / 6 * 6, odd.rows / 6 * 6)).clone();
  const auto alpha_of = [](const cv::Mat& m) { return make_alpha(m.size()); };
  const auto grey_of = [](const cv::Mat& m) {
    cv::Mat grey;
    cv::extractChannel(m, grey, 1);
    return grey;
  };
  return {{"rgb8_odd", odd},
          {"rgb8", even},
          {"rgba8", with_alpha(even, alpha_of(even))},
          {"rgba8_odd", with_alpha(odd, alpha_of(odd))},
          {"rgb16", to_16bit(even)},
          {"rgba16_odd", with_alpha(to_16bit(odd), to_16bit(alpha_of(odd)))},
          {"grey8_odd", grey_of(odd)},
          {"grey_alpha16", with_alpha(to_16bit(grey_of(even)), to_16bit(alpha_of(even)))},
          {"logo_rgba8", imgpipe::load(photo("logo.png")).pixels}};
}

// How an output compares with the CPU's: the largest difference and how many samples differ.
struct Comparison {
  double max_diff = 0;
  long differing = 0, samples = 0;
};

inline Comparison compare(const cv::Mat& ours, const cv::Mat& theirs) {
  Comparison result;
  cv::Mat difference;
  cv::absdiff(ours.reshape(1), theirs.reshape(1), difference);
  cv::minMaxLoc(difference, nullptr, &result.max_diff);
  result.differing = cv::countNonZero(difference);
  result.samples = static_cast<long>(difference.total());
  return result;
}

}  // namespace imgpipe::test::cuda
