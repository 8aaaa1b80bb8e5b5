// crop: the exact pixels of a Mat ROI, centring, and refusing regions that do not fit.
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

Image run(const Image& input, const ParamList& params) {
  return Chain().then("crop", params).run(input, Context{});
}

struct Layout {
  int channels, depth;
};
const Layout kFormats[] = {{1, CV_8U},  {2, CV_8U},  {3, CV_8U}, {4, CV_8U},
                           {3, CV_16U}, {4, CV_16U}, {2, CV_16U}};

}  // namespace

TEST(Crop, ExactPixelsOfTheRegion) {
  for (Layout f : kFormats) {
    SCOPED_TRACE(testing::Message() << f.channels << " channels, depth " << f.depth);
    const cv::Mat src = test::make_image(50, 40, f.channels, f.depth);
    const cv::Mat out = run(Image(src), {{"left", 5}, {"top", 7}, {"width", 20}, {"height", 10}}).pixels;
    EXPECT_TRUE(test::identical(out, src(cv::Rect(5, 7, 20, 10))));
    // The whole image and a single pixel at the far corner are regions too.
    EXPECT_TRUE(test::identical(
        run(Image(src), {{"left", 0}, {"top", 0}, {"width", 50}, {"height", 40}}).pixels, src));
    EXPECT_TRUE(
        test::identical(run(Image(src), {{"left", 49}, {"top", 39}, {"width", 1}, {"height", 1}}).pixels,
                        src(cv::Rect(49, 39, 1, 1))));
  }
}

TEST(Crop, CentresWhenLeftOrTopIsUnset) {
  const cv::Mat src = test::make_image(51, 40, 3);
  // (51 - 20) / 2 = 15.5 → 15; (40 - 10) / 2 = 15.
  EXPECT_TRUE(test::identical(run(Image(src), {{"width", 20}, {"height", 10}}).pixels,
                              src(cv::Rect(15, 15, 20, 10))));
  EXPECT_TRUE(test::identical(run(Image(src), {{"left", 3}, {"width", 20}, {"height", 10}}).pixels,
                              src(cv::Rect(3, 15, 20, 10))));
  EXPECT_TRUE(test::identical(run(Image(src), {{"top", 2}, {"width", 20}, {"height", 10}}).pixels,
                              src(cv::Rect(15, 2, 20, 10))));
}

TEST(Crop, OutputOwnsItsPixelsAndKeepsMetadata) {
  Image input(test::make_image(30, 20, 3));
  input.source = "frame.png";
  input.icc = {1, 2, 3};
  const cv::Mat before = input.pixels.clone();
  Image out = run(input, {{"left", 2}, {"top", 2}, {"width", 10}, {"height", 10}});
  out.pixels.setTo(cv::Scalar::all(0));
  EXPECT_TRUE(test::identical(input.pixels, before));
  EXPECT_EQ(out.source, "frame.png");
  EXPECT_EQ(out.icc, input.icc);
}

TEST(Crop, RegionOutsideTheImageIsAConfigErrorNamingTheSizes) {
  Image input(test::make_image(50, 40, 3));
  input.source = "photo.jpg";
  auto message = [&](const ParamList& params) -> std::string {
    try {
      run(input, params);
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::config);
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  };
  const std::string past_right = message({{"left", 40}, {"top", 0}, {"width", 20}, {"height", 10}});
  EXPECT_NE(past_right.find("photo.jpg"), std::string::npos) << past_right;
  EXPECT_NE(past_right.find("20x10"), std::string::npos) << past_right;
  EXPECT_NE(past_right.find("50x40"), std::string::npos) << past_right;
  const std::string too_big = message({{"width", 60}, {"height", 10}});  // centring would start at -5
  EXPECT_NE(too_big.find("60x10"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("50x40"), std::string::npos) << too_big;
  const std::string past_bottom = message({{"left", 0}, {"top", 35}, {"width", 10}, {"height", 6}});
  EXPECT_NE(past_bottom.find("10x6"), std::string::npos) << past_bottom;
}

TEST(CropKernel, WorksOnMatAndUMat) {
  const cv::Mat src = test::make_image(40, 30, 4, CV_16U);
  cv::Mat out;
  kernels::crop(src, out, {.size = {8, 6}, .left = 30, .top = 1});
  EXPECT_TRUE(test::identical(out, src(cv::Rect(30, 1, 8, 6))));
  cv::UMat device_src = src.getUMat(cv::ACCESS_READ), device_out;
  kernels::crop(device_src, device_out, {.size = {8, 6}});  // centred: (16, 12)
  EXPECT_TRUE(test::identical(device_out.getMat(cv::ACCESS_READ), src(cv::Rect(16, 12, 8, 6))));
  EXPECT_THROW(kernels::crop(src, out, {.size = {8, 6}, .left = 33, .top = 0}), Error);
}

TEST(Crop, AMissingSideReachesToTheEdge) {
  const cv::Mat src = test::make_image(50, 40, 3);
  // Width only: a centred strip of full height (it was 100x1 once).
  EXPECT_TRUE(test::identical(run(Image(src), {{"width", 20}}).pixels, src(cv::Rect(15, 0, 20, 40))));
  // Height only, placed: the full width, the given rows.
  EXPECT_TRUE(
      test::identical(run(Image(src), {{"top", 5}, {"height", 10}}).pixels, src(cv::Rect(0, 5, 50, 10))));
  // An offset alone: from there to the right and bottom edges.
  EXPECT_TRUE(
      test::identical(run(Image(src), {{"left", 30}, {"top", 25}}).pixels, src(cv::Rect(30, 25, 20, 15))));
  // Nothing at all is a mistake, not a silent copy.
  test::config_error([] { Chain().then("crop", {}); });
}
