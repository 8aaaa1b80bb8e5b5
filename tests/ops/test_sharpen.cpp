// sharpen against a naive unsharp mask in double: a separable Gaussian written out here
// (radius ceil(3 sigma), mirrored edges), the per-sample threshold, premultiplied alpha.
#include <gtest/gtest.h>

#include <cmath>
#include <imgpipe/kernels/filter.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

struct Unsharp {
  double amount = 1, radius = 1, threshold = 0;
};

cv::Mat sharpened(const cv::Mat& pixels, const Unsharp& u) {
  return Chain()
      .then("sharpen", {{"amount", u.amount}, {"radius", u.radius}, {"threshold", u.threshold}})
      .run(Image(pixels), Context{})
      .pixels;
}

int mirror(int i, int n) {
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

// Gaussian of one CV_64FC1 plane, rows then columns.
cv::Mat naive_gaussian(const cv::Mat& plane, double sigma) {
  const int r = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  std::vector<double> w(static_cast<std::size_t>(2 * r + 1));
  double sum = 0;
  for (int i = -r; i <= r; ++i)
    sum += w[static_cast<std::size_t>(i + r)] = std::exp(-i * i / (2 * sigma * sigma));
  for (double& v : w) v /= sum;
  cv::Mat across(plane.size(), CV_64F), out(plane.size(), CV_64F);
  for (int y = 0; y < plane.rows; ++y)
    for (int x = 0; x < plane.cols; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i)
        acc += w[static_cast<std::size_t>(i + r)] * plane.at<double>(y, mirror(x + i, plane.cols));
      across.at<double>(y, x) = acc;
    }
  for (int y = 0; y < plane.rows; ++y)
    for (int x = 0; x < plane.cols; ++x) {
      double acc = 0;
      for (int i = -r; i <= r; ++i)
        acc += w[static_cast<std::size_t>(i + r)] * across.at<double>(mirror(y + i, plane.rows), x);
      out.at<double>(y, x) = acc;
    }
  return out;
}

// out = in + amount * detail where |detail| > threshold, on colour premultiplied by alpha;
// alpha is kept.
cv::Mat naive_unsharp(const cv::Mat& src, const Unsharp& u) {
  const double max = src.depth() == CV_16U ? 65535 : 255;
  const bool has_alpha = src.channels() == 2 || src.channels() == 4;
  std::vector<cv::Mat> planes;
  cv::Mat as_double;
  src.convertTo(as_double, CV_64F);
  cv::split(as_double, planes);
  const cv::Mat alpha = has_alpha ? planes.back() / max : cv::Mat::ones(src.size(), CV_64F);
  for (std::size_t c = 0; c < planes.size() - (has_alpha ? 1 : 0); ++c) {
    const cv::Mat premultiplied = planes[c].mul(alpha);
    const cv::Mat blurred = naive_gaussian(premultiplied, u.radius);
    cv::Mat out(src.size(), CV_64F);
    for (int y = 0; y < src.rows; ++y)
      for (int x = 0; x < src.cols; ++x) {
        const double v = premultiplied.at<double>(y, x), detail = v - blurred.at<double>(y, x);
        const double sharp = std::abs(detail) > u.threshold * max ? v + u.amount * detail : v;
        const double a = alpha.at<double>(y, x);
        out.at<double>(y, x) = a > 0 ? std::min(sharp / a, max) : 0;
      }
    planes[c] = out;
  }
  cv::Mat merged, rounded;
  cv::merge(planes, merged);
  merged.convertTo(rounded, src.depth());
  return rounded;
}

// Largest difference where alpha is not 0 (the colour of invisible pixels is undefined).
double max_visible_diff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff, alpha;
  cv::absdiff(a, b, diff);
  cv::extractChannel(b, alpha, b.channels() - 1);
  cv::Mat mask;
  cv::merge(std::vector<cv::Mat>(static_cast<std::size_t>(b.channels()), alpha > 0), mask);
  double worst = 0;
  cv::minMaxLoc(diff.reshape(1), nullptr, &worst, nullptr, nullptr, mask.reshape(1));
  return worst;
}

// Mid-grey plus uniform noise of +-amplitude levels.
cv::Mat noise(int channels, int depth, double amplitude) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> dist(-amplitude, amplitude);
  const double mid = depth == CV_16U ? 32768 : 128;
  // One plane of every sample, then split into channels (an iterator over a multi-channel
  // Mat steps a whole pixel at a time and would leave all but the first channel unset).
  cv::Mat out(24, 24 * channels, CV_64F);
  for (auto it = out.begin<double>(); it != out.end<double>(); ++it) *it = mid + dist(rng);
  out = out.reshape(channels);
  cv::Mat rounded;
  out.convertTo(rounded, depth);
  return rounded;
}

}  // namespace

TEST(Sharpen, MatchesNaiveUnsharpMask) {
  const Unsharp settings[] = {{1, 1, 0}, {2.5, 2, 0}, {1.5, 1, 0.05}, {0.4, 0.6, 0}};
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 3})
      for (const Unsharp& u : settings) {
        const cv::Mat in = test::make_image(40, 32, channels, depth, 3);
        // One level: float against double, both rounded once.
        EXPECT_LE(test::max_abs_diff(sharpened(in, u), naive_unsharp(in, u)), 1.0)
            << channels << " channels, depth " << depth << ", amount " << u.amount << ", radius " << u.radius
            << ", threshold " << u.threshold;
      }
}

TEST(Sharpen, AlphaIsNotSharpenedAndColourIsPremultiplied) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {2, 4}) {
      const cv::Mat in = test::make_image(40, 32, channels, depth, 7);
      const Unsharp u{1.5, 1.2, 0};
      const cv::Mat out = sharpened(in, u);
      cv::Mat alpha_in, alpha_out;
      cv::extractChannel(in, alpha_in, channels - 1);
      cv::extractChannel(out, alpha_out, channels - 1);
      EXPECT_TRUE(test::identical(alpha_out, alpha_in));
      // One level, as above; the colour of fully transparent pixels is undefined.
      EXPECT_LE(max_visible_diff(out, naive_unsharp(in, u)), 1.0) << channels << " channels, depth " << depth;
    }
}

TEST(Sharpen, AmountZeroIsIdentity) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 3, 4}) {
      cv::Mat in = test::make_image(40, 32, channels, depth, 9);
      if (channels == 4) {  // keep every pixel visible: transparent colour is undefined
        cv::Mat alpha;
        cv::extractChannel(in, alpha, 3);
        cv::max(alpha, 1, alpha);
        cv::insertChannel(alpha, in, 3);
      }
      EXPECT_TRUE(test::identical(sharpened(in, {0, 2, 0}), in)) << channels << " channels, depth " << depth;
    }
}

TEST(Sharpen, ThresholdLeavesSmallDetailAlone) {
  for (int depth : {CV_8U, CV_16U}) {
    const double level = depth == CV_16U ? 257 : 1;
    const cv::Mat in = noise(3, depth, 3 * level);
    // The detail of noise within +-3 levels is at most 6 levels: a threshold of 10 levels
    // leaves every sample, and no threshold sharpens the noise.
    EXPECT_TRUE(test::identical(sharpened(in, {2, 1, 10.0 / 255}), in));
    EXPECT_GT(test::max_abs_diff(sharpened(in, {2, 1, 0}), in), 2 * level);
  }
}

// The 8-bit path blurs with OpenCV's 8-bit Gaussian (whole levels) up to amount 1 and radius
// 3, and in 16 bits beyond: both within one level of the exact unsharp mask on real photos.
TEST(Sharpen, EightBitPathsStayWithinOneLevelOnRealPhotos) {
  for (const char* name : {"fruits.jpg", "baboon.jpg", "building.jpg"}) {
    const cv::Mat photo = load(test::photo(name)).pixels(cv::Rect(0, 0, 160, 120)).clone();
    for (const Unsharp u :
         {Unsharp{0.3, 1}, Unsharp{0.6, 0.5}, Unsharp{1, 2}, Unsharp{1, 3}, Unsharp{1.8, 1}})
      EXPECT_LE(test::max_abs_diff(sharpened(photo, u), naive_unsharp(photo, u)), 1.0)
          << name << " amount " << u.amount << " radius " << u.radius;
  }
}

TEST(Sharpen, RealPhotoGainsDetail) {
  const cv::Mat photo = load(test::photo("coffee.png")).pixels;
  const Unsharp u{1, 1.5, 0};
  const cv::Mat out = sharpened(photo, u);
  EXPECT_LE(test::max_abs_diff(out, naive_unsharp(photo, u)), 1.0);  // as above
  const auto detail = [](const cv::Mat& m) {
    cv::Mat grey, laplacian;
    cv::cvtColor(m, grey, cv::COLOR_RGB2GRAY);
    cv::Laplacian(grey, laplacian, CV_32F);
    return cv::mean(cv::abs(laplacian))[0];
  };
  EXPECT_GT(detail(out), 1.3 * detail(photo));
}

TEST(Sharpen, KernelAcceptsUMatAndInPlace) {
  const cv::Mat in = test::make_image(40, 32, 4, CV_8U, 11);
  const cv::Mat expected = naive_unsharp(in, {1, 1, 0});
  cv::UMat device = in.getUMat(cv::ACCESS_READ), device_out;
  kernels::sharpen(device, device_out, {.amount = 1, .radius = 1});
  EXPECT_LE(max_visible_diff(device_out.getMat(cv::ACCESS_READ), expected), 1.0);
  cv::Mat in_place = in.clone();
  kernels::sharpen(in_place, in_place, {.amount = 1, .radius = 1});
  EXPECT_LE(max_visible_diff(in_place, expected), 1.0);
}
