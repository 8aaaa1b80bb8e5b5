// median against a naive reference written here (each channel's median of the (2r+1)^2 window,
// edges replicated), on real photos and synthetic images, 8- and 16-bit, grey, grey + alpha,
// RGB and RGBA; what it is for (specks go, edges stay); its parameter's range; and that a
// tiled run is exact.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// The naive median: for every sample, the window's samples of its channel, with coordinates
// clamped to the image (replicated edges), and the middle one of them in order.
template <typename T>
cv::Mat naive_median_typed(const cv::Mat& in, int radius) {
  cv::Mat out(in.size(), in.type());
  const int channels = in.channels();
  std::vector<T> window;
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x)
      for (int c = 0; c < channels; ++c) {
        window.clear();
        for (int dy = -radius; dy <= radius; ++dy)
          for (int dx = -radius; dx <= radius; ++dx) {
            const int sy = std::clamp(y + dy, 0, in.rows - 1), sx = std::clamp(x + dx, 0, in.cols - 1);
            window.push_back(in.ptr<T>(sy)[sx * channels + c]);
          }
        const auto middle = window.begin() + static_cast<std::ptrdiff_t>(window.size() / 2);
        std::nth_element(window.begin(), middle, window.end());
        out.ptr<T>(y)[x * channels + c] = *middle;
      }
  return out;
}

cv::Mat naive_median(const cv::Mat& in, int radius) {
  return in.depth() == CV_16U ? naive_median_typed<std::uint16_t>(in, radius)
                              : naive_median_typed<std::uint8_t>(in, radius);
}

cv::Mat median(const cv::Mat& pixels, int radius, const Context& context = {}) {
  return Chain().then("median", {{"radius", radius}}).run(Image(pixels), context).pixels;
}

std::string what(const cv::Mat& pixels, int radius) {
  return std::to_string(pixels.cols) + "x" + std::to_string(pixels.rows) + ", " +
         std::to_string(pixels.channels()) + " channels, " + (pixels.depth() == CV_16U ? "16" : "8") +
         "-bit, radius " + std::to_string(radius);
}

void expect_matches_reference(const cv::Mat& pixels, int radius) {
  const cv::Mat got = median(pixels, radius);
  const cv::Mat expected = naive_median(pixels, radius);
  ASSERT_EQ(got.type(), pixels.type()) << what(pixels, radius);
  EXPECT_TRUE(test::identical(got, expected))
      << what(pixels, radius) << ": max difference " << test::max_abs_diff(got, expected) << ", "
      << cv::countNonZero(got.reshape(1) != expected.reshape(1)) << " samples differ";
}

// The 16-bit form of an 8-bit image (v * 257), with noise in the low byte so that 16-bit
// samples that share their high byte still differ.
cv::Mat to_16bit(const cv::Mat& pixels, std::uint32_t seed) {
  cv::Mat wide, noise(pixels.size(), CV_16UC(pixels.channels()));
  pixels.convertTo(wide, CV_16U, 257.0);
  cv::RNG(seed).fill(noise, cv::RNG::UNIFORM, 0, 200);
  cv::subtract(wide, noise, wide);  // saturates at 0
  return wide;
}

// A region of a real photo, small enough for the naive reference.
cv::Mat photo_region(const std::string& name, cv::Rect region) {
  return load(test::photo(name)).pixels(region).clone();
}

}  // namespace

TEST(Median, MatchesTheReferenceOnSyntheticImages) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels = 1; channels <= 4; ++channels)
      for (int radius : {1, 2, 3, 5})
        expect_matches_reference(
            test::make_image(37, 29, channels, depth, 7u + static_cast<unsigned>(radius)), radius);
}

TEST(Median, MatchesTheReferenceOnRealPhotos) {
  const cv::Mat rgb = photo_region("fruits.jpg", {200, 150, 72, 56});
  const cv::Mat rgba = photo_region("opencv-logo-rgba.png", {60, 40, 80, 64});  // edges of the logo
  ASSERT_EQ(rgba.channels(), 4);
  cv::Mat grey;
  cv::cvtColor(photo_region("baboon.jpg", {100, 100, 64, 64}), grey, cv::COLOR_RGB2GRAY);
  const cv::Mat grey16 = photo_region("chessboard_GRAY_U16.tif", {30, 30, 60, 50});
  ASSERT_EQ(grey16.type(), CV_16UC1);
  for (int radius : {1, 2, 4}) {
    for (const cv::Mat& photo : {rgb, rgba, grey}) {
      expect_matches_reference(photo, radius);
      expect_matches_reference(to_16bit(photo, 3), radius);
    }
    expect_matches_reference(grey16, radius);
  }
  // A large window on both depths: the 16-bit histogram path well past cv::medianBlur's 5x5.
  expect_matches_reference(rgb, 9);
  expect_matches_reference(to_16bit(rgba, 5), 9);
}

TEST(Median, NarrowImagesReplicateTheirEdges) {
  for (int depth : {CV_8U, CV_16U})
    for (cv::Size size : {cv::Size(1, 40), cv::Size(40, 1), cv::Size(1, 1), cv::Size(2, 3)})
      for (int radius : {1, 3})
        expect_matches_reference(test::make_image(size.width, size.height, 3, depth, 11), radius);
}

TEST(Median, RemovesSpecksAndKeepsEdges) {
  for (int depth : {CV_8U, CV_16U}) {
    const double full = depth == CV_16U ? 65535 : 255;
    // Two flat halves with a straight edge between them: a median leaves them as they are.
    cv::Mat clean(40, 50, CV_MAKETYPE(depth, 3), cv::Scalar(0.2 * full, 0.4 * full, 0.6 * full));
    clean.colRange(25, 50).setTo(cv::Scalar(0.9 * full, 0.1 * full, 0.5 * full));
    EXPECT_TRUE(test::identical(median(clean, 2), clean));
    // Salt and pepper, no two specks in one 3x3 window: the 3x3 median takes all of them out.
    cv::Mat noisy = clean.clone();
    for (int y = 1; y < noisy.rows; y += 4)
      for (int x = 2; x < noisy.cols; x += 5) {
        const double level = (x + y) % 2 == 0 ? full : 0;
        noisy(cv::Rect(x, y, 1, 1)).setTo(cv::Scalar(level, level, level));
      }
    ASSERT_FALSE(test::identical(noisy, clean));
    EXPECT_TRUE(test::identical(median(noisy, 1), clean)) << test::max_abs_diff(median(noisy, 1), clean);
  }
}

TEST(Median, AlphaIsFilteredAsABandOfItsOwn) {
  // Opaque red except a column of transparent blue: three of each 3x3 window's nine pixels are
  // blue and transparent, so the median keeps red and opaque in every band: no blend, no blue.
  cv::Mat in(9, 9, CV_8UC4, cv::Scalar(255, 0, 0, 255));
  in.col(4).setTo(cv::Scalar(0, 0, 255, 0));
  const cv::Mat out = median(in, 1);
  EXPECT_TRUE(test::identical(out, cv::Mat(9, 9, CV_8UC4, cv::Scalar(255, 0, 0, 255))));
  // Each band on its own: grey and alpha of one output pixel may come from different pixels.
  // At the middle pixel (its one row replicated) the window holds grey {10, 30, 20} and alpha
  // {0, 100, 200}, three times each: the medians 20 and 100 come from two different pixels.
  const cv::Mat pairs =
      (cv::Mat_<cv::Vec2b>(1, 3) << cv::Vec2b(10, 0), cv::Vec2b(30, 100), cv::Vec2b(20, 200));
  EXPECT_EQ(median(pairs, 1).at<cv::Vec2b>(0, 1), cv::Vec2b(20, 100));
}

TEST(Median, RadiusIsCheckedWhenTheChainIsBuilt) {
  EXPECT_EQ(test::config_error([] {
              Chain().then("median", {{"radius", 0}});
            }),
            "median.radius: expected integer 1..50, got 0");
  EXPECT_EQ(test::config_error([] {
              Chain().then("median", {{"radius", 51}});
            }),
            "median.radius: expected integer 1..50, got 51");
  EXPECT_NE(test::config_error([] { Chain().then("median", {{"radius", 1.5}}); }), "");
  const OpDescriptor& descriptor = Registry::global().at("median");
  EXPECT_EQ(descriptor.footprint, Footprint::neighbourhood);
  for (int radius : {1, 7, 50})
    EXPECT_EQ(descriptor.create(validate_params(descriptor, {{"radius", radius}}))->halo(), radius);
}

TEST(Median, ATiledRunIsExact) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 3, 4})
      for (int radius : {1, 3}) {
        const cv::Mat pixels = test::make_image(173, 131, channels, depth, 21);
        PerformanceMonitor monitor;
        Context tiled;
        tiled.tile_size = 37;
        tiled.monitor = &monitor;
        const cv::Mat tiles = median(pixels, radius, tiled);
        ASSERT_FALSE(monitor.stats().empty());
        EXPECT_NE(monitor.stats().front().name.find("(tiled "), std::string::npos)
            << monitor.stats().front().name;
        Context whole;
        whole.tile_size = 1 << 20;
        EXPECT_TRUE(test::identical(tiles, median(pixels, radius, whole))) << what(pixels, radius);
        EXPECT_TRUE(test::identical(tiles, naive_median(pixels, radius))) << what(pixels, radius);
      }
}
