// complexity: how much there is to see in an image, from 0 (one flat colour) to 1 (noise), as
// the mean of two shares:
//   edge density: pixels whose luma gradient (3x3 Sobel, L2) is at least that of a step of 12
//     levels in 255 (about 5 % contrast, a clearly visible edge); smooth gradients have none;
//   colour entropy: Shannon entropy of a histogram with 16 levels per colour channel, over
//     the largest the image could have (log2 of the bin count, or of the pixel count when
//     smaller), so a grey image can reach 1 as well as a colour one.
// Alpha is ignored. Measured on the analysis image, so images analysed at the same size are
// comparable; the pixels pass through unchanged and the value goes to
// Image::measures["complexity"] and the chain's strategy list (a streamed run, which has no
// Image to carry measures, reports it in the strategy list only).
//
// The same measure, on a thumbnail of a fixed size, drives the complexity rules
// (complexity.hpp).

#include "complexity.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "../../core/channels.hpp"
#include "../register.hpp"
#include "strategy.hpp"

namespace imgpipe::ops {

namespace {

constexpr double kEdgeStep = 12.0;  // luma levels (of 255) across a pixel that make an edge
constexpr int kLevelBits = 4;       // histogram levels per channel: 16

// The colour channels as 8 bits, alpha dropped: grey stays one channel, so its entropy is
// measured over grey levels alone.
cv::Mat colour8(const cv::Mat& pixels) {
  cv::Mat eight = pixels;
  if (pixels.depth() == CV_16U) pixels.convertTo(eight, CV_8U, 1.0 / 257.0);
  if (eight.channels() == 2) {
    cv::Mat grey;
    cv::extractChannel(eight, grey, 0);
    return grey;
  }
  return eight.channels() == 4 ? detail::colour_as_rgb(eight) : eight;
}

double edge_density(const cv::Mat& rgb_or_grey) {
  cv::Mat luma = rgb_or_grey;
  if (luma.channels() == 3) cv::cvtColor(rgb_or_grey, luma, cv::COLOR_RGB2GRAY);
  if (luma.rows < 3 || luma.cols < 3) return 0.0;
  cv::Mat dx, dy, magnitude;
  cv::Sobel(luma, dx, CV_32F, 1, 0, 3);
  cv::Sobel(luma, dy, CV_32F, 0, 1, 3);
  cv::magnitude(dx, dy, magnitude);
  // The 3x3 Sobel answers a step of h levels with 4h at the step.
  return cv::countNonZero(magnitude >= 4.0 * kEdgeStep) / static_cast<double>(magnitude.total());
}

double colour_entropy(const cv::Mat& rgb_or_grey) {
  const int channels = rgb_or_grey.channels();
  const int shift = 8 - kLevelBits;
  std::vector<double> counts(std::size_t{1} << (kLevelBits * channels), 0.0);
  for (int y = 0; y < rgb_or_grey.rows; ++y) {
    const std::uint8_t* p = rgb_or_grey.ptr<std::uint8_t>(y);
    for (int x = 0; x < rgb_or_grey.cols; ++x, p += channels) {
      std::size_t bin = 0;
      for (int c = 0; c < channels; ++c) bin = bin << kLevelBits | static_cast<std::size_t>(p[c] >> shift);
      counts[bin] += 1;
    }
  }
  const double n = static_cast<double>(rgb_or_grey.total());
  double entropy = 0;
  for (const double count : counts)
    if (count > 0) entropy -= count / n * std::log2(count / n);
  const double most = std::log2(std::min(static_cast<double>(counts.size()), n));
  return most > 0 ? std::clamp(entropy / most, 0.0, 1.0) : 0.0;
}

// The measure on the image as it is.
double measure(const cv::Mat& pixels) {
  const cv::Mat colour = colour8(pixels);
  return 0.5 * edge_density(colour) + 0.5 * colour_entropy(colour);
}

class ComplexityAnalysis final : public Analysis {
 public:
  explicit ComplexityAnalysis(double value) : value_(value) {}
  Image apply(const Image& full, const Context&) const override {
    Image out = full;
    out.measures["complexity"] = value_;
    return out;
  }
  std::string summary() const override { return fmt::format("complexity {:.2f}", value_); }
  bool pointwise() const override { return true; }  // the pixels pass through

 private:
  double value_;
};

class Complexity final : public Operation {
 public:
  std::unique_ptr<Analysis> analyse(const Image& analysis_image, const AnalysisPlan&,
                                    const Context&) const override {
    return std::make_unique<ComplexityAnalysis>(measure(analysis_image.pixels));
  }

  Image apply(const Image& input, const Context& context) const override {
    const AnalysisPlan direct{Strategy::direct, input.pixels.size(), input.pixels.size()};
    return analyse(input, direct, context)->apply(input, context);
  }

  bool streams_analysis() const override { return true; }
};

}  // namespace

cv::Mat complexity_thumbnail(const cv::Mat& pixels) {
  const int long_side = std::max(pixels.cols, pixels.rows);
  if (long_side <= kComplexitySide) return pixels;
  // Every step-th pixel first (nearest with an integer factor): area averaging a 12 MP image
  // straight down to 256 pixels reads all of it and costs ~40 ms on two cores, this ~1 ms.
  cv::Mat sampled = pixels;
  if (const int step = long_side / (2 * kComplexitySide); step > 1)
    cv::resize(pixels, sampled, cv::Size(std::max(1, pixels.cols / step), std::max(1, pixels.rows / step)), 0,
               0, cv::INTER_NEAREST);
  const double scale = static_cast<double>(kComplexitySide) / std::max(sampled.cols, sampled.rows);
  cv::Mat small;
  cv::resize(sampled, small,
             cv::Size(std::max(1, static_cast<int>(std::lround(sampled.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(sampled.rows * scale)))),
             0, 0, cv::INTER_AREA);
  return small;
}

double complexity(const cv::Mat& pixels) {
  return measure(complexity_thumbnail(pixels));
}

namespace rules {

int auto_k_max(double complexity) {
  return std::clamp(static_cast<int>(std::lround(4 + 12 * complexity)), 4, 16);
}

double analysis_scale(double complexity) {
  if (complexity < kFlatComplexity) return 0.75;
  if (complexity > kBusyComplexity) return 1.5;
  return 1.0;
}

int rule_analysis_side(int preset_side, int image_side, double complexity) {
  const int side = static_cast<int>(std::lround(preset_side * analysis_scale(complexity)));
  return std::min(image_side, std::clamp(side, std::min(kMinRuleSide, preset_side), kMaxRuleSide));
}

bool keeps_pyramid(double complexity) {
  return complexity >= kPyramidMinComplexity;
}

}  // namespace rules

IMGPIPE_REGISTER_OPERATION(complexity) {
  registry.add(OpDescriptor{
      .name = "complexity",
      .family = "analysis",
      .summary =
          "Measure how busy the image is, 0 (flat) to 1 (noise): the mean of its edge density and its colour "
          "entropy. The pixels pass unchanged; the value goes to the image's measures and the run's report.",
      .footprint = Footprint::global,
      .params =
          {
              strategy_spec("here the same as scaled: a single number has no pixels to re-examine"),
              analysis_size_spec(),
          },
      // The planner's analysis sizes (lib/plan/planner.cpp), unless analysis_size is given.
      .presets = {.ultra = "measured on the whole image",
                  .high = "on a copy of 1024 px long side (larger images)",
                  .balanced = "on a copy of 512 px (images of 800 px and more)",
                  .fast = "384 px (images of 800 px and more)",
                  .draft = "256 px (images of 800 px and more)"},
      .create = [](const Params&) { return std::make_unique<Complexity>(); },
      .check = [](const Params& p) { return check_analysis_params(p, "complexity"); },
  });
}

}  // namespace imgpipe::ops
