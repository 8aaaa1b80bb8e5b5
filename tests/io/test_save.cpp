// Encoding: round trips for every format and depth imgpipe writes, the encoder settings,
// and the metadata policy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <opencv2/imgproc.hpp>
#include <random>
#include <tuple>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;

namespace {

SaveOptions options_for(Format format) {
  SaveOptions options;
  options.format = format;
  return options;
}

Image round_trip(const Image& image, const SaveOptions& options) {
  return load_buffer(encode(image, options), "round-trip");
}

// The samples libvips decodes from the bytes, with no conversion on imgpipe's side.
cv::Mat vips_decode(const std::vector<std::uint8_t>& bytes) {
  return fx::to_mat(fx::read_buffer(bytes).get());
}

// 16 → 8 bit by the nearest level: v * 255 / 65535 = v / 257.
cv::Mat naive_to_8bit(const cv::Mat& m) {
  if (m.depth() == CV_8U) return m.clone();
  cv::Mat out(m.size(), CV_MAKETYPE(CV_8U, m.channels()));
  const int n = m.cols * m.channels();
  for (int y = 0; y < m.rows; ++y)
    for (int i = 0; i < n; ++i)
      out.ptr<std::uint8_t>(y)[i] =
          static_cast<std::uint8_t>(std::lround(m.ptr<std::uint16_t>(y)[i] / 257.0));
  return out;
}

// "Over" compositing onto an opaque background, per sample, in 8-bit; grey uses the mean
// of the background's three components.
cv::Mat naive_flatten(const cv::Mat& m8, const std::uint8_t bg[3]) {
  const int cn = m8.channels(), colours = cn - 1;
  cv::Mat out(m8.size(), CV_MAKETYPE(CV_8U, colours));
  const double grey_bg = (bg[0] + bg[1] + bg[2]) / 3.0;
  for (int y = 0; y < m8.rows; ++y)
    for (int x = 0; x < m8.cols; ++x) {
      const std::uint8_t* p = m8.ptr<std::uint8_t>(y) + x * cn;
      const double a = p[colours] / 255.0;
      for (int c = 0; c < colours; ++c) {
        const double b = colours == 1 ? grey_bg : bg[c];
        out.ptr<std::uint8_t>(y)[x * colours + c] =
            static_cast<std::uint8_t>(std::lround(p[c] * a + b * (1 - a)));
      }
    }
  return out;
}

// An image whose pixels are drawn from `colours` distinct random values.
cv::Mat few_colours(int width, int height, int channels, int colours, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<cv::Vec4b> table;
  std::uniform_int_distribution<int> byte(0, 255);
  while (static_cast<int>(table.size()) < colours) {
    cv::Vec4b c(static_cast<std::uint8_t>(byte(rng)), static_cast<std::uint8_t>(byte(rng)),
                static_cast<std::uint8_t>(byte(rng)), static_cast<std::uint8_t>(byte(rng)));
    for (int i = channels; i < 4; ++i) c[i] = 0;
    if (std::find(table.begin(), table.end(), c) == table.end()) table.push_back(c);
  }
  cv::Mat out(height, width, CV_8UC(channels));
  std::uniform_int_distribution<int> pick(0, colours - 1);
  for (int i = 0; i < width * height; ++i) {
    // Every colour appears at least once, in the first `colours` pixels.
    const cv::Vec4b& c = table[static_cast<std::size_t>(i < colours ? i : pick(rng))];
    std::memcpy(out.data + static_cast<std::size_t>(i) * static_cast<std::size_t>(channels), c.val,
                static_cast<std::size_t>(channels));
  }
  return out;
}

// ---------------------------------------------------------------- PNG

class PngTruecolour : public ::testing::TestWithParam<std::tuple<int, int>> {};

TEST_P(PngTruecolour, RoundTripIsBitIdentical) {
  const auto [channels, depth] = GetParam();
  // Noise: far more than 256 distinct values, so never written as a palette.
  const Image image(test::make_image(48, 32, channels, depth, 11));
  const auto bytes = encode(image, options_for(Format::png));
  const fx::PngHeader header = fx::png_header(bytes);
  const int colour_types[] = {0, 0, 4, 2, 6};  // by channel count (PNG specification 11.2.2)
  EXPECT_EQ(header.colour_type, colour_types[channels]);
  EXPECT_EQ(header.bit_depth, depth == CV_16U ? 16 : 8);
  EXPECT_EQ(header.width, 48u);
  EXPECT_EQ(header.height, 32u);
  EXPECT_TRUE(test::identical(vips_decode(bytes), image.pixels));
  Image back = load_buffer(bytes, "png");
  EXPECT_TRUE(test::identical(back.pixels, image.pixels));
  EXPECT_EQ(back.source_format, "png");
}

INSTANTIATE_TEST_SUITE_P(ChannelsAndDepths, PngTruecolour,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4), ::testing::Values(CV_8U, CV_16U)));

TEST(PngPalette, OpaqueColourImageIsIndexedWithoutTransparency) {
  const Image image(few_colours(40, 30, 3, 200, 1));
  const auto bytes = encode(image, options_for(Format::png));
  EXPECT_EQ(fx::png_header(bytes).colour_type, 3);
  EXPECT_EQ(fx::png_header(bytes).bit_depth, 8);
  EXPECT_FALSE(fx::png_has_chunk(bytes, "tRNS"));
  EXPECT_TRUE(test::identical(vips_decode(bytes), image.pixels));
  EXPECT_TRUE(test::identical(load_buffer(bytes, "png").pixels, image.pixels));
}

TEST(PngPalette, AlphaGoesInTheTransparencyChunk) {
  cv::Mat rgba = few_colours(40, 30, 4, 200, 2);
  // Fully transparent pixels with different colours must stay distinct.
  rgba.at<cv::Vec4b>(29, 38) = {10, 20, 30, 0};
  rgba.at<cv::Vec4b>(29, 39) = {40, 50, 60, 0};
  const Image image(rgba);
  const auto bytes = encode(image, options_for(Format::png));
  EXPECT_EQ(fx::png_header(bytes).colour_type, 3);
  EXPECT_TRUE(fx::png_has_chunk(bytes, "tRNS"));
  EXPECT_TRUE(test::identical(vips_decode(bytes), rgba));
  EXPECT_TRUE(test::identical(load_buffer(bytes, "png").pixels, rgba));
}

TEST(PngPalette, ColourCountBoundaryAndPackedDepths) {
  // 256 colours fit a palette; 257 do not.
  EXPECT_EQ(
      fx::png_header(encode(Image(few_colours(40, 30, 3, 256, 3)), options_for(Format::png))).colour_type, 3);
  EXPECT_EQ(
      fx::png_header(encode(Image(few_colours(40, 30, 3, 257, 3)), options_for(Format::png))).colour_type, 2);
  // Indices are packed to the fewest bits that hold the palette (PNG allows 1, 2, 4, 8).
  for (const auto& [colours, bits] : {std::pair{2, 1}, {4, 2}, {5, 4}, {16, 4}, {17, 8}}) {
    const Image image(few_colours(13, 7, 4, colours, 4));  // odd width: partial last byte
    const auto bytes = encode(image, options_for(Format::png));
    EXPECT_EQ(fx::png_header(bytes).colour_type, 3) << colours;
    EXPECT_EQ(fx::png_header(bytes).bit_depth, bits) << colours;
    EXPECT_TRUE(test::identical(load_buffer(bytes, "png").pixels, image.pixels)) << colours;
  }
}

TEST(PngPalette, NotUsedWhereItWouldChangeTheImage) {
  SaveOptions truecolour = options_for(Format::png);
  truecolour.allow_indexed = false;
  EXPECT_EQ(fx::png_header(encode(Image(few_colours(20, 20, 3, 10, 5)), truecolour)).colour_type, 2);

  // 16-bit samples do not fit a palette's 8-bit entries.
  cv::Mat deep(20, 20, CV_16UC4, cv::Scalar(1000, 2000, 3000, 65535));
  deep(cv::Rect(0, 0, 10, 10)).setTo(cv::Scalar(5, 6, 7, 300));
  auto bytes = encode(Image(deep), options_for(Format::png));
  EXPECT_EQ(fx::png_header(bytes).colour_type, 6);
  EXPECT_EQ(fx::png_header(bytes).bit_depth, 16);
  EXPECT_TRUE(test::identical(load_buffer(bytes, "png").pixels, deep));

  // Grey + alpha with few values: a palette would come back as RGBA; it stays grey + alpha.
  const Image grey_alpha(few_colours(20, 20, 2, 12, 6));
  bytes = encode(grey_alpha, options_for(Format::png));
  EXPECT_EQ(fx::png_header(bytes).colour_type, 4);
  EXPECT_TRUE(test::identical(load_buffer(bytes, "png").pixels, grey_alpha.pixels));
}

TEST(Png, RealPhotosRoundTripExactly) {
  for (const char* name : {"opencv-logo-rgba.png", "logo.png", "chelsea.png"}) {
    Image photo = load(test::photo(name));
    EXPECT_TRUE(test::identical(round_trip(photo, options_for(Format::png)).pixels, photo.pixels)) << name;
  }
}

TEST(Png, CompressionLevelChangesSizeNotPixels) {
  const Image photo = load(test::photo("chelsea.png"));
  SaveOptions fastest = options_for(Format::png), smallest = options_for(Format::png);
  fastest.compression = 0;
  smallest.compression = 9;
  const auto stored = encode(photo, fastest), packed = encode(photo, smallest);
  // Level 0 stores deflate blocks uncompressed: at least one byte per sample.
  EXPECT_GE(stored.size(), photo.pixels.total() * 3);
  EXPECT_LT(packed.size(), stored.size() * 9 / 10);
  EXPECT_TRUE(test::identical(load_buffer(stored, "0").pixels, photo.pixels));
  EXPECT_TRUE(test::identical(load_buffer(packed, "9").pixels, photo.pixels));
}

// ---------------------------------------------------------------- JPEG

TEST(Jpeg, RgbAndGreyRoundTripClosely) {
  SaveOptions options = options_for(Format::jpeg);
  options.quality = 95;
  for (int channels : {1, 3}) {
    const Image image(test::make_gradient(96, 64, channels));
    Image back = round_trip(image, options);
    EXPECT_EQ(back.channels(), channels);
    EXPECT_EQ(back.bit_depth(), 8);
    EXPECT_EQ(back.source_format, "jpeg");
    // Quality 95 on a smooth gradient: errors of about one level; 40 dB is a mean squared
    // error of 6.5 levels².
    EXPECT_GE(test::psnr(back.pixels, image.pixels), 40.0) << channels;
  }
}

TEST(Jpeg, AlphaIsFlattenedOntoTheBackground) {
  SaveOptions options = options_for(Format::jpeg);
  options.quality = 95;
  options.background[0] = 0;
  options.background[1] = 128;
  options.background[2] = 255;
  for (int channels : {2, 4}) {
    const Image image(test::make_gradient(96, 64, channels));
    Image back = round_trip(image, options);
    ASSERT_EQ(back.channels(), channels - 1);
    // Same bound as an opaque image: the flattened picture is just as smooth.
    EXPECT_GE(test::psnr(back.pixels, naive_flatten(image.pixels, options.background)), 40.0) << channels;
  }
}

TEST(Jpeg, SixteenBitIsReducedToEight) {
  SaveOptions options = options_for(Format::jpeg);
  options.quality = 95;
  const Image deep(test::make_gradient(96, 64, 3, CV_16U));
  Image back = round_trip(deep, options);
  EXPECT_EQ(back.bit_depth(), 8);
  EXPECT_GE(test::psnr(back.pixels, naive_to_8bit(deep.pixels)), 40.0);

  const Image deep_rgba(test::make_gradient(96, 64, 4, CV_16U));
  back = round_trip(deep_rgba, options);
  EXPECT_EQ(back.channels(), 3);
  EXPECT_GE(test::psnr(back.pixels, naive_flatten(naive_to_8bit(deep_rgba.pixels), options.background)),
            40.0);
}

TEST(Jpeg, QualityTradesSizeForFidelity) {
  const Image photo = load(test::photo("chelsea.png"));
  SaveOptions low = options_for(Format::jpeg), high = options_for(Format::jpeg);
  low.quality = 30;
  high.quality = 95;
  const auto small = encode(photo, low), large = encode(photo, high);
  EXPECT_LT(small.size(), large.size());
  const double psnr_low = test::psnr(load_buffer(small, "low").pixels, photo.pixels);
  const double psnr_high = test::psnr(load_buffer(large, "high").pixels, photo.pixels);
  EXPECT_LT(psnr_low, psnr_high);
  // Quality 30 on a real photo is still recognisable: above 28 dB.
  EXPECT_GE(psnr_low, 28.0);
  // The documented default is 85.
  SaveOptions eighty_five = options_for(Format::jpeg);
  eighty_five.quality = 85;
  EXPECT_EQ(encode(photo, options_for(Format::jpeg)), encode(photo, eighty_five));
}

TEST(Jpeg, ProgressiveWritesAProgressiveFrame) {
  const Image photo(test::make_gradient(64, 64, 3));
  SaveOptions progressive = options_for(Format::jpeg);
  progressive.progressive = true;
  // Frame markers (ITU T.81 table B.1): SOF0 = FFC0 baseline, SOF2 = FFC2 progressive.
  // Entropy-coded data never holds FF followed by C0..C2 (FF is stuffed with 00).
  const std::string sof0("\xff\xc0", 2), sof2("\xff\xc2", 2);
  const auto baseline = encode(photo, options_for(Format::jpeg));
  const auto layered = encode(photo, progressive);
  EXPECT_TRUE(fx::contains(baseline, sof0));
  EXPECT_FALSE(fx::contains(baseline, sof2));
  EXPECT_TRUE(fx::contains(layered, sof2));
  EXPECT_FALSE(fx::contains(layered, sof0));
  // Progressive order changes how the coefficients are sent, not their precision: both
  // decode as close to the gradient as baseline quality 85 allows (above 35 dB).
  EXPECT_GE(test::psnr(load_buffer(baseline, "b").pixels, photo.pixels), 35.0);
  EXPECT_GE(test::psnr(load_buffer(layered, "p").pixels, photo.pixels), 35.0);
}

// ---------------------------------------------------------------- WebP

TEST(WebP, LossyPhotoIsClose) {
  const Image photo = load(test::photo("rocket.jpg"));
  const auto bytes = encode(photo, options_for(Format::webp));
  Image back = load_buffer(bytes, "webp");
  EXPECT_EQ(back.source_format, "webp");
  ASSERT_EQ(back.channels(), 3);
  // Quality 80 (the default) on a photo: well above 30 dB, and far smaller than the pixels.
  EXPECT_GE(test::psnr(back.pixels, photo.pixels), 30.0);
  EXPECT_LT(bytes.size(), photo.pixels.total() * 3 / 8);
  SaveOptions eighty = options_for(Format::webp);
  eighty.quality = 80;
  EXPECT_EQ(encode(photo, eighty), bytes);
}

TEST(WebP, LosslessIsBitIdenticalWithAndWithoutAlpha) {
  SaveOptions lossless = options_for(Format::webp);
  lossless.lossless = true;
  const Image rgb(test::make_image(45, 31, 3, CV_8U, 21));
  EXPECT_TRUE(test::identical(round_trip(rgb, lossless).pixels, rgb.pixels));

  cv::Mat rgba = test::make_image(45, 31, 4, CV_8U, 22);
  // Colour under fully transparent pixels is part of the image too (un-premultiplied data).
  for (int x = 0; x < 20; ++x) rgba.at<cv::Vec4b>(5, x)[3] = 0;
  EXPECT_TRUE(test::identical(round_trip(Image(rgba), lossless).pixels, rgba));
}

TEST(WebP, GreyAndDeepInputsBecomeEightBitRgb) {
  SaveOptions lossless = options_for(Format::webp);
  lossless.lossless = true;
  // WebP stores RGB(A) only: grey comes back with three equal channels.
  const cv::Mat grey = test::make_image(30, 20, 1, CV_8U, 5);
  cv::Mat expected;
  cv::merge(std::vector<cv::Mat>{grey, grey, grey}, expected);
  EXPECT_TRUE(test::identical(round_trip(Image(grey), lossless).pixels, expected));

  const cv::Mat grey_alpha = test::make_image(30, 20, 2, CV_8U, 6);
  std::vector<cv::Mat> planes;
  cv::split(grey_alpha, planes);
  cv::merge(std::vector<cv::Mat>{planes[0], planes[0], planes[0], planes[1]}, expected);
  EXPECT_TRUE(test::identical(round_trip(Image(grey_alpha), lossless).pixels, expected));

  const cv::Mat deep = test::make_image(30, 20, 4, CV_16U, 7);
  EXPECT_TRUE(test::identical(round_trip(Image(deep), lossless).pixels, naive_to_8bit(deep)));
}

TEST(WebP, NearLosslessIsCloseAndSmaller) {
  const Image photo = load(test::photo("chelsea.png"));
  SaveOptions lossless = options_for(Format::webp), near = options_for(Format::webp);
  lossless.lossless = true;
  near.near_lossless = 40;
  const auto exact = encode(photo, lossless), approximate = encode(photo, near);
  Image back = load_buffer(approximate, "near");
  EXPECT_FALSE(test::identical(back.pixels, photo.pixels));
  // libwebp's near-lossless at level 40 quantises by 5 - 40/20 = 3 bits, rounding to the
  // nearest multiple of 8: an error of at most 4 per sample.
  EXPECT_LE(test::max_abs_diff(back.pixels, photo.pixels), 4.0);
  EXPECT_LT(approximate.size(), exact.size());
}

TEST(WebP, AlphaQuality) {
  const cv::Mat rgba = test::make_gradient(64, 48, 4);
  SaveOptions exact_alpha = options_for(Format::webp), rough_alpha = options_for(Format::webp);
  exact_alpha.alpha_quality = 100;
  rough_alpha.alpha_quality = 5;
  auto alpha_of = [](const cv::Mat& m) {
    cv::Mat a;
    cv::extractChannel(m, a, 3);
    return a;
  };
  const auto fine = encode(Image(rgba), exact_alpha), coarse = encode(Image(rgba), rough_alpha);
  // Lossy WebP keeps alpha in a separate plane; at alpha quality 100 it is compressed
  // losslessly, below that its levels are quantised.
  EXPECT_TRUE(test::identical(alpha_of(load_buffer(fine, "a100").pixels), alpha_of(rgba)));
  const cv::Mat rough = alpha_of(load_buffer(coarse, "a5").pixels);
  EXPECT_GT(test::max_abs_diff(rough, alpha_of(rgba)), 0.0);
  EXPECT_LT(coarse.size(), fine.size());
}

TEST(WebP, TargetSizeIsRoughlyHonoured) {
  const Image photo = load(test::photo("rocket.jpg"));
  for (std::uint64_t target : {8000u, 24000u}) {
    SaveOptions sized = options_for(Format::webp);
    sized.target_size = target;
    const auto bytes = encode(photo, sized);
    // libwebp searches the quantiser over a few passes; within 25% of the target.
    EXPECT_NEAR(static_cast<double>(bytes.size()), static_cast<double>(target),
                0.25 * static_cast<double>(target));
  }
}

TEST(WebP, MethodComesFromThePresetUnlessSet) {
  const Image photo = load(test::photo("chelsea.png"));
  SaveOptions method0 = options_for(Format::webp), method4 = options_for(Format::webp),
              method6 = options_for(Format::webp);
  method0.method = 0;
  method4.method = 4;
  method6.method = 6;
  const auto fastest = encode(photo, method0), slowest = encode(photo, method6);
  EXPECT_NE(fastest, slowest);
  // Both are faithful encodings at the default quality.
  EXPECT_GE(test::psnr(load_buffer(fastest, "m0").pixels, photo.pixels), 30.0);
  EXPECT_GE(test::psnr(load_buffer(slowest, "m6").pixels, photo.pixels), 30.0);
  // Presets map to methods: draft 0, balanced 4, ultra 6 (libwebp is deterministic).
  EXPECT_EQ(encode(photo, options_for(Format::webp), QualityPreset::draft), fastest);
  EXPECT_EQ(encode(photo, options_for(Format::webp), QualityPreset::balanced), encode(photo, method4));
  EXPECT_EQ(encode(photo, options_for(Format::webp), QualityPreset::ultra), slowest);
  EXPECT_EQ(encode(photo, method0, QualityPreset::ultra), fastest) << "an explicit method wins";
}

// ---------------------------------------------------------------- TIFF

class TiffRoundTrip : public ::testing::TestWithParam<std::tuple<int, int, std::string>> {};

TEST_P(TiffRoundTrip, IsBitIdentical) {
  const auto& [channels, depth, compression] = GetParam();
  SaveOptions options = options_for(Format::tiff);
  options.tiff_compression = compression;
  const Image image(test::make_image(40, 27, channels, depth, 9));
  const auto bytes = encode(image, options);
  // TIFF 6.0 tags: 259 Compression (1 none, 5 LZW, 8 Adobe deflate), 277 SamplesPerPixel.
  const std::uint32_t codes[] = {compression == "none" ? 1u : compression == "lzw" ? 5u : 8u};
  EXPECT_EQ(fx::tiff_tag(bytes, 259), codes[0]);
  EXPECT_EQ(fx::tiff_tag(bytes, 277), static_cast<std::uint32_t>(channels));
  if (compression == "none") {
    EXPECT_GE(bytes.size(), image.pixels.total() * image.pixels.elemSize());
  }
  Image back = load_buffer(bytes, "tiff");
  EXPECT_EQ(back.source_format, "tiff");
  EXPECT_TRUE(test::identical(back.pixels, image.pixels));
}

INSTANTIATE_TEST_SUITE_P(ChannelsDepthsCompressions, TiffRoundTrip,
                         ::testing::Combine(::testing::Values(1, 2, 3, 4), ::testing::Values(CV_8U, CV_16U),
                                            ::testing::Values("none", "deflate", "lzw")));

TEST(Tiff, JpegCompressionIsLossyEightBit) {
  SaveOptions options = options_for(Format::tiff);
  options.tiff_compression = "jpeg";
  const Image image(test::make_gradient(64, 48, 3));
  const auto bytes = encode(image, options);
  EXPECT_EQ(fx::tiff_tag(bytes, 259), 7u);  // "new-style" JPEG
  // Default JPEG quality inside TIFF (75) on a smooth gradient: above 35 dB.
  EXPECT_GE(test::psnr(load_buffer(bytes, "t").pixels, image.pixels), 35.0);
}

TEST(Tiff, SixteenBitGreyPhotoStaysSixteenBit) {
  Image chessboard = load(test::photo("chessboard_GRAY_U16.tif"));
  ASSERT_EQ(chessboard.pixels.type(), CV_16UC1);
  EXPECT_TRUE(test::identical(round_trip(chessboard, options_for(Format::tiff)).pixels, chessboard.pixels));
  EXPECT_TRUE(test::identical(round_trip(chessboard, options_for(Format::png)).pixels, chessboard.pixels));
}

// ---------------------------------------------------------------- metadata

struct MetadataCase {
  const char* name;
  Format format;
  bool few_colours;  // a palette PNG goes through a different writer
};

class Metadata : public ::testing::TestWithParam<MetadataCase> {
 protected:
  static Image tagged(const MetadataCase& c, int orientation, int exif_orientation) {
    Image image(c.few_colours ? few_colours(32, 24, 3, 20, 8) : test::make_image(32, 24, 3, CV_8U, 8));
    image.exif = fx::make_exif(exif_orientation, "imgpipe-test-camera");
    image.icc = fx::p3_profile();
    image.orientation = orientation;
    return image;
  }
};

TEST_P(Metadata, KeptWhenAskedAndStrippedByDefault) {
  const MetadataCase& c = GetParam();
  const Image image = tagged(c, 1, 1);
  ASSERT_FALSE(image.icc.empty());
  SaveOptions keep = options_for(c.format);
  keep.keep_metadata = true;
  const auto kept_bytes = encode(image, keep);
  if (c.format == Format::png) {
    EXPECT_EQ(fx::png_header(kept_bytes).colour_type, c.few_colours ? 3 : 2);
  }
  fx::VipsPtr kept = fx::read_buffer(kept_bytes);
  // libvips writes no EXIF into TIFF; the profile it does keep.
  if (c.format != Format::tiff) {
    EXPECT_TRUE(fx::contains(fx::blob(kept.get(), VIPS_META_EXIF_NAME), "imgpipe-test-camera"));
  }
  EXPECT_EQ(fx::blob(kept.get(), VIPS_META_ICC_NAME), image.icc);
  ImageInfo info = probe_buffer(kept_bytes, "kept");
  EXPECT_TRUE(info.has_icc);

  fx::VipsPtr stripped = fx::read_buffer(encode(image, options_for(c.format)));
  EXPECT_EQ(vips_image_get_typeof(stripped.get(), VIPS_META_EXIF_NAME), 0u);
  EXPECT_EQ(vips_image_get_typeof(stripped.get(), VIPS_META_ICC_NAME), 0u);
}

TEST_P(Metadata, OrientationTagFollowsTheImage) {
  const MetadataCase& c = GetParam();
  SaveOptions keep = options_for(c.format);
  keep.keep_metadata = true;
  // Pixels made upright by an earlier step while the EXIF block still says 6: the output
  // must say 1, or viewers would rotate the picture a second time.
  EXPECT_EQ(probe_buffer(encode(tagged(c, 1, 6), keep), "upright").orientation, 1);
  // Pixels still stored rotated (loaded with auto_orient off): the tag must stay.
  EXPECT_EQ(probe_buffer(encode(tagged(c, 6, 6), keep), "stored").orientation, 6);
}

INSTANTIATE_TEST_SUITE_P(Formats, Metadata,
                         ::testing::Values(MetadataCase{"jpeg", Format::jpeg, false},
                                           MetadataCase{"png", Format::png, false},
                                           MetadataCase{"palette_png", Format::png, true},
                                           MetadataCase{"webp", Format::webp, false},
                                           MetadataCase{"tiff", Format::tiff, false}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Metadata, SurvivesLoadSaveLoadOfARealPhoto) {
  test::TempDir dir;
  // A photo converted to Display P3 with the profile embedded, saved by libvips.
  fx::VipsPtr p3 = fx::icc_transform(fx::read(test::photo("fruits.jpg")).get(), "p3");
  const auto exif = fx::make_exif(1, "imgpipe-test-camera");
  vips_image_set_blob_copy(p3.get(), VIPS_META_EXIF_NAME, exif.data(), exif.size());
  fx::write(p3.get(), dir / "p3.jpg[Q=95]");

  Image loaded = load(dir / "p3.jpg");
  ASSERT_FALSE(loaded.exif.empty());
  ASSERT_FALSE(loaded.icc.empty());
  SaveOptions keep = options_for(Format::jpeg);
  keep.keep_metadata = true;
  fx::VipsPtr saved = fx::read_buffer(encode(loaded, keep));
  EXPECT_TRUE(fx::contains(fx::blob(saved.get(), VIPS_META_EXIF_NAME), "imgpipe-test-camera"));
  // The pixels are sRGB after loading, so the profile that travels with them is sRGB's,
  // not the P3 one of the file (which would shift every colour again on display).
  EXPECT_EQ(fx::blob(saved.get(), VIPS_META_ICC_NAME), loaded.icc);
  EXPECT_NE(loaded.icc, fx::p3_profile());
}

}  // namespace
