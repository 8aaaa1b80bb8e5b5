// gaussian_blur against cv::GaussianBlur called with the documented kernel (radius
// ceil(3 sigma), BORDER_REFLECT_101), and the premultiplied handling of alpha.
#include <gtest/gtest.h>

#include <cmath>
#include <imgpipe/kernels/filter.hpp>
#include <opencv2/imgproc.hpp>

#include "ops/filter/gaussian.hpp"
#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat blurred(const cv::Mat& pixels, double sigma) {
  return Chain().then("gaussian_blur", {{"sigma", sigma}}).run(Image(pixels), Context{}).pixels;
}

cv::Mat opencv_blur(const cv::Mat& pixels, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
  cv::Mat out;
  cv::GaussianBlur(pixels, out, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma,
                   cv::BORDER_REFLECT_101);
  return out;
}

// Transparent red on the left half, opaque green on the right half.
cv::Mat red_behind_green(int depth) {
  const double max = depth == CV_16U ? 65535 : 255;
  cv::Mat out(32, 32, CV_MAKETYPE(depth, 4), cv::Scalar(max, 0, 0, 0));
  out.colRange(16, 32).setTo(cv::Scalar(0, max, 0, max));
  return out;
}

}  // namespace

TEST(GaussianBlur, MatchesOpenCvOnOpaqueImages) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 3})
      for (double sigma : {0.5, 1.0, 2.5}) {
        const cv::Mat in = test::make_image(48, 40, channels, depth, 3);
        // One level: imgpipe blurs in float, OpenCV's 8-bit path in fixed point.
        EXPECT_LE(test::max_abs_diff(blurred(in, sigma), opencv_blur(in, sigma)), 1.0)
            << channels << " channels, depth " << depth << ", sigma " << sigma;
      }
}

TEST(GaussianBlur, RegionsAreCvGaussianBlurExactly) {
  // The blur of a view (a tile, a streamed region) calls sepFilter2D itself, skipping
  // cv::GaussianBlur's set-up: the same pixels as cv::GaussianBlur of the view, halo read from
  // the parent as there, for every depth and layout; a whole image still goes through it.
  const cv::Mat photo = load(test::photo("baboon.jpg")).pixels;
  for (int depth : {CV_8U, CV_16U, CV_32F})
    for (int channels : {1, 3, 4})
      for (double sigma : {0.7, 2.0, 5.0}) {
        cv::Mat in;
        photo.convertTo(in, depth, depth == CV_16U ? 257.0 : depth == CV_32F ? 1.0 / 255 : 1.0);
        if (channels == 1) cv::extractChannel(in, in, 0);
        if (channels == 4) cv::cvtColor(in, in, cv::COLOR_RGB2RGBA);
        for (const cv::Rect& region :
             {cv::Rect(100, 80, 140, 140), cv::Rect(0, 0, 131, 77),
              cv::Rect(in.cols - 90, in.rows - 60, 90, 60), cv::Rect(0, 0, in.cols, in.rows)}) {
          cv::Mat ours;
          ops::gaussian_blur_float(in(region), ours, sigma);
          EXPECT_TRUE(test::identical(ours, opencv_blur(in(region), sigma)))
              << "depth " << depth << ", " << channels << " channels, sigma " << sigma << ", " << region;
        }
      }
}

TEST(GaussianBlur, EightBitIsTheExactBlurRoundedOnPhotos) {
  // The reference: the same kernel in double precision on the photo in double, mirrored edges.
  for (const char* name : {"baboon.jpg", "fruits.jpg", "hubble_deep_field.jpg"}) {
    const cv::Mat photo = load(test::photo(name)).pixels;
    cv::Mat wide;
    photo.convertTo(wide, CV_64F);
    for (double sigma : {0.5, 1.2, 2.0, 4.0, 9.0}) {
      const int radius = std::max(1, static_cast<int>(std::ceil(3 * sigma)));
      const cv::Mat kernel = cv::getGaussianKernel(2 * radius + 1, sigma, CV_64F);
      cv::Mat exact, ours;
      cv::sepFilter2D(wide, exact, CV_64F, kernel, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT_101);
      blurred(photo, sigma).convertTo(ours, CV_64F);
      // Correctly rounded: half a level, and a hair more at ties (the kernel is single precision).
      EXPECT_LE(test::max_abs_diff(ours, exact), 0.501) << name << ", sigma " << sigma;
    }
  }
}

TEST(GaussianBlur, MatchesOpenCvOnAPhoto) {
  const cv::Mat photo = load(test::photo("fruits.jpg")).pixels;
  EXPECT_LE(test::max_abs_diff(blurred(photo, 3.0), opencv_blur(photo, 3.0)), 1.0);  // as above
}

TEST(GaussianBlur, TransparentColourDoesNotBleed) {
  for (int depth : {CV_8U, CV_16U}) {
    const cv::Mat in = red_behind_green(depth);
    const double max = depth == CV_16U ? 65535 : 255;
    // The setup is meaningful: a straight blur of the channels turns the green edge red.
    std::vector<cv::Mat> naive_planes;
    cv::split(opencv_blur(in, 2.0), naive_planes);
    double naive_red_on_green = 0;
    cv::minMaxLoc(naive_planes[0].colRange(16, 32), nullptr, &naive_red_on_green);
    EXPECT_GT(naive_red_on_green, 0.3 * max);

    std::vector<cv::Mat> planes;
    cv::split(blurred(in, 2.0), planes);
    const cv::Mat visible = planes[3] > 0;
    // Alpha itself is blurred: the edge fades over a few pixels.
    double alpha_min = 0, alpha_max = 0;
    cv::minMaxLoc(planes[3].colRange(14, 18), &alpha_min, &alpha_max);
    EXPECT_GT(alpha_min, 0.0);
    EXPECT_LT(alpha_min, 0.5 * max);
    // Every visible pixel stays pure green: red and blue at most one level from rounding,
    // green within one level of full scale.
    double red = 0, blue = 0, green_min = 0;
    cv::minMaxLoc(planes[0], nullptr, &red, nullptr, nullptr, visible);
    cv::minMaxLoc(planes[2], nullptr, &blue, nullptr, nullptr, visible);
    cv::minMaxLoc(planes[1], &green_min, nullptr, nullptr, nullptr, visible);
    EXPECT_LE(red, 1.0);
    EXPECT_LE(blue, 1.0);
    EXPECT_GE(green_min, max - 1);
  }
}

TEST(GaussianBlur, GreyAlphaIsPremultipliedToo) {
  // White, fully transparent, beside opaque black: visible pixels must stay black.
  cv::Mat in(20, 20, CV_8UC2, cv::Scalar(255, 0));
  in.colRange(10, 20).setTo(cv::Scalar(0, 255));
  std::vector<cv::Mat> planes;
  cv::split(blurred(in, 1.5), planes);
  double grey = 0;
  cv::minMaxLoc(planes[0], nullptr, &grey, nullptr, nullptr, planes[1] > 0);
  EXPECT_LE(grey, 1.0);
}

TEST(GaussianBlur, ConstantImageStaysConstant) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 2, 3, 4}) {
      const cv::Mat in(37, 29, CV_MAKETYPE(depth, channels), cv::Scalar(201, 17, 99, 180));
      EXPECT_TRUE(test::identical(blurred(in, 4.0), in)) << channels << " channels, depth " << depth;
    }
}

TEST(GaussianBlur, KernelAcceptsUMatAndInPlace) {
  const cv::Mat in = test::make_image(48, 40, 3, CV_16U, 5);
  const cv::Mat expected = opencv_blur(in, 1.5);
  cv::UMat device = in.getUMat(cv::ACCESS_READ), device_out;
  kernels::gaussian_blur(device, device_out, {.sigma = 1.5});
  EXPECT_LE(test::max_abs_diff(device_out.getMat(cv::ACCESS_READ), expected), 1.0);
  cv::Mat in_place = in.clone();
  kernels::gaussian_blur(in_place, in_place, {.sigma = 1.5});
  EXPECT_LE(test::max_abs_diff(in_place, expected), 1.0);
}
