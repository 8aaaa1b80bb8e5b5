// Truecolour PNG written by libpng directly (lib/io/png_write.cpp) against libvips's pngsave,
// which wrote it before: the same pixels, every layout, no larger on real photos; the pHYs
// chunk read from the bytes (PNG specification 11.3.5.3).

#include <gtest/gtest.h>

#include <imgpipe/io.hpp>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;

namespace {

SaveOptions truecolour_png() {
  SaveOptions options;
  options.format = Format::png;
  options.allow_indexed = false;
  return options;
}

std::vector<std::uint8_t> vips_pngsave(const cv::Mat& pixels) {
  fx::VipsPtr image = fx::from_mat(pixels);
  void* buffer = nullptr;
  std::size_t size = 0;
  if (vips_pngsave_buffer(image.get(), &buffer, &size, "compression", 6, "strip", TRUE, nullptr))
    fx::fail("pngsave_buffer");
  std::vector<std::uint8_t> bytes(static_cast<std::uint8_t*>(buffer),
                                  static_cast<std::uint8_t*>(buffer) + size);
  g_free(buffer);
  return bytes;
}

// The data of the first chunk `type`, or empty.
std::vector<std::uint8_t> chunk(const std::vector<std::uint8_t>& png, const char* type) {
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::size_t length = fx::be32(&png[at]);
    if (std::equal(type, type + 4, png.begin() + static_cast<long>(at + 4)))
      return {png.begin() + static_cast<long>(at + 8), png.begin() + static_cast<long>(at + 8 + length)};
    at += 12 + length;
  }
  return {};
}

TEST(PngEncode, EveryLayoutDecodesToItsPixelsAsLibvipsReadsThem) {
  const cv::Mat rgb = load(test::photo("baboon.jpg")).pixels;
  cv::Mat grey, grey_alpha, rgba, deep;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::cvtColor(rgb, rgba, cv::COLOR_RGB2RGBA);
  cv::Mat planes[] = {grey, 255 - grey};
  cv::merge(planes, 2, grey_alpha);
  cv::randu(rgba.reshape(1).col(3), 0, 256);  // varied alpha
  for (const cv::Mat& pixels : {grey, grey_alpha, rgb, rgba}) {
    for (int depth : {CV_8U, CV_16U}) {
      cv::Mat image = pixels;
      if (depth == CV_16U) pixels.convertTo(image, CV_16U, 257.0, 3.0);
      SCOPED_TRACE(testing::Message()
                   << image.channels() << " channels, " << (depth == CV_16U ? 16 : 8) << " bit");
      const auto bytes = encode(Image(image), truecolour_png());
      EXPECT_TRUE(test::identical(fx::to_mat(fx::read_buffer(bytes).get()), image));
    }
  }
}

TEST(PngEncode, LikeLibvipsAtTheDefaultAndSmallerAtLevelsFromSeven) {
  // Unfiltered rows at the default level 6, as libvips writes them; filtered from level 7.
  for (const char* name : {"baboon.jpg", "building.jpg", "chelsea.png", "astronaut.png", "fruits.jpg"}) {
    const cv::Mat pixels = load(test::photo(name)).pixels;
    const auto ours = encode(Image(pixels), truecolour_png());
    const auto theirs = vips_pngsave(pixels);
    EXPECT_NEAR(static_cast<double>(ours.size()), static_cast<double>(theirs.size()), 0.01 * theirs.size())
        << name;
    EXPECT_TRUE(test::identical(fx::to_mat(fx::read_buffer(ours).get()), pixels)) << name;
    SaveOptions smallest = truecolour_png();
    smallest.compression = 7;
    const auto filtered = encode(Image(pixels), smallest);
    EXPECT_LT(static_cast<double>(filtered.size()), 0.95 * static_cast<double>(theirs.size())) << name;
    EXPECT_TRUE(test::identical(fx::to_mat(fx::read_buffer(filtered).get()), pixels)) << name;
  }
}

TEST(PngEncode, ResolutionGoesInPhysInPixelsPerMetre) {
  Image image(test::make_gradient(64, 48, 3));
  image.xres = 300 / 25.4;
  image.yres = 150 / 25.4;
  const auto phys = chunk(encode(image, truecolour_png()), "pHYs");
  ASSERT_EQ(phys.size(), 9u);
  EXPECT_EQ(fx::be32(&phys[0]), 11811u);  // 300 dpi
  EXPECT_EQ(fx::be32(&phys[4]), 5906u);   // 150 dpi
  EXPECT_EQ(phys[8], 1) << "unit: metre";
  image.xres = image.yres = 0;  // unknown: no chunk
  EXPECT_TRUE(chunk(encode(image, truecolour_png()), "pHYs").empty());
}

}  // namespace
