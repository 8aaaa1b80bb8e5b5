// Decoding: from a path and from memory, header probing, first frames, 16-bit, and colour
// conversion to sRGB (embedded ICC profiles, CMYK).
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;

namespace {

// Whether the file embeds an ICC profile, read from its bytes: JPEG APP2 segments are
// tagged "ICC_PROFILE" (ICC.1 annex B.4), PNG has an iCCP chunk.
bool file_has_icc(const fs::path& path) {
  const auto bytes = test::read_file(path);
  if (path.extension() == ".png") return fx::png_has_chunk(bytes, "iCCP");
  return fx::contains(bytes, std::string("ICC_PROFILE\0", 12));
}

struct Expected {
  const char* name;
  const char* format;
  int width, height, bands, bit_depth;
  bool alpha;
};

// Sizes and layouts as listed in shared/images/SOURCES.md.
const Expected kPhotos[] = {
    {"rocket.jpg", "jpeg", 640, 427, 3, 8, false},
    {"hubble_deep_field.jpg", "jpeg", 1000, 872, 3, 8, false},
    {"fruits.jpg", "jpeg", 512, 480, 3, 8, false},
    {"astronaut.png", "png", 512, 512, 3, 8, false},
    {"chelsea.png", "png", 451, 300, 3, 8, false},
    {"logo.png", "png", 500, 500, 4, 8, true},
    {"opencv-logo-rgba.png", "png", 600, 794, 4, 8, true},
    {"chessboard_GRAY_U16.tif", "tiff", 200, 200, 1, 16, false},
    {"no_time_for_that_tiny.gif", "gif", 14, 25, 4, 8, true},
    {"autumn-2560x1600.jpg", "jpeg", 2560, 1600, 3, 8, false},
};

TEST(Probe, HeaderFieldsOfRealPhotos) {
  for (const Expected& e : kPhotos) {
    SCOPED_TRACE(e.name);
    const fs::path path = test::photo(e.name);
    const auto bytes = test::read_file(path);
    // The same header read from the file and from memory.
    for (const ImageInfo& info : {probe(path), probe_buffer(bytes, "mem")}) {
      EXPECT_TRUE(info.source == path.string() || info.source == "mem") << info.source;
      EXPECT_EQ(info.format, e.format);
      EXPECT_EQ(info.width, e.width);
      EXPECT_EQ(info.height, e.height);
      EXPECT_EQ(info.bands, e.bands);
      EXPECT_EQ(info.bit_depth, e.bit_depth);
      EXPECT_EQ(info.has_alpha, e.alpha);
      EXPECT_EQ(info.orientation, 1);
      EXPECT_EQ(info.file_bytes, bytes.size());
      if (info.format != "gif" && info.format != "tiff") {
        EXPECT_EQ(info.has_icc, file_has_icc(path));
      }
      if (info.format != "gif") {
        EXPECT_EQ(info.pages, 1);  // the animated GIF has a test of its own
      }
    }
    EXPECT_EQ(probe_buffer(bytes, "mem").source, "mem");
    EXPECT_EQ(probe(path).source, path.string());
  }
}

TEST(Probe, AnimatedGifCountsItsFrames) {
  const fs::path path = test::photo("no_time_for_that_tiny.gif");
  // Reference: libvips's GIF reader asked for every frame stacked vertically.
  VipsImage* all = nullptr;
  ASSERT_EQ(vips_gifload(path.c_str(), &all, "n", -1, nullptr), 0);
  fx::VipsPtr frames(all);
  const int expected = vips_image_get_height(all) / 25;
  EXPECT_GT(expected, 1);
  EXPECT_EQ(probe(path).pages, expected);
}

TEST(Probe, KnowsSixteenBitAndProfilesOfGeneratedFiles) {
  test::TempDir dir;
  fx::write(test::make_image(20, 10, 4, CV_16U), dir / "deep.png");
  ImageInfo deep = probe(dir / "deep.png");
  EXPECT_EQ(deep.bit_depth, 16);
  EXPECT_EQ(deep.bands, 4);
  EXPECT_TRUE(deep.has_alpha);
  EXPECT_FALSE(deep.has_icc);

  fx::write(fx::icc_transform(fx::from_mat(test::make_image(20, 10, 3)).get(), "p3").get(), dir / "p3.png");
  EXPECT_TRUE(probe(dir / "p3.png").has_icc);
}

TEST(Load, PathAndBufferGiveTheDecoderSamples) {
  // Photos without an embedded profile: the samples are exactly what libvips decodes.
  for (const char* name : {"fruits.jpg", "coffee.png", "logo.png"}) {
    SCOPED_TRACE(name);
    const fs::path path = test::photo(name);
    const cv::Mat reference = fx::to_mat(fx::read(path).get());
    Image from_path = load(path);
    EXPECT_TRUE(test::identical(from_path.pixels, reference));
    EXPECT_EQ(from_path.source, path.string());
    EXPECT_EQ(from_path.source_format, path.extension() == ".png" ? "png" : "jpeg");
    EXPECT_EQ(from_path.orientation, 1);

    Image from_memory = load_buffer(test::read_file(path), "upload");
    EXPECT_TRUE(test::identical(from_memory.pixels, reference));
    EXPECT_EQ(from_memory.source, "upload");
    EXPECT_EQ(from_memory.source_format, from_path.source_format);
  }
}

TEST(Load, FileNamesAreTakenLiterally) {
  test::TempDir dir;
  const auto bytes = test::read_file(test::photo("fruits.jpg"));
  const cv::Mat reference = load(test::photo("fruits.jpg")).pixels;
  // libvips reads "name[options]" as load options; imgpipe takes a path as it is.
  for (const char* name : {"scan[1]", "shot[Q=1]", "with space é.jpg", "no-extension"}) {
    const auto path = dir / name;
    write_file_atomic(path, bytes);
    EXPECT_EQ(probe(path).width, 512) << name;
    EXPECT_TRUE(test::identical(load(path).pixels, reference)) << name;
  }
}

TEST(Load, GifGivesTheFirstFrame) {
  const fs::path path = test::photo("no_time_for_that_tiny.gif");
  Image gif = load(path);
  EXPECT_EQ(gif.source_format, "gif");
  ASSERT_EQ(gif.pixels.size(), cv::Size(14, 25));
  auto frame = [&](int page) {
    VipsImage* out = nullptr;
    if (vips_gifload(path.c_str(), &out, "page", page, nullptr) != 0) fx::fail("gifload");
    return fx::to_mat(fx::VipsPtr(out).get());
  };
  const cv::Mat first = frame(0), second = frame(1);
  ASSERT_FALSE(test::identical(first, second)) << "the check needs frames that differ";
  EXPECT_TRUE(test::identical(gif.pixels, first));
}

TEST(Load, SixteenBitGreyTiffStaysSixteenBit) {
  Image chessboard = load(test::photo("chessboard_GRAY_U16.tif"));
  ASSERT_EQ(chessboard.pixels.type(), CV_16UC1);
  EXPECT_EQ(chessboard.pixels.size(), cv::Size(200, 200));
  EXPECT_TRUE(
      test::identical(chessboard.pixels, fx::to_mat(fx::read(test::photo("chessboard_GRAY_U16.tif")).get())));
}

// ---------------------------------------------------------------- colour

cv::Mat to_8bit(const cv::Mat& m) {
  cv::Mat out = m;
  if (m.depth() == CV_16U) m.convertTo(out, CV_8U, 1.0 / 257.0);
  return out;
}

cv::Mat to_lab(const cv::Mat& rgb8) {
  cv::Mat f, lab;
  rgb8.convertTo(f, CV_32F, 1.0 / 255.0);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

// Mean CIE76 colour difference between two 8-bit sRGB images.
double mean_delta_e(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff = to_lab(a) - to_lab(b), squared;
  cv::multiply(diff, diff, squared);
  std::vector<cv::Mat> planes;
  cv::split(squared, planes);
  cv::Mat distance;
  cv::sqrt(planes[0] + planes[1] + planes[2], distance);
  return cv::mean(distance)[0];
}

double srgb_encode(double linear) {
  linear = std::clamp(linear, 0.0, 1.0);
  return linear <= 0.0031308 ? 12.92 * linear : 1.055 * std::pow(linear, 1 / 2.4) - 0.055;
}

// Adobe RGB (1998) to sRGB by the published definitions: Adobe's gamma 563/256 and its
// D65 primaries to XYZ, then IEC 61966-2-1's XYZ to linear sRGB and transfer curve.
cv::Mat naive_adobe_to_srgb(const cv::Mat& adobe8) {
  const double to_xyz[3][3] = {{0.5767309, 0.1855540, 0.1881852},
                               {0.2973769, 0.6273491, 0.0752741},
                               {0.0270343, 0.0706872, 0.9911085}};
  const double to_srgb[3][3] = {{3.2404542, -1.5371385, -0.4985314},
                                {-0.9692660, 1.8760108, 0.0415560},
                                {0.0556434, -0.2040259, 1.0572252}};
  cv::Mat out(adobe8.size(), CV_8UC3);
  for (int y = 0; y < adobe8.rows; ++y)
    for (int x = 0; x < adobe8.cols; ++x) {
      const cv::Vec3b& in = adobe8.at<cv::Vec3b>(y, x);
      double linear[3], xyz[3] = {0, 0, 0};
      for (int c = 0; c < 3; ++c) linear[c] = std::pow(in[c] / 255.0, 563.0 / 256.0);
      for (int r = 0; r < 3; ++r)
        for (int c = 0; c < 3; ++c) xyz[r] += to_xyz[r][c] * linear[c];
      for (int r = 0; r < 3; ++r) {
        double v = 0;
        for (int c = 0; c < 3; ++c) v += to_srgb[r][c] * xyz[c];
        out.at<cv::Vec3b>(y, x)[r] = static_cast<std::uint8_t>(std::lround(srgb_encode(v) * 255));
      }
    }
  return out;
}

TEST(LoadColour, AdobeRgbPhotoIsConvertedToSrgb) {
  const fs::path path = test::photo("rocket.jpg");  // embeds "Adobe RGB (1998)"
  ASSERT_TRUE(file_has_icc(path));
  const cv::Mat stored = fx::to_mat(fx::read(path).get());
  Image loaded = load(path);
  ASSERT_EQ(loaded.pixels.type(), CV_8UC3);
  const cv::Mat reference = naive_adobe_to_srgb(stored);
  // The conversion did something: Adobe RGB's wider gamut maps to visibly other values.
  EXPECT_GT(test::mean_abs_diff(loaded.pixels, stored), 2.0);
  // And what it did matches the textbook conversion. lcms goes through D50 with Bradford
  // adaptation and 8-bit tables; that differs from the direct D65 matrices by about a
  // level: a mean ΔE of 1 is below what a person can see.
  EXPECT_LT(mean_delta_e(loaded.pixels, reference), 1.0);
  EXPECT_LT(test::mean_abs_diff(loaded.pixels, reference), 1.5);
}

TEST(LoadColour, DisplayP3IsConvertedBackToSrgb) {
  test::TempDir dir;
  const cv::Mat original = fx::to_mat(fx::read(test::photo("fruits.jpg")).get());
  for (int depth : {8, 16}) {
    SCOPED_TRACE(depth);
    // The photo converted to Display P3 (libvips's built-in profile, embedded), stored
    // losslessly. Its samples differ from sRGB's: P3 primaries are more saturated.
    fx::VipsPtr p3 = fx::icc_transform(fx::from_mat(original).get(), "p3", depth);
    fx::write(p3.get(), dir / "p3.png");
    const cv::Mat stored = fx::to_mat(fx::read(dir / "p3.png").get());
    Image loaded = load(dir / "p3.png");
    ASSERT_EQ(loaded.bit_depth(), depth);
    ASSERT_EQ(loaded.channels(), 3);
    const cv::Mat loaded8 = to_8bit(loaded.pixels), stored8 = to_8bit(stored);
    EXPECT_GT(mean_delta_e(stored8, original), 2.0) << "P3 samples read as sRGB look different";
    // sRGB → P3 → sRGB: P3 contains sRGB, so only rounding is lost (8-bit: a level or two).
    EXPECT_LT(mean_delta_e(loaded8, original), 1.0);
    EXPECT_GE(test::psnr(loaded8, original), 40.0);
  }
}

TEST(LoadColour, ProfiledRgbaKeepsItsAlpha) {
  test::TempDir dir;
  cv::Mat rgba = test::make_gradient(40, 30, 4);
  fx::write(fx::icc_transform(fx::from_mat(rgba).get(), "p3").get(), dir / "p3a.png");
  Image loaded = load(dir / "p3a.png");
  ASSERT_EQ(loaded.channels(), 4);
  cv::Mat alpha_in, alpha_out;
  cv::extractChannel(rgba, alpha_in, 3);
  cv::extractChannel(loaded.pixels, alpha_out, 3);
  EXPECT_TRUE(test::identical(alpha_out, alpha_in));
}

TEST(LoadColour, CmykJpegLoadsAsRgb) {
  test::TempDir dir;
  const cv::Mat original = fx::to_mat(fx::read(test::photo("fruits.jpg")).get());
  fx::VipsPtr cmyk = fx::icc_transform(fx::from_mat(original).get(), "cmyk");
  ASSERT_EQ(vips_image_get_bands(cmyk.get()), 4);
  // Once with the press profile embedded, once without (the loader then assumes the same
  // built-in profile libvips converted with).
  fx::write(cmyk.get(), dir / "profiled.jpg[Q=95]");
  fx::write(cmyk.get(), dir / "bare.jpg[Q=95,strip]");
  // What the CMYK samples mean in sRGB, converted by libvips in memory (no JPEG between).
  const cv::Mat converted_back = fx::to_mat(fx::icc_transform(cmyk.get(), "srgb").get());
  const double gamut_loss = mean_delta_e(converted_back, original);
  for (const char* name : {"profiled.jpg", "bare.jpg"}) {
    SCOPED_TRACE(name);
    ImageInfo info = probe(dir / name);
    ASSERT_EQ(info.interpretation, "cmyk");
    ASSERT_EQ(info.bands, 4);
    Image loaded = load(dir / name);
    ASSERT_EQ(loaded.pixels.type(), CV_8UC3);
    // Against the in-memory conversion only the JPEG round trip (quality 95, in CMYK)
    // differs: well under a just-noticeable ΔE of 2.3.
    EXPECT_LT(mean_delta_e(loaded.pixels, converted_back), 1.5);
    EXPECT_GE(test::psnr(loaded.pixels, converted_back), 40.0);
    // Against the original the press profile's smaller gamut clips the fruit's saturated
    // colours as well; the file adds at most a little to that. An inverted or naive CMYK
    // reading would be off by tens.
    EXPECT_LT(mean_delta_e(loaded.pixels, original), gamut_loss + 1.0);
    EXPECT_LT(mean_delta_e(loaded.pixels, original), 7.0);
  }
}

}  // namespace
