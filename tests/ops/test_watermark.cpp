// watermark: text and image marks change only the placed rectangle, by a naive alpha blend
// of the same coverage; opacity scales the blend; configuration mistakes are chain errors.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat run(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("watermark", params).run(Image(pixels), Context{}).pixels;
}

double sample(const cv::Mat& m, int y, int x, int c) {
  const int i = x * m.channels() + c;
  return m.depth() == CV_16U ? m.ptr<std::uint16_t>(y)[i] : m.ptr<std::uint8_t>(y)[i];
}

double full_scale(const cv::Mat& m) {
  return m.depth() == CV_16U ? 65535.0 : 255.0;
}

// `out` equals `base` outside `area` (clipped to the image).
bool unchanged_outside(const cv::Mat& out, const cv::Mat& base, cv::Rect area) {
  cv::Mat mask(base.size(), CV_8U, cv::Scalar(255));
  mask(area & cv::Rect(0, 0, base.cols, base.rows)).setTo(0);
  return out.size() == base.size() && out.type() == base.type() &&
         cv::norm(out, base, cv::NORM_INF, mask) == 0;
}

// "Over" compositing written per pixel: inside `area`, colour = mark·k + base·(1 − k) and
// alpha = max·k + alpha·(1 − k), where k = coverage(x, y) ∈ [0, 1] and mark_colour(x, y, c)
// is the mark's colour in the base's scale. Returns the largest difference from `out`.
template <typename Coverage, typename MarkColour>
double max_diff_from_naive_blend(const cv::Mat& out, const cv::Mat& base, cv::Rect area, Coverage coverage,
                                 MarkColour mark_colour) {
  const int cn = base.channels();
  const bool alpha = cn == 2 || cn == 4;
  const double max = full_scale(base);
  double worst = 0;
  for (int y = area.y; y < area.y + area.height; ++y)
    for (int x = area.x; x < area.x + area.width; ++x) {
      const double k = coverage(x - area.x, y - area.y);
      for (int c = 0; c < cn; ++c) {
        const bool is_alpha = alpha && c == cn - 1;
        const double over = is_alpha ? max : mark_colour(x - area.x, y - area.y, c);
        const double expected = over * k + sample(base, y, x, c) * (1 - k);
        worst = std::max(worst, std::fabs(sample(out, y, x, c) - expected));
      }
    }
  return worst;
}

const std::string kText = "imgpipe ©";
constexpr int kTextSize = 24, kMargin = 16;

cv::Mat text_mask() {
  return kernels::render_text(kText, "DejaVu Sans", kTextSize);
}

cv::Mat logo() {
  return load(test::photo("opencv-logo-rgba.png")).pixels;
}

}  // namespace

TEST(WatermarkText, ChangesOnlyTheBottomRightCorner) {
  const cv::Mat mask = text_mask();
  ASSERT_FALSE(mask.empty());
  ASSERT_GT(cv::countNonZero(mask), 0);
  const cv::Mat base = test::make_image(400, 300, 3);
  const cv::Mat out = run(base, {{"text", kText}, {"size", kTextSize}, {"opacity", 1.0}});
  const cv::Rect area(400 - mask.cols - kMargin, 300 - mask.rows - kMargin, mask.cols, mask.rows);
  EXPECT_TRUE(unchanged_outside(out, base, area));
  EXPECT_GT(cv::norm(out(area), base(area), cv::NORM_INF), 0.0);
  // Float arithmetic rounded once against the same in double: half a level, plus a rounding.
  EXPECT_LE(max_diff_from_naive_blend(
                out, base, area, [&](int x, int y) { return mask.at<std::uint8_t>(y, x) / 255.0; },
                [](int, int, int) { return 255.0; }),
            1.0);
}

TEST(WatermarkText, TopLeftUsesTheMargin) {
  const cv::Mat mask = text_mask();
  const cv::Mat base = test::make_image(300, 200, 3);
  const cv::Mat out =
      run(base, {{"text", kText}, {"size", kTextSize}, {"position", "top-left"}, {"margin", 5}});
  EXPECT_TRUE(unchanged_outside(out, base, cv::Rect(5, 5, mask.cols, mask.rows)));
  EXPECT_FALSE(test::identical(out, base));
}

TEST(WatermarkText, OpacityZeroLeavesTheImageUnchanged) {
  for (int channels : {3, 4}) {
    const cv::Mat base = test::make_image(200, 120, channels, CV_16U);
    EXPECT_TRUE(test::identical(run(base, {{"text", kText}, {"opacity", 0.0}}), base));
  }
}

TEST(WatermarkText, OpacityScalesTheBlend) {
  const cv::Mat mask = text_mask();
  const cv::Mat base = test::make_image(300, 200, 3);
  const cv::Rect area(300 - mask.cols - kMargin, 200 - mask.rows - kMargin, mask.cols, mask.rows);
  cv::Mat previous = base;
  for (double opacity : {0.25, 0.5, 1.0}) {
    SCOPED_TRACE(opacity);
    const cv::Mat out =
        run(base, {{"text", kText}, {"size", kTextSize}, {"colour", "#ff2000"}, {"opacity", opacity}});
    const double colour[] = {255, 32, 0};
    EXPECT_LE(
        max_diff_from_naive_blend(
            out, base, area, [&](int x, int y) { return mask.at<std::uint8_t>(y, x) / 255.0 * opacity; },
            [&](int, int, int c) { return colour[c]; }),
        1.0);  // rounding, as above
    // More opacity never moves a pixel less far from the base.
    cv::Mat moved_now, moved_before;
    cv::absdiff(out, base, moved_now);
    cv::absdiff(previous, base, moved_before);
    cv::Mat less;
    cv::compare(moved_now, moved_before, less, cv::CMP_LT);
    EXPECT_EQ(cv::countNonZero(less.reshape(1)), 0);
    previous = out;
  }
}

TEST(WatermarkText, ColourAlphaMultipliesOpacity) {
  const cv::Mat mask = text_mask();
  const cv::Mat base = test::make_image(300, 200, 3);
  const cv::Rect area(300 - mask.cols - kMargin, 200 - mask.rows - kMargin, mask.cols, mask.rows);
  const cv::Mat out =
      run(base, {{"text", kText}, {"size", kTextSize}, {"colour", "#00ff0080"}, {"opacity", 0.8}});
  EXPECT_LE(max_diff_from_naive_blend(
                out, base, area,
                [&](int x, int y) { return mask.at<std::uint8_t>(y, x) / 255.0 * 0.8 * 128 / 255.0; },
                [](int, int, int c) { return c == 1 ? 255.0 : 0.0; }),
            1.0);
}

TEST(WatermarkText, AlphaAndSixteenBit) {
  const cv::Mat mask = text_mask();
  const cv::Mat base = test::make_image(300, 200, 4, CV_16U);
  const cv::Mat out =
      run(base, {{"text", kText}, {"size", kTextSize}, {"colour", "#4080c0"}, {"opacity", 0.7}});
  ASSERT_EQ(out.type(), CV_16UC4);
  const cv::Rect area(300 - mask.cols - kMargin, 200 - mask.rows - kMargin, mask.cols, mask.rows);
  EXPECT_TRUE(unchanged_outside(out, base, area));
  const double colour[] = {0x40 * 257, 0x80 * 257, 0xc0 * 257};
  // 16-bit values in float keep about 1/256 of a level: rounding only.
  EXPECT_LE(max_diff_from_naive_blend(
                out, base, area, [&](int x, int y) { return mask.at<std::uint8_t>(y, x) / 255.0 * 0.7; },
                [&](int, int, int c) { return colour[c]; }),
            1.0);
}

TEST(WatermarkText, GreyImageStaysGreyForGreyText) {
  const cv::Mat base = test::make_image(200, 100, 1);
  EXPECT_EQ(run(base, {{"text", kText}}).type(), CV_8UC1);
  const cv::Mat red = run(base, {{"text", kText}, {"colour", "red"}});
  ASSERT_EQ(red.type(), CV_8UC3);
  std::vector<cv::Mat> planes;
  cv::split(red(cv::Rect(0, 0, 50, 50)), planes);  // far from the text: grey as R = G = B
  for (const cv::Mat& plane : planes) EXPECT_TRUE(test::identical(plane, base(cv::Rect(0, 0, 50, 50))));
}

TEST(WatermarkImage, LogoAtEachPositionIsAlphaOverTheImage) {
  const cv::Mat mark = logo();
  ASSERT_EQ(mark.type(), CV_8UC4);
  ASSERT_EQ(mark.size(), cv::Size(600, 794));
  const cv::Mat base = test::make_image(1200, 1000, 3);
  // scale 0.5 of 1200 is the logo's own width: placed as it is, no resampling.
  const std::pair<const char*, cv::Point> positions[] = {
      {"top-left", {16, 16}},
      {"top-right", {1200 - 600 - 16, 16}},
      {"centre", {300, (1000 - 794) / 2}},
      {"bottom", {300, 1000 - 794 - 16}},
      {"bottom-right", {1200 - 600 - 16, 1000 - 794 - 16}}};
  for (auto [position, origin] : positions)
    for (double opacity : {1.0, 0.6}) {
      SCOPED_TRACE(testing::Message() << position << ", opacity " << opacity);
      const cv::Mat out = run(base, {{"image", test::photo("opencv-logo-rgba.png").string()},
                                     {"scale", 0.5},
                                     {"opacity", opacity},
                                     {"position", position}});
      const cv::Rect area(origin, mark.size());
      EXPECT_TRUE(unchanged_outside(out, base, area));
      EXPECT_LE(
          max_diff_from_naive_blend(
              out, base, area, [&](int x, int y) { return mark.at<cv::Vec4b>(y, x)[3] / 255.0 * opacity; },
              [&](int x, int y, int c) { return static_cast<double>(mark.at<cv::Vec4b>(y, x)[c]); }),
          1.0);  // float against double, rounded once
    }
}

TEST(WatermarkImage, ShrunkLogoIsPremultipliedBeforeBlending) {
  const cv::Mat mark = logo();
  // Halved (scale 0.25 of 1200 = 300 = 600 / 2; 794 / 2 = 397): every mark pixel is the
  // alpha-weighted mean of a 2×2 block, so transparent pixels lend it no colour (the logo's
  // are black: a plain mean would darken every edge by tens of levels).
  cv::Mat halved(397, 300, CV_64FC4);
  for (int y = 0; y < halved.rows; ++y)
    for (int x = 0; x < halved.cols; ++x) {
      cv::Vec4d sum = cv::Vec4d::all(0);
      for (int dy = 0; dy < 2; ++dy)
        for (int dx = 0; dx < 2; ++dx) {
          const cv::Vec4b p = mark.at<cv::Vec4b>(2 * y + dy, 2 * x + dx);
          for (int c = 0; c < 3; ++c) sum[c] += p[c] * p[3] / 255.0;
          sum[3] += p[3];
        }
      const double alpha = sum[3] / 4;
      cv::Vec4d& out = halved.at<cv::Vec4d>(y, x);
      // The resized mark is stored at 8 bits before blending: round its colour too.
      for (int c = 0; c < 3; ++c) out[c] = alpha > 0 ? std::round(sum[c] / 4 * 255.0 / alpha) : 0;
      out[3] = std::round(alpha);
    }
  const cv::Mat base = test::make_image(1200, 1000, 3, CV_8U, 5);
  const cv::Mat out =
      run(base, {{"image", test::photo("opencv-logo-rgba.png").string()}, {"scale", 0.25}, {"opacity", 1.0}});
  const cv::Rect area(1200 - 300 - kMargin, 1000 - 397 - kMargin, 300, 397);
  EXPECT_TRUE(unchanged_outside(out, base, area));
  EXPECT_LE(max_diff_from_naive_blend(
                out, base, area, [&](int x, int y) { return halved.at<cv::Vec4d>(y, x)[3] / 255.0; },
                [&](int x, int y, int c) { return halved.at<cv::Vec4d>(y, x)[c]; }),
            1.5);  // The mark's colour is rounded to 8 bits in both, from float here and double there:
                   // a value at .5 may go either way (a level, weighted by k), plus the final rounding.
}

TEST(WatermarkImage, AlphaAndSixteenBitBase) {
  const cv::Mat mark = logo();
  const cv::Mat base = test::make_image(1200, 1000, 4, CV_16U);
  const cv::Mat out = run(base, {{"image", test::photo("opencv-logo-rgba.png").string()},
                                 {"scale", 0.5},
                                 {"opacity", 0.5},
                                 {"position", "top-left"},
                                 {"margin", 0}});
  ASSERT_EQ(out.type(), CV_16UC4);
  const cv::Rect area(0, 0, 600, 794);
  EXPECT_TRUE(unchanged_outside(out, base, area));
  EXPECT_LE(max_diff_from_naive_blend(
                out, base, area, [&](int x, int y) { return mark.at<cv::Vec4b>(y, x)[3] / 255.0 * 0.5; },
                [&](int x, int y, int c) { return mark.at<cv::Vec4b>(y, x)[c] * 257.0; }),
            1.0);  // 8-bit logo scaled to 16 bits; float rounding only
}

TEST(WatermarkImage, GreyImageBecomesRgbUnderAColourLogo) {
  const cv::Mat base = test::make_image(1200, 1000, 1);
  const cv::Mat out = run(base, {{"image", test::photo("opencv-logo-rgba.png").string()}, {"scale", 0.5}});
  ASSERT_EQ(out.type(), CV_8UC3);
  cv::Mat grey_as_rgb;
  cv::merge(std::vector<cv::Mat>{base, base, base}, grey_as_rgb);
  EXPECT_TRUE(
      unchanged_outside(out, grey_as_rgb, cv::Rect(1200 - 600 - kMargin, 1000 - 794 - kMargin, 600, 794)));
}

TEST(WatermarkKernel, SameResultOnMatAndUMat) {
  const cv::Mat base = test::make_image(320, 240, 4);
  const kernels::ImageWatermarkOptions options{
      .mark = test::make_image(64, 32, 4, CV_8U, 9), .scale = 0.3, .opacity = 0.8};
  cv::Mat on_host;
  kernels::image_watermark(base, on_host, options);
  cv::UMat device_base = base.getUMat(cv::ACCESS_READ), on_device;
  kernels::image_watermark(device_base, on_device, options);
  // An OpenCL device may round float products differently: at most a level.
  EXPECT_LE(test::max_abs_diff(on_device.getMat(cv::ACCESS_READ), on_host), 1.0);
  EXPECT_FALSE(test::identical(on_host, base));
}

TEST(WatermarkConfig, MissingImageFailsWhenTheChainIsBuilt) {
  const std::string missing = (test::source_dir() / "no-such-dir" / "mark.png").string();
  try {
    Chain().then("watermark", {{"image", missing}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);  // a file the chain names: the chain's mistake
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST(WatermarkConfig, TextAndImageTogetherOrNeitherAreConfigErrors) {
  auto category = [](const ParamList& params) {
    try {
      Chain().then("watermark", params);
    } catch (const Error& e) {
      return e.category();
    }
    return ErrorCategory::internal;
  };
  EXPECT_EQ(category({{"text", "a"}, {"image", test::photo("opencv-logo-rgba.png").string()}}),
            ErrorCategory::config);
  EXPECT_EQ(category({}), ErrorCategory::config);
  EXPECT_EQ(category({{"text", ""}}), ErrorCategory::config);
}

// A chain hands each step the image the step before made: the watermark then blends into
// those pixels where they lie (only the mark's rectangle is written) and gives what apply()
// gives; an image someone else still holds is copied first and stays as it was.
TEST(WatermarkInPlace, AnImageGivenUpIsMarkedWhereItLiesAndASharedOneIsCopied) {
  const cv::Mat photo = load(test::photo("fruits.jpg")).pixels;
  const std::vector<ParamList> cases = {
      {{"text", "PROOF"}, {"size", 40}, {"opacity", 0.5}},
      {{"text", "PROOF"}, {"colour", "#ff000080"}, {"position", "top-left"}},
  };
  for (const ParamList& params : cases) {
    Chain chain;
    chain.then("watermark", params);
    SCOPED_TRACE(chain.canonical());
    const Operation& op = *chain.steps().front().operation;
    const Image expected = op.apply(Image(photo), Context{});

    Image owned(photo.clone());
    const uchar* buffer = owned.pixels.data;
    const Image marked = op.apply_owned(std::move(owned), Context{});
    EXPECT_EQ(marked.pixels.data, buffer) << "the given-up pixels were copied";
    EXPECT_TRUE(test::identical(marked.pixels, expected.pixels));

    const cv::Mat kept = photo.clone();
    const Image from_shared = op.apply_owned(Image(kept), Context{});
    EXPECT_NE(from_shared.pixels.data, kept.data);
    EXPECT_TRUE(test::identical(kept, photo)) << "an image still held elsewhere was changed";
    EXPECT_TRUE(test::identical(from_shared.pixels, expected.pixels));
  }
}
