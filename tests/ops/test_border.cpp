// border: sizes per side, exact colour, replicate and mirror against cv::copyMakeBorder, and
// the image widening to show the colour.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat run(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("border", params).run(Image(pixels), Context{}).pixels;
}

// Every pixel outside `inner` equals `value` (given per channel).
bool border_is(const cv::Mat& out, cv::Rect inner, const cv::Scalar& value) {
  cv::Mat expected(out.size(), out.type(), value);
  cv::Mat mask(out.size(), CV_8U, cv::Scalar(255));
  mask(inner).setTo(0);
  return cv::norm(out, expected, cv::NORM_INF, mask) == 0;
}

struct Layout {
  int channels, depth;
};
const Layout kLayouts[] = {{1, CV_8U},  {2, CV_8U},  {3, CV_8U}, {4, CV_8U},
                           {1, CV_16U}, {3, CV_16U}, {4, CV_16U}};

}  // namespace

TEST(Border, SizesPerSide) {
  const cv::Mat src = test::make_image(30, 20, 3);
  const cv::Mat out = run(src, {{"size", 5}, {"top", 1}, {"left", 7}});
  ASSERT_EQ(out.size(), cv::Size(7 + 30 + 5, 1 + 20 + 5));
  EXPECT_TRUE(test::identical(out(cv::Rect(7, 1, 30, 20)), src));
  const cv::Mat none = run(src, {{"size", 0}});
  EXPECT_TRUE(test::identical(none, src));
  const cv::Mat default_size = run(src, {});  // 10 on every side
  EXPECT_EQ(default_size.size(), cv::Size(50, 40));
}

TEST(Border, ColourIsExactForEveryLayout) {
  for (Layout f : kLayouts) {
    SCOPED_TRACE(testing::Message() << f.channels << " channels, depth " << f.depth);
    const cv::Mat src = test::make_image(17, 11, f.channels, f.depth);
    // A grey colour: no layout needs widening for it.
    const cv::Mat out = run(src, {{"size", 3}, {"right", 6}, {"colour", "#808080"}});
    ASSERT_EQ(out.type(), src.type());
    const cv::Rect inner(3, 3, 17, 11);
    EXPECT_TRUE(test::identical(out(inner), src));
    const double grey = f.depth == CV_16U ? 128 * 257 : 128, max = f.depth == CV_16U ? 65535 : 255;
    const cv::Scalar expected = f.channels == 2   ? cv::Scalar(grey, max)
                                : f.channels == 4 ? cv::Scalar(grey, grey, grey, max)
                                                  : cv::Scalar::all(grey);
    EXPECT_TRUE(border_is(out, inner, expected));
  }
}

TEST(Border, ReplicateAndMirrorMatchCopyMakeBorder) {
  for (Layout f : kLayouts)
    for (auto [mode, type] :
         {std::pair{"replicate", cv::BORDER_REPLICATE}, std::pair{"mirror", cv::BORDER_REFLECT_101}}) {
      SCOPED_TRACE(testing::Message() << mode << ", " << f.channels << " channels, depth " << f.depth);
      const cv::Mat src = test::make_image(17, 11, f.channels, f.depth);
      cv::Mat reference;
      cv::copyMakeBorder(src, reference, 4, 2, 5, 3, type);
      EXPECT_TRUE(test::identical(
          run(src, {{"mode", mode}, {"top", 4}, {"bottom", 2}, {"left", 5}, {"right", 3}}), reference));
    }
}

TEST(Border, MirrorReflectsWithoutRepeatingTheEdge) {
  const cv::Mat src = test::make_image(8, 6, 1);
  const cv::Mat out = run(src, {{"mode", "mirror"}, {"size", 2}});
  for (int y = 0; y < 6; ++y) {
    EXPECT_EQ(out.at<std::uint8_t>(y + 2, 1), src.at<std::uint8_t>(y, 1));   // x = -1 shows x = 1
    EXPECT_EQ(out.at<std::uint8_t>(y + 2, 0), src.at<std::uint8_t>(y, 2));   // x = -2 shows x = 2
    EXPECT_EQ(out.at<std::uint8_t>(y + 2, 10), src.at<std::uint8_t>(y, 6));  // x = 8 shows x = 6
  }
}

TEST(BorderKernel, ARegionIsExtendedFromItsOwnEdges) {
  const cv::Mat big = test::make_image(40, 30, 3);
  const cv::Mat region = big(cv::Rect(10, 10, 12, 8));
  cv::Mat from_region, from_copy;
  const kernels::BorderOptions options{
      .top = 3, .right = 3, .bottom = 3, .left = 3, .mode = kernels::BorderMode::replicate};
  kernels::border(region, from_region, options);
  kernels::border(region.clone(), from_copy, options);
  EXPECT_TRUE(test::identical(from_region, from_copy));
}

TEST(Border, GreyImageWithColouredBorderBecomesRgb) {
  for (int depth : {CV_8U, CV_16U}) {
    const double scale = depth == CV_16U ? 257.0 : 1.0;
    const cv::Mat src = test::make_image(12, 9, 1, depth);
    const cv::Mat out = run(src, {{"size", 2}, {"colour", "#ff8000"}});
    ASSERT_EQ(out.type(), CV_MAKETYPE(depth, 3));
    EXPECT_TRUE(border_is(out, cv::Rect(2, 2, 12, 9), cv::Scalar(255 * scale, 128 * scale, 0)));
    std::vector<cv::Mat> planes;
    cv::split(out(cv::Rect(2, 2, 12, 9)), planes);
    for (const cv::Mat& plane : planes) EXPECT_TRUE(test::identical(plane, src));  // grey as R = G = B
  }
}

TEST(Border, TransparentBorderAddsAlpha) {
  for (Layout f : {Layout{3, CV_8U}, Layout{3, CV_16U}, Layout{1, CV_8U}}) {
    SCOPED_TRACE(testing::Message() << f.channels << " channels, depth " << f.depth);
    const double max = f.depth == CV_16U ? 65535.0 : 255.0;
    const cv::Mat src = test::make_image(12, 9, f.channels, f.depth);
    const cv::Mat out = run(src, {{"size", 2}, {"colour", "transparent"}});
    ASSERT_EQ(out.channels(), f.channels + 1);
    const cv::Rect inner(2, 2, 12, 9);
    EXPECT_TRUE(border_is(out, inner, cv::Scalar::all(0)));  // transparent black
    std::vector<cv::Mat> planes, original;
    cv::split(out(inner), planes);
    cv::split(src, original);
    for (std::size_t c = 0; c < original.size(); ++c) EXPECT_TRUE(test::identical(planes[c], original[c]));
    double lo = 0;
    cv::minMaxLoc(planes.back(), &lo);
    EXPECT_EQ(lo, max);  // the image itself is opaque
  }
}

TEST(Border, SemiTransparentColourKeepsTheImageAlpha) {
  const cv::Mat src = test::make_image(10, 10, 4, CV_16U);
  const cv::Mat out = run(src, {{"size", 1}, {"colour", "#11223380"}});
  ASSERT_EQ(out.type(), CV_16UC4);
  EXPECT_TRUE(test::identical(out(cv::Rect(1, 1, 10, 10)), src));
  EXPECT_TRUE(
      border_is(out, cv::Rect(1, 1, 10, 10), cv::Scalar(0x11 * 257, 0x22 * 257, 0x33 * 257, 0x80 * 257)));
}

TEST(BorderKernel, SameResultOnMatAndUMat) {
  const cv::Mat src = test::make_image(20, 10, 2, CV_16U);
  for (kernels::BorderMode mode : {kernels::BorderMode::colour, kernels::BorderMode::mirror}) {
    const kernels::BorderOptions options{
        .top = 2, .right = 3, .bottom = 4, .left = 5, .mode = mode, .colour = {200, 10, 10, 255}};
    cv::Mat on_host;
    kernels::border(src, on_host, options);
    cv::UMat device_src = src.getUMat(cv::ACCESS_READ), on_device;
    kernels::border(device_src, on_device, options);
    EXPECT_TRUE(test::identical(on_device.getMat(cv::ACCESS_READ), on_host));  // copies only: exact
    cv::UMat in_place = device_src.clone();
    kernels::border(in_place, in_place, options);
    EXPECT_TRUE(test::identical(in_place.getMat(cv::ACCESS_READ), on_host));
  }
}
