// The palette step's clustering quality at its defaults against exact k-means on real photos:
// the mean squared CIE Lab error of the image recoloured with its own centres (the measure of
// shared/baselines/lab_error.py: OpenCV's float Lab, each pixel against the 8-bit colour it was
// given) at most 1 % above that of cv::kmeans on every pixel in Lab (k-means++, 3 attempts,
// 100 iterations, eps 0.01, fixed seed: benchmarks/kmeans_reference.py). Both are
// deterministic. Exact k-means costs seconds a megapixel, so the large photos are used as a
// half-size copy or a crop, and imgpipe clusters that same image; the views are chosen so that
// the planner runs each strategy (direct, scaled, pyramid). benchmarks/palette_quality.py
// measures the same on 26 photos of 1-15 MP.
#include <gtest/gtest.h>

#include <cstdio>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// lab_error.py: the mean squared Lab distance of each pixel to its recoloured pixel.
double error_of(const cv::Mat& original_lab, const cv::Mat& recoloured) {
  cv::Mat difference = original_lab - test::opencv_lab(recoloured);
  const cv::Scalar sum = cv::sum(difference.mul(difference));
  return (sum[0] + sum[1] + sum[2]) / static_cast<double>(original_lab.total());
}

// kmeans_reference.py: cv::kmeans on every pixel's Lab, the image recoloured with the centres
// rounded to 8-bit colours.
cv::Mat exact_kmeans(const cv::Mat& lab, int k) {
  cv::Mat labels, centres;
  cv::setRNGSeed(12345);
  cv::kmeans(lab.reshape(1, static_cast<int>(lab.total())), k, labels,
             cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 100, 0.01), 3,
             cv::KMEANS_PP_CENTERS, centres);
  cv::Mat rgb, colours;
  cv::cvtColor(centres.reshape(3, 1), rgb, cv::COLOR_Lab2RGB);
  rgb.convertTo(colours, CV_8U, 255.0);  // rounded and clipped, as np.clip(np.rint(x * 255))
  cv::Mat out(lab.size(), CV_8UC3);
  for (int i = 0; i < static_cast<int>(lab.total()); ++i)
    out.at<cv::Vec3b>(i / lab.cols, i % lab.cols) = colours.at<cv::Vec3b>(0, labels.at<int>(i));
  return out;
}

struct View {
  std::string photo;
  std::string how;  // "whole", "half" (area-averaged to half size) or "centre WxH" (a crop)
  std::string strategy;
};

// What the test list and failures show of a view.
void PrintTo(const View& v, std::ostream* os) {
  *os << v.photo << " " << v.how;
}

std::string name_of(const ::testing::TestParamInfo<View>& info) {
  std::string name = info.param.photo.substr(0, info.param.photo.find_first_of("-."));
  return name + "_" + info.param.strategy;
}

Image view_of(const View& v) {
  Image image = load(test::photo(v.photo));
  cv::Mat px = image.pixels;
  if (v.how == "half") {
    cv::resize(px, px, cv::Size(px.cols / 2, px.rows / 2), 0, 0, cv::INTER_AREA);
  } else if (v.how.rfind("centre ", 0) == 0) {
    int width = 0, height = 0;
    std::sscanf(v.how.c_str(), "centre %dx%d", &width, &height);
    px = px(cv::Rect((px.cols - width) / 2, (px.rows - height) / 2, width, height)).clone();
  }
  return image.with_pixels(px);
}

// The palette step at its defaults (balanced, strategy auto) recolouring with its centres; `k`
// 0 lets it choose. Gives the recoloured pixels, the plan line and the k it used.
cv::Mat imgpipe_palette(const Image& image, int k, std::string& plan, int& used) {
  std::vector<std::string> strategies;
  Context context;
  context.strategies = &strategies;
  const Image out = Chain().then("palette", {{"palettes", "centers"}, {"k", k}}).run(image, context);
  EXPECT_EQ(strategies.size(), 1u);
  plan = strategies.empty() ? "" : strategies.front();
  used = std::stoi(plan.substr(plan.rfind(" k ") + 3));
  return out.pixels;
}

class PaletteQuality : public ::testing::TestWithParam<View> {};

TEST_P(PaletteQuality, DefaultsWithinOnePercentOfExactKMeans) {
  const View& v = GetParam();
  const Image image = view_of(v);
  ASSERT_EQ(image.channels(), 3);
  const cv::Mat lab = test::opencv_lab(image.pixels);
  for (const int k : {10, 0}) {
    std::string plan;
    int used = 0;
    const double mine = error_of(lab, imgpipe_palette(image, k, plan, used));
    EXPECT_NE(plan.find(": palette: " + v.strategy), std::string::npos) << plan;
    const double exact = error_of(lab, exact_kmeans(lab, used));
    std::printf("%s %s %dx%d k %d%s: imgpipe %.3f, exact k-means %.3f, ratio %.4f\n", v.photo.c_str(),
                v.how.c_str(), image.width(), image.height(), used, k == 0 ? " (chosen)" : "", mine, exact,
                mine / exact);
    EXPECT_LE(mine, 1.01 * exact) << v.photo << " " << v.how << " k " << used << ": " << plan;
  }
}

INSTANTIATE_TEST_SUITE_P(Photos, PaletteQuality,
                         ::testing::Values(View{"autumn-2560x1600.jpg", "half", "scaled"},
                                           View{"shell-5120x2880.jpg", "centre 2048x512", "pyramid"},
                                           View{"building.jpg", "whole", "scaled"},
                                           View{"starry_night.jpg", "whole", "direct"}),
                         name_of);

}  // namespace
