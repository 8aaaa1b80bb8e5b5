// JPEG written by libjpeg-turbo directly (lib/io/jpeg_encode.cpp) against libvips's jpegsave,
// which wrote imgpipe's JPEG before and which users compare with: the same pixels for the same
// settings, the sampling and header fields read from the bytes (ITU T.81, JFIF 1.02).

#include <gtest/gtest.h>

#include <imgpipe/io.hpp>
#include <opencv2/imgproc.hpp>
#include <tuple>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;

namespace {

SaveOptions jpeg(int quality) {
  SaveOptions options;
  options.format = Format::jpeg;
  options.quality = quality;
  return options;
}

std::vector<std::uint8_t> vips_jpegsave(const cv::Mat& pixels, int quality) {
  fx::VipsPtr image = fx::from_mat(pixels);
  void* buffer = nullptr;
  std::size_t size = 0;
  if (vips_jpegsave_buffer(image.get(), &buffer, &size, "Q", quality, "optimize_coding", TRUE, "strip", TRUE,
                           nullptr))
    fx::fail("jpegsave_buffer");
  std::vector<std::uint8_t> bytes(static_cast<std::uint8_t*>(buffer),
                                  static_cast<std::uint8_t*>(buffer) + size);
  g_free(buffer);
  return bytes;
}

cv::Mat vips_decode(const std::vector<std::uint8_t>& bytes) {
  return fx::to_mat(fx::read_buffer(bytes).get());
}

// The payload of the first marker segment `marker` (FFxx) before the scan, or empty.
std::vector<std::uint8_t> segment(const std::vector<std::uint8_t>& jpeg, std::uint8_t marker) {
  std::size_t at = 2;  // after SOI
  while (at + 4 <= jpeg.size() && jpeg[at] == 0xff) {
    const std::uint8_t m = jpeg[at + 1];
    const std::size_t length = static_cast<std::size_t>(jpeg[at + 2]) << 8 | jpeg[at + 3];
    if (m == marker)
      return {jpeg.begin() + static_cast<long>(at + 4), jpeg.begin() + static_cast<long>(at + 2 + length)};
    if (m == 0xda) break;  // start of scan
    at += 2 + length;
  }
  return {};
}

// Sampling factors (h << 4 | v) of each component in the frame header.
std::vector<int> sampling(const std::vector<std::uint8_t>& jpeg) {
  std::vector<std::uint8_t> sof = segment(jpeg, 0xc0);
  if (sof.empty()) sof = segment(jpeg, 0xc2);
  std::vector<int> factors;
  if (sof.size() < 6) return factors;
  for (int c = 0; c < sof[5]; ++c) factors.push_back(sof[static_cast<std::size_t>(6 + 3 * c + 1)]);
  return factors;
}

TEST(JpegEncode, SamePixelsAsLibvipsJpegsaveOnRealPhotos) {
  for (const char* name : {"fruits.jpg", "baboon.jpg", "building.jpg", "chelsea.png", "astronaut.png"}) {
    const Image photo = load(test::photo(name));
    cv::Mat grey;
    cv::cvtColor(photo.pixels, grey, cv::COLOR_RGB2GRAY);
    for (const cv::Mat& pixels : {photo.pixels, grey}) {
      for (int quality : {40, 85, 90, 97}) {
        SCOPED_TRACE(testing::Message()
                     << name << " channels " << pixels.channels() << " quality " << quality);
        const auto ours = encode(Image(pixels), jpeg(quality));
        const auto theirs = vips_jpegsave(pixels, quality);
        EXPECT_TRUE(test::identical(vips_decode(ours), vips_decode(theirs)));
        EXPECT_EQ(sampling(ours), sampling(theirs));
        // The same entropy-coded data; the headers differ by a few bytes (JFIF density).
        EXPECT_LE(std::abs(static_cast<double>(ours.size()) - static_cast<double>(theirs.size())), 64.0);
      }
    }
  }
}

TEST(JpegEncode, ChromaAtFullResolutionFromQuality90) {
  const Image photo = load(test::photo("fruits.jpg"));
  EXPECT_EQ(sampling(encode(photo, jpeg(89))), (std::vector<int>{0x22, 0x11, 0x11}));
  EXPECT_EQ(sampling(encode(photo, jpeg(90))), (std::vector<int>{0x11, 0x11, 0x11}));
}

TEST(JpegEncode, ResolutionGoesInTheJfifHeaderInTheSourcesUnit) {
  Image image(test::make_gradient(64, 48, 3));
  image.xres = 300 / 25.4;
  image.yres = 150 / 25.4;
  for (const auto& [unit, code, x, y] : {std::tuple{"in", 1, 300, 150}, std::tuple{"cm", 2, 118, 59}}) {
    image.resolution_unit = unit;
    const auto bytes = encode(image, jpeg(85));
    const auto app0 = segment(bytes, 0xe0);
    ASSERT_GE(app0.size(), 12u);
    ASSERT_EQ(std::string(app0.begin(), app0.begin() + 5), std::string("JFIF\0", 5));
    EXPECT_EQ(app0[7], code) << unit;
    EXPECT_EQ(app0[8] << 8 | app0[9], x) << unit;
    EXPECT_EQ(app0[10] << 8 | app0[11], y) << unit;
    // Read back as libvips reads it: pixels per millimetre.
    const fx::VipsPtr back = fx::read_buffer(bytes);
    EXPECT_NEAR(vips_image_get_xres(back.get()), image.xres, 0.05) << unit;
  }
}

TEST(JpegEncode, AProfileLongerThanOneSegmentIsSplitAndJoinedWhole) {
  // ICC profiles travel in APP2 chunks of at most 65519 bytes; 150 000 bytes take three.
  Image image(test::make_gradient(32, 32, 3));
  image.icc.resize(150000);
  for (std::size_t i = 0; i < image.icc.size(); ++i)
    image.icc[i] = static_cast<std::uint8_t>(i * 7 + i / 251);
  SaveOptions keep = jpeg(85);
  keep.keep_metadata = true;
  const auto bytes = encode(image, keep);
  // (libvips reads it back; imgpipe's loader would convert the pixels with it.)
  EXPECT_EQ(fx::blob(fx::read_buffer(bytes).get(), VIPS_META_ICC_NAME), image.icc);
  // Stripped by default.
  EXPECT_TRUE(fx::blob(fx::read_buffer(encode(image, jpeg(85))).get(), VIPS_META_ICC_NAME).empty());
}

TEST(JpegEncode, AnImageTooLargeForJpegIsAClearError) {
  const Image wide(cv::Mat(1, 70000, CV_8UC3, cv::Scalar::all(9)));
  try {
    encode(wide, jpeg(85));
    FAIL() << "a 70000-pixel-wide JPEG was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::io);
    EXPECT_NE(std::string(e.what()).find("jpeg"), std::string::npos) << e.what();
  }
}

}  // namespace
