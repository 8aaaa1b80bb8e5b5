// grayscale against naive weighted sums per pixel and OpenCV's own RGB → grey conversion.
#include <gtest/gtest.h>

#include <imgpipe/kernels/colour.hpp>
#include <opencv2/imgproc.hpp>

#include "naive_colour.hpp"
#include "test_support.hpp"

using namespace imgpipe;
using test::Pixel;

namespace {

cv::Mat greyed(const cv::Mat& pixels, const char* weights, bool keep_channels = false) {
  return Chain()
      .then("grayscale", {{"weights", weights}, {"keep_channels", keep_channels}})
      .run(Image(pixels), Context{})
      .pixels;
}

// Luma with the given weights, one grey channel plus the input's alpha.
cv::Mat naive_luma(const cv::Mat& rgb, const std::array<double, 3>& w) {
  const bool alpha = rgb.channels() == 4;
  return test::map_pixels(
      rgb,
      [&](const Pixel& p) {
        return Pixel{w[0] * p[0] + w[1] * p[1] + w[2] * p[2], alpha ? p[3] : 0.0};
      },
      alpha ? 2 : 1);
}

struct Weights {
  const char* name;
  std::array<double, 3> w;
};
const Weights kWeights[] = {{"rec709", {0.2126, 0.7152, 0.0722}},
                            {"rec601", {0.299, 0.587, 0.114}},
                            {"average", {1 / 3.0, 1 / 3.0, 1 / 3.0}}};

}  // namespace

TEST(Grayscale, WeightsMatchNaiveSums) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {3, 4})
      for (const Weights& weights : kWeights) {
        const cv::Mat in = test::make_image(40, 30, channels, depth, 3);
        const cv::Mat out = greyed(in, weights.name);
        ASSERT_EQ(out.type(), CV_MAKETYPE(depth, channels - 2));
        // One level: the library multiplies with float weights, the reference in double.
        EXPECT_LE(test::max_abs_diff(out, naive_luma(in, weights.w)), 1.0)
            << weights.name << ", " << channels << " channels, depth " << depth;
      }
}

TEST(Grayscale, Rec601MatchesOpenCv) {
  const cv::Mat photo = load(test::photo("astronaut.png")).pixels;
  cv::Mat expected;
  cv::cvtColor(photo, expected, cv::COLOR_RGB2GRAY);
  // One level: OpenCV converts in fixed point, imgpipe in float.
  EXPECT_LE(test::max_abs_diff(greyed(photo, "rec601"), expected), 1.0);
  // Rec. 709 weighs green more than Rec. 601: on a real photo the two must differ.
  EXPECT_GT(test::max_abs_diff(greyed(photo, "rec709"), expected), 5.0);
}

TEST(Grayscale, AlphaIsKept) {
  for (int depth : {CV_8U, CV_16U}) {
    const cv::Mat in = test::make_image(40, 30, 4, depth, 5);
    const cv::Mat out = greyed(in, "rec709");
    ASSERT_EQ(out.channels(), 2);
    cv::Mat alpha_in, alpha_out;
    cv::extractChannel(in, alpha_in, 3);
    cv::extractChannel(out, alpha_out, 1);
    EXPECT_TRUE(test::identical(alpha_out, alpha_in));
  }
}

TEST(Grayscale, KeepChannelsWritesTheGreyThreeTimes) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {3, 4}) {
      const cv::Mat in = test::make_image(40, 30, channels, depth, 7);
      const cv::Mat out = greyed(in, "rec601", true);
      ASSERT_EQ(out.type(), in.type());
      std::vector<cv::Mat> planes;
      cv::split(out, planes);
      EXPECT_TRUE(test::identical(planes[0], planes[1]));
      EXPECT_TRUE(test::identical(planes[0], planes[2]));
      std::vector<cv::Mat> luma;
      cv::split(naive_luma(in, kWeights[1].w), luma);
      EXPECT_LE(test::max_abs_diff(planes[0], luma[0]), 1.0);  // as above: float weights
      if (channels == 4) {
        EXPECT_TRUE(test::identical(planes[3], luma[1]));
      }
    }
}

TEST(Grayscale, GreyInputIsUnchanged) {
  for (int channels : {1, 2}) {
    const cv::Mat in = test::make_image(40, 30, channels, CV_16U, 9);
    EXPECT_TRUE(test::identical(greyed(in, "average"), in));
    cv::Mat out;
    kernels::grayscale(in, out);
    EXPECT_TRUE(test::identical(out, in));
  }
}

TEST(Grayscale, SixteenBitPhoto) {
  // A 16-bit RGB image made from a photo (v * 257 spans the full 16-bit range).
  cv::Mat photo16;
  load(test::photo("chelsea.png")).pixels.convertTo(photo16, CV_16U, 257.0);
  cv::Mat out;
  kernels::grayscale(photo16, out, {.weights = kernels::LumaWeights::rec709});
  ASSERT_EQ(out.type(), CV_16UC1);
  EXPECT_LE(test::max_abs_diff(out, naive_luma(photo16, kWeights[0].w)), 1.0);
}

TEST(Grayscale, KernelAcceptsUMat) {
  const cv::Mat in = test::make_image(40, 30, 4, CV_8U, 11);
  cv::UMat device = in.getUMat(cv::ACCESS_READ), device_out;
  kernels::grayscale(device, device_out, {.weights = kernels::LumaWeights::average});
  EXPECT_LE(test::max_abs_diff(device_out.getMat(cv::ACCESS_READ), naive_luma(in, kWeights[2].w)), 1.0);
}
