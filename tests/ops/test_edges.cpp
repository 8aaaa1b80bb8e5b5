// edges: Canny against cv::Canny on the luma with the documented thresholds, Sobel against
// the hand-computed response to a step edge.
#include <gtest/gtest.h>

#include <imgpipe/kernels/filter.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat edge_map(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("edges", params).run(Image(pixels), Context{}).pixels;
}

cv::Mat opencv_canny(const cv::Mat& grey8, double low, double high, int aperture = 3) {
  cv::Mat out;
  cv::Canny(grey8, out, low * 255, high * 255, aperture, true);
  return out;
}

// Black on the left, full scale from column `edge` on.
cv::Mat vertical_step(int channels, int depth, int edge) {
  const double max = depth == CV_16U ? 65535 : 255;
  cv::Mat out(12, 20, CV_MAKETYPE(depth, channels), cv::Scalar::all(0));
  out.colRange(edge, out.cols).setTo(cv::Scalar::all(max));
  return out;
}

cv::Mat channel(const cv::Mat& m, int c) {
  cv::Mat out;
  cv::extractChannel(m, out, c);
  return out;
}

}  // namespace

TEST(Edges, CannyMatchesOpenCvOnThePhotoLuma) {
  const cv::Mat photo = load(test::photo("motorcycle_left.png")).pixels;
  cv::Mat luma;
  cv::cvtColor(photo, luma, cv::COLOR_RGB2GRAY);
  const cv::Mat defaults = edge_map(photo, {});
  ASSERT_EQ(defaults.type(), CV_8UC1);
  EXPECT_TRUE(test::identical(defaults, opencv_canny(luma, 0.1, 0.3)));
  EXPECT_GT(cv::countNonZero(defaults), 1000);  // a detailed photo has many edges
  EXPECT_TRUE(test::identical(edge_map(photo, {{"low", 0.2}, {"high", 0.5}, {"aperture", 5}}),
                              opencv_canny(luma, 0.2, 0.5, 5)));
}

TEST(Edges, CannyOnGreyAndSixteenBit) {
  const cv::Mat grey = test::make_gradient(64, 48, 1);
  EXPECT_TRUE(test::identical(edge_map(grey, {{"low", 0.05}, {"high", 0.1}}), opencv_canny(grey, 0.05, 0.1)));
  // 16-bit luma is reduced to 8 bits (divided by 257) before Canny.
  cv::Mat photo16, luma16, luma8;
  load(test::photo("building.jpg")).pixels.convertTo(photo16, CV_16U, 257.0);
  cv::cvtColor(photo16, luma16, cv::COLOR_RGB2GRAY);
  luma16.convertTo(luma8, CV_8U, 1.0 / 257);
  const cv::Mat out = edge_map(photo16, {});
  ASSERT_EQ(out.type(), CV_8UC1);
  EXPECT_TRUE(test::identical(out, opencv_canny(luma8, 0.1, 0.3)));
}

TEST(Edges, SobelOfAStepIsFullScaleAtTheEdgeAndZeroOnFlats) {
  const int edge = 10;
  for (int depth : {CV_8U, CV_16U})
    for (int aperture : {1, 3, 5, 7}) {
      const double max = depth == CV_16U ? 65535 : 255;
      const cv::Mat out =
          edge_map(vertical_step(3, depth, edge), {{"method", "sobel"}, {"aperture", aperture}});
      ASSERT_EQ(out.type(), CV_MAKETYPE(depth, 1)) << "Sobel keeps the depth";
      // The two columns either side of the step see the whole step in their central taps:
      // the normalised response is full scale (one level for float rounding).
      for (int x : {edge - 1, edge}) {
        double low = 0, high = 0;
        cv::minMaxLoc(out.col(x), &low, &high);
        EXPECT_GE(low, max - 1) << "column " << x << ", depth " << depth << ", aperture " << aperture;
      }
      // Beyond the kernel's reach the image is flat.
      const int reach = std::max(1, aperture / 2);  // aperture 1 is [-1 0 1], no smoothing
      EXPECT_EQ(cv::countNonZero(out.colRange(0, edge - reach)), 0);
      EXPECT_EQ(cv::countNonZero(out.colRange(edge + reach, out.cols)), 0);
    }
}

TEST(Edges, SobelScaleMultiplies) {
  const cv::Mat out = edge_map(vertical_step(1, CV_16U, 10), {{"method", "sobel"}, {"scale", 0.25}});
  EXPECT_NEAR(out.at<std::uint16_t>(5, 10), 65535 / 4.0, 1.0);
}

TEST(Edges, AlphaIsKept) {
  const cv::Mat rgba = test::make_image(40, 30, 4, CV_8U, 3);
  const cv::Mat out = edge_map(rgba, {{"method", "sobel"}});
  ASSERT_EQ(out.type(), CV_8UC2);
  EXPECT_TRUE(test::identical(channel(out, 1), channel(rgba, 3)));

  const cv::Mat grey_alpha = test::make_image(40, 30, 2, CV_16U, 5);
  const cv::Mat sobel16 = edge_map(grey_alpha, {{"method", "sobel"}});
  ASSERT_EQ(sobel16.type(), CV_16UC2);
  EXPECT_TRUE(test::identical(channel(sobel16, 1), channel(grey_alpha, 1)));

  // Canny's output is 8-bit, so a 16-bit alpha comes along divided by 257.
  cv::Mat alpha8;
  channel(grey_alpha, 1).convertTo(alpha8, CV_8U, 1.0 / 257);
  const cv::Mat canny16 = edge_map(grey_alpha, {});
  ASSERT_EQ(canny16.type(), CV_8UC2);
  EXPECT_TRUE(test::identical(channel(canny16, 1), alpha8));
}

TEST(Edges, KernelAcceptsUMat) {
  cv::Mat in = vertical_step(4, CV_8U, 10);
  cv::insertChannel(cv::Mat(in.size(), CV_8U, cv::Scalar(200)), in, 3);
  cv::UMat device = in.getUMat(cv::ACCESS_READ), device_out;
  kernels::edges(device, device_out, {.method = kernels::EdgeMethod::sobel});
  const cv::Mat out = device_out.getMat(cv::ACCESS_READ);
  ASSERT_EQ(out.type(), CV_8UC2);
  EXPECT_EQ(out.at<cv::Vec2b>(6, 10), cv::Vec2b(255, 200));
  EXPECT_EQ(out.at<cv::Vec2b>(6, 3), cv::Vec2b(0, 200));
}
