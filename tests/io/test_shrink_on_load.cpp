// Shrink-on-load: JPEG DCT scaling to any M/8 (libjpeg-turbo, decoded directly) and WebP
// scaled decoding to no less than a minimum size, and that a chain starting with a downscale
// looks the same either way.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;

namespace {

LoadOptions at_least(cv::Size minimum, std::vector<cv::Size>* asked = nullptr) {
  LoadOptions options;
  options.min_size = [minimum, asked](cv::Size upright) {
    if (asked) asked->push_back(upright);
    return minimum;
  };
  return options;
}

cv::Mat area_resize(const cv::Mat& m, cv::Size size) {
  cv::Mat out;
  cv::resize(m, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

// JPEG decodes at M/8 scale, M = 1..8; libjpeg rounds the scaled size up. The loader must
// take the smallest M that keeps both sides at or above the minimum.
cv::Size expected_jpeg_size(cv::Size full, cv::Size minimum) {
  for (int m = 1; m < 8; ++m) {
    const cv::Size scaled((full.width * m + 7) / 8, (full.height * m + 7) / 8);
    if (scaled.width >= minimum.width && scaled.height >= minimum.height) return scaled;
  }
  return full;
}

TEST(ShrinkOnLoad, LargeJpegsDecodeAtTheSmallestFittingEighth) {
  struct Case {
    const char* photo;
    cv::Size full, minimum, expected;
  };
  // Expected sizes worked by hand: 2560·2/8 = 640 ≥ 600 but 2560/8 = 320 < 600; 2560·4/8 =
  // 1280 < 1281, so 5/8; 5120·3/8 = 1920 ≥ 1900 (a scale libvips's loader does not have).
  const Case cases[] = {
      {"autumn-2560x1600.jpg", {2560, 1600}, {600, 375}, {640, 400}},
      {"autumn-2560x1600.jpg", {2560, 1600}, {320, 200}, {320, 200}},
      {"autumn-2560x1600.jpg", {2560, 1600}, {1281, 10}, {1600, 1000}},
      {"autumn-2560x1600.jpg", {2560, 1600}, {2241, 10}, {2560, 1600}},
      {"shell-5120x2880.jpg", {5120, 2880}, {1000, 500}, {1280, 720}},
      {"shell-5120x2880.jpg", {5120, 2880}, {1900, 1000}, {1920, 1080}},
      {"shell-5120x2880.jpg", {5120, 2880}, {2560, 1440}, {2560, 1440}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << c.photo << " min " << c.minimum);
    std::vector<cv::Size> asked;
    Image image = load(test::photo(c.photo), at_least(c.minimum, &asked));
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0], c.full) << "the callback gets the upright size from the header";
    EXPECT_EQ(image.pixels.size(), c.expected);
    EXPECT_EQ(image.pixels.size(), expected_jpeg_size(c.full, c.minimum));
  }
}

TEST(ShrinkOnLoad, ScaledJpegLooksLikeTheFullDecodeReduced) {
  const fs::path path = test::photo("autumn-2560x1600.jpg");
  Image shrunk = load(path, at_least({600, 375}));
  ASSERT_EQ(shrunk.pixels.size(), cv::Size(640, 400));
  // libjpeg's 2/8 scale is exactly what libvips's loader gives with shrink=4.
  VipsImage* reference = nullptr;
  ASSERT_EQ(vips_jpegload(path.c_str(), &reference, "shrink", 4, nullptr), 0);
  EXPECT_TRUE(test::identical(shrunk.pixels, fx::to_mat(fx::VipsPtr(reference).get())));
  // DCT scaling is close to a box filter: within 35 dB of the full decode area-reduced.
  EXPECT_GE(test::psnr(shrunk.pixels, area_resize(load(path).pixels, {640, 400})), 35.0);
}

TEST(ShrinkOnLoad, EighthsBetweenThePowersOfTwoLookLikeTheFullDecodeReduced) {
  // 3/8, 5/8, 6/8 and 7/8: sizes libvips's loader cannot make, so the direct decoder made
  // them. Each against the full decode area-reduced to the same size (an independent
  // reduction): DCT scaling averages the same pixels, differences are in the fine detail.
  const fs::path path = test::photo("autumn-2560x1600.jpg");
  const cv::Mat full = load(path).pixels;
  for (int m : {3, 5, 6, 7}) {
    SCOPED_TRACE(testing::Message() << m << "/8");
    const cv::Size expected(2560 * m / 8, 1600 * m / 8);
    Image scaled = load(path, at_least({expected.width - 1, 1}));
    ASSERT_EQ(scaled.pixels.size(), expected);
    EXPECT_GE(test::psnr(scaled.pixels, area_resize(full, expected)), 35.0);
  }
}

TEST(ShrinkOnLoad, NeverBelowTheMinimum) {
  test::TempDir dir;
  // Odd sizes, where rounding could fall a pixel short.
  const cv::Mat picture = test::make_gradient(101, 67, 3);
  fx::write(picture, dir / "odd.jpg");
  SaveOptions webp;
  webp.format = Format::webp;
  write_file_atomic(dir / "odd.webp", encode(Image(picture), webp));
  for (const char* name : {"odd.jpg", "odd.webp"}) {
    for (int min_width = 1; min_width <= 101; min_width += 2) {
      const cv::Size minimum(min_width, (min_width * 67 + 100) / 101);
      Image image = load(dir / name, at_least(minimum));
      EXPECT_GE(image.width(), minimum.width) << name << " min " << minimum;
      EXPECT_GE(image.height(), minimum.height) << name << " min " << minimum;
    }
  }
}

TEST(ShrinkOnLoad, NoMinimumOrAFormatWithoutScalingDecodesFullSize) {
  EXPECT_EQ(load(test::photo("fruits.jpg"), at_least({0, 0})).pixels.size(), cv::Size(512, 480));
  EXPECT_EQ(load(test::photo("fruits.jpg"), at_least({600, 600})).pixels.size(), cv::Size(512, 480));
  EXPECT_EQ(load(test::photo("fruits.jpg"), LoadOptions{}).pixels.size(), cv::Size(512, 480));
  // PNG has no reduced decode: full size whatever the minimum.
  EXPECT_EQ(load(test::photo("coffee.png"), at_least({60, 40})).pixels.size(), cv::Size(600, 400));
}

TEST(ShrinkOnLoad, WebpScaledDecode) {
  const Image photo = load(test::photo("rocket.jpg"));
  SaveOptions webp;
  webp.format = Format::webp;
  webp.quality = 90;
  const auto bytes = encode(photo, webp);
  Image scaled = load_buffer(bytes, "rocket.webp", at_least({200, 100}));
  // 200/640 is the larger ratio; libwebp scales both sides by it: 640 → 200, 427 → 133.
  EXPECT_GE(scaled.width(), 200);
  EXPECT_LE(scaled.width(), 201);
  EXPECT_GE(scaled.height(), 133);
  EXPECT_LE(scaled.height(), 134);
  // libwebp's scaler averages like an area filter; against the full decode reduced the same
  // way the two differ only by resampling details: 35 dB.
  const cv::Mat full = load_buffer(bytes, "rocket.webp").pixels;
  EXPECT_GE(test::psnr(scaled.pixels, area_resize(full, scaled.pixels.size())), 35.0);
}

// Chains that begin with a downscale decode smaller; the result must look the same.
void expect_same_look(const char* photo, int width) {
  SCOPED_TRACE(photo);
  const Chain chain = Chain().then("resize", {{"width", width}});
  Context context;
  LoadOptions options;
  options.min_size = [&](cv::Size upright) { return chain.min_decode_size(upright, context.quality); };
  const fs::path path = test::photo(photo);
  Image shrunk = load(path, options);
  ASSERT_LT(shrunk.width(), probe(path).width) << "the decoder did scale";
  ASSERT_GE(shrunk.width(), width);
  Image fast = chain.run(shrunk, context);
  Image exact = chain.run(load(path), context);
  ASSERT_EQ(fast.pixels.size(), exact.pixels.size());
  // DCT scaling followed by an area reduction against an area reduction of the full decode:
  // both average the same pixels, so differences are in the fine detail only (≥ 35 dB).
  EXPECT_GE(test::psnr(fast.pixels, exact.pixels), 35.0);
}

TEST(ShrinkOnLoad, ChainStartingWithResizeLooksLikeFullDecodeThenResize) {
  expect_same_look("autumn-2560x1600.jpg", 600);
  expect_same_look("shell-5120x2880.jpg", 800);
}

class TransposedOrientation : public ::testing::TestWithParam<int> {};

TEST_P(TransposedOrientation, MinimumIsGivenUpright) {
  const int o = GetParam();
  test::TempDir dir;
  // Stored 800x400, shown upright as 400x800 for orientations 5..8.
  const cv::Mat stored = test::make_gradient(800, 400, 3);
  fx::write_oriented(stored, o, dir / "tall.jpg[Q=95]");
  const auto path = dir / "tall.jpg";
  std::vector<cv::Size> asked;
  Image image = load(path, at_least({100, 200}, &asked));
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], cv::Size(400, 800));
  // Upright minimum 100x200 is stored 200x100: 1/4 scale (800/4 = 200, 400/4 = 100)
  // fits, 1/8 does not. Upright that is 100x200.
  EXPECT_EQ(image.pixels.size(), cv::Size(100, 200));
  EXPECT_EQ(image.orientation, 1);
  // And the pixels are the upright picture, reduced.
  Image full = load(path);
  ASSERT_EQ(full.pixels.size(), cv::Size(400, 800));
  EXPECT_GE(test::psnr(image.pixels, area_resize(full.pixels, {100, 200})), 35.0);

  // Without auto-orientation the minimum and the result are as stored.
  asked.clear();
  LoadOptions stored_options = at_least({200, 100}, &asked);
  stored_options.auto_orient = false;
  Image raw = load(path, stored_options);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], cv::Size(800, 400));
  EXPECT_EQ(raw.pixels.size(), cv::Size(200, 100));
  EXPECT_EQ(raw.orientation, o);
}

INSTANTIATE_TEST_SUITE_P(FiveToEight, TransposedOrientation, ::testing::Range(5, 9));

}  // namespace
