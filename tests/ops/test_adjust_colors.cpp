// adjust_colors against the formula documented at the top of adjust_colors.cpp, computed
// naively per pixel in naive_colour.hpp.
#include <gtest/gtest.h>

#include <imgpipe/kernels/colour.hpp>

#include "naive_colour.hpp"
#include "test_support.hpp"

using namespace imgpipe;
using test::Adjustment;
using test::Pixel;

namespace {

ParamList params_of(const Adjustment& a) {
  return {{"brightness", a.brightness},
          {"contrast", a.contrast},
          {"gamma", a.gamma},
          {"saturation", a.saturation},
          {"hue", a.hue}};
}

// Through the registered operation, as a chain file runs it.
cv::Mat adjusted(const cv::Mat& pixels, const Adjustment& a) {
  return Chain().then("adjust_colors", params_of(a)).run(Image(pixels), Context{}).pixels;
}

// Through the public kernel.
cv::Mat kernel_adjusted(const cv::Mat& pixels, const Adjustment& a) {
  cv::Mat out;
  kernels::adjust_colors(pixels, out,
                         {.brightness = a.brightness,
                          .contrast = a.contrast,
                          .gamma = a.gamma,
                          .saturation = a.saturation,
                          .hue = a.hue});
  return out;
}

cv::Mat alpha_of(const cv::Mat& m) {
  cv::Mat alpha;
  cv::extractChannel(m, alpha, m.channels() - 1);
  return alpha;
}

struct Case {
  int channels, depth;
};
const Case kCases[] = {{1, CV_8U},  {2, CV_8U},  {3, CV_8U},  {4, CV_8U},
                       {1, CV_16U}, {2, CV_16U}, {3, CV_16U}, {4, CV_16U}};

}  // namespace

TEST(AdjustColors, ToneParametersAloneFollowTheFormula) {
  const Adjustment single[] = {{.brightness = 1.3}, {.brightness = 0.6}, {.contrast = 1.5},
                               {.contrast = 0.4},   {.gamma = 2.2},      {.gamma = 0.5}};
  for (const Case& c : kCases)
    for (const Adjustment& a : single) {
      const cv::Mat in = test::make_image(40, 30, c.channels, c.depth, 7);
      const cv::Mat expected = test::adjust_reference(in, a);
      // One level: the table is sampled from the same formula and rounded once, so only a
      // value within rounding noise of .5 could land one level away.
      EXPECT_LE(test::max_abs_diff(adjusted(in, a), expected), 1.0)
          << c.channels << " channels, depth " << c.depth << ", b " << a.brightness << " c " << a.contrast
          << " g " << a.gamma;
      EXPECT_LE(test::max_abs_diff(kernel_adjusted(in, a), expected), 1.0);
    }
}

TEST(AdjustColors, SaturationFollowsTheLumaFormula) {
  for (int depth : {CV_8U, CV_16U})
    for (double s : {0.3, 1.7}) {
      const cv::Mat in = test::make_image(40, 30, 3, depth, 3);
      const cv::Mat expected = test::map_pixels(in, [&](const Pixel& p) { return test::saturate(p, s); });
      // One level: the same value computed with other rounding of the coefficients.
      EXPECT_LE(test::max_abs_diff(adjusted(in, {.saturation = s}), expected), 1.0) << s;
    }
}

TEST(AdjustColors, SaturationZeroGivesEqualChannelsOfRec709Luma) {
  for (int depth : {CV_8U, CV_16U}) {
    const cv::Mat in = test::make_image(40, 30, 3, depth, 5);
    const cv::Mat out = adjusted(in, {.saturation = 0});
    cv::Mat planes[3];
    cv::split(out, planes);
    EXPECT_TRUE(test::identical(planes[0], planes[1]));
    EXPECT_TRUE(test::identical(planes[0], planes[2]));
    const cv::Mat luma = test::map_pixels(
        in, [](const Pixel& p) { return Pixel{test::luma709(p)}; }, 1);
    EXPECT_LE(test::max_abs_diff(planes[0], luma), 1.0);  // one level: rounding of the weights
  }
}

TEST(AdjustColors, FullHueTurnIsIdentity) {
  for (int depth : {CV_8U, CV_16U}) {
    const cv::Mat in = test::make_image(40, 30, 4, depth, 9);
    // sin(2 pi) is not exactly 0 in double, so allow one level.
    EXPECT_LE(test::max_abs_diff(adjusted(in, {.hue = 360}), in), 1.0);
    EXPECT_LE(test::max_abs_diff(adjusted(in, {.hue = -360}), in), 1.0);
  }
}

TEST(AdjustColors, HueFollowsTheW3cRotation) {
  const cv::Mat in = test::make_image(40, 30, 3, CV_16U, 11);
  for (double hue : {45.0, -100.0, 200.0}) {
    const cv::Mat expected = test::map_pixels(in, [&](const Pixel& p) { return test::rotate_hue(p, hue); });
    EXPECT_LE(test::max_abs_diff(adjusted(in, {.hue = hue}), expected), 1.0) << hue;
  }
}

TEST(AdjustColors, Hue120TurnsPrimariesRoughlyToTheNext) {
  // The W3C matrix is a rotation around the grey axis in a luma-weighted space, not an exact
  // HSV turn, and clamps: red becomes (0, 0.44, 0), green (0.45, 0.69, 1), blue (0.91, 0, 0).
  // So: the next primary is the strongest channel, at least 40 % of full scale, and the
  // others stay below 75 % of it.
  const cv::Vec3b primaries[] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
  for (int i = 0; i < 3; ++i) {
    const cv::Mat in(4, 4, CV_8UC3, cv::Scalar(primaries[i][0], primaries[i][1], primaries[i][2]));
    const cv::Vec3b out = adjusted(in, {.hue = 120}).at<cv::Vec3b>(2, 2);
    const int next = (i + 1) % 3;
    EXPECT_GE(out[next], 0.4 * 255) << "primary " << i;
    for (int c = 0; c < 3; ++c) {
      if (c != next) {
        EXPECT_LT(out[c], 0.75 * out[next]) << "primary " << i << " channel " << c;
      }
    }
  }
}

TEST(AdjustColors, AlphaIsUntouched) {
  const Adjustment all{.brightness = 1.4, .contrast = 1.3, .gamma = 0.7, .saturation = 1.8, .hue = 30};
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {2, 4}) {
      const cv::Mat in = test::make_image(40, 30, channels, depth, 13);
      const cv::Mat out = adjusted(in, all);
      ASSERT_EQ(out.type(), in.type());
      EXPECT_TRUE(test::identical(alpha_of(out), alpha_of(in)));
      EXPECT_FALSE(test::identical(out, in));
    }
}

TEST(AdjustColors, GreyTakesToneButIgnoresSaturationAndHue) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 2}) {
      const cv::Mat in = test::make_image(40, 30, channels, depth, 17);
      EXPECT_TRUE(test::identical(adjusted(in, {.saturation = 0, .hue = 90}), in));
      const Adjustment a{.brightness = 1.2, .saturation = 3, .hue = 45};
      EXPECT_LE(test::max_abs_diff(adjusted(in, a), test::adjust_reference(in, {.brightness = 1.2})), 1.0);
    }
}

TEST(AdjustColors, RealPhotoAllParameters) {
  const cv::Mat photo = load(test::photo("coffee.png")).pixels;
  const Adjustment a{.brightness = 1.1, .contrast = 1.2, .gamma = 1.3, .saturation = 1.4, .hue = -15};
  // One level per rounding: the reference rounds at the same two places.
  EXPECT_LE(test::max_abs_diff(adjusted(photo, a), test::adjust_reference(photo, a)), 1.0);
}

TEST(AdjustColors, KernelAcceptsUMatAndInPlace) {
  const cv::Mat in = test::make_image(40, 30, 4, CV_8U, 19);
  const kernels::AdjustColorsOptions options{.brightness = 1.2, .saturation = 0.5};
  const cv::Mat expected = test::adjust_reference(in, {.brightness = 1.2, .saturation = 0.5});
  cv::UMat device = in.getUMat(cv::ACCESS_READ), device_out;
  kernels::adjust_colors(device, device_out, options);
  EXPECT_LE(test::max_abs_diff(device_out.getMat(cv::ACCESS_READ), expected), 1.0);
  cv::Mat in_place = in.clone();
  kernels::adjust_colors(in_place, in_place, options);
  EXPECT_LE(test::max_abs_diff(in_place, expected), 1.0);
}
