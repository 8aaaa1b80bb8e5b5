// dither: Bayer matrices against their published values, Floyd–Steinberg against a 3x2 example
// worked by hand, error diffusion keeping the mean of flat greys, the parallel wavefront against
// the sequential reference (bit for bit), palette/levels output sets, alpha and 16-bit input.
#include <gtest/gtest.h>

#include <cmath>
#include <imgpipe/kernels/dither.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using kernels::DitherMethod;
using kernels::DitherOptions;

namespace {

const std::vector<DitherMethod> kAllMethods = {
    DitherMethod::floyd_steinberg, DitherMethod::atkinson, DitherMethod::jarvis_judice_ninke,
    DitherMethod::sierra,          DitherMethod::bayer2,   DitherMethod::bayer4,
    DitherMethod::bayer8};
const std::vector<DitherMethod> kFullErrorDiffusion = {
    DitherMethod::floyd_steinberg, DitherMethod::jarvis_judice_ninke, DitherMethod::sierra};

cv::Mat run_dither(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("dither", params).run(Image(pixels), Context{}).pixels;
}

cv::Mat flat(int width, int height, int value) {
  return cv::Mat(height, width, CV_8UC1, cv::Scalar(value));
}

double white_fraction(const cv::Mat& grey) {
  return static_cast<double>(cv::countNonZero(grey == 255)) / static_cast<double>(grey.total());
}

std::vector<std::uint8_t> to_vector(const cv::Mat& m) {
  return std::vector<std::uint8_t>(m.begin<std::uint8_t>(), m.end<std::uint8_t>());
}

DitherOptions options(DitherMethod method, int levels = 2, bool linear = false) {
  DitherOptions o;
  o.method = method;
  o.levels = levels;
  o.linear = linear;
  return o;
}

double srgb_decode(double encoded) {
  return encoded <= 0.04045 ? encoded / 12.92 : std::pow((encoded + 0.055) / 1.055, 2.4);
}

}  // namespace

TEST(BayerMatrix, TwoAndFourMatchTheKnownMatrices) {
  const cv::Mat two = kernels::bayer_matrix(2);
  ASSERT_EQ(two.size(), cv::Size(2, 2));
  EXPECT_EQ(two.at<int>(0, 0), 0);
  EXPECT_EQ(two.at<int>(0, 1), 2);
  EXPECT_EQ(two.at<int>(1, 0), 3);
  EXPECT_EQ(two.at<int>(1, 1), 1);

  const int four[4][4] = {{0, 8, 2, 10}, {12, 4, 14, 6}, {3, 11, 1, 9}, {15, 7, 13, 5}};
  const cv::Mat m4 = kernels::bayer_matrix(4);
  ASSERT_EQ(m4.size(), cv::Size(4, 4));
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) EXPECT_EQ(m4.at<int>(y, x), four[y][x]) << y << "," << x;
}

TEST(BayerMatrix, EightStartsWithTheKnownRowsAndIsAPermutation) {
  const cv::Mat m8 = kernels::bayer_matrix(8);
  ASSERT_EQ(m8.size(), cv::Size(8, 8));
  const int first[8] = {0, 32, 8, 40, 2, 34, 10, 42}, second[8] = {48, 16, 56, 24, 50, 18, 58, 26};
  for (int x = 0; x < 8; ++x) {
    EXPECT_EQ(m8.at<int>(0, x), first[x]);
    EXPECT_EQ(m8.at<int>(1, x), second[x]);
  }
  std::set<int> values(m8.begin<int>(), m8.end<int>());
  EXPECT_EQ(values.size(), 64u);
  EXPECT_EQ(*values.begin(), 0);
  EXPECT_EQ(*values.rbegin(), 63);
  EXPECT_NE(test::config_error([] { kernels::bayer_matrix(3); }), "");
}

TEST(Dither, Bayer4OnFlatHalfGreyIsExactlyHalfWhite) {
  // 128/255 = 0.502 lies between thresholds 7.5/16 and 8.5/16: the eight cells with M >= 8
  // stay black, the other eight turn white, in every 4x4 tile.
  const cv::Mat out = run_dither(flat(64, 32, 128), {{"method", "bayer4"}});
  ASSERT_EQ(out.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(out == 255), 64 * 32 / 2);
  EXPECT_EQ(cv::countNonZero(out == 0), 64 * 32 / 2);
  const cv::Mat m4 = kernels::bayer_matrix(4);
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x)
      EXPECT_EQ(out.at<std::uint8_t>(y, x), m4.at<int>(y % 4, x % 4) < 8 ? 255 : 0) << x << "," << y;
  // A quarter grey (64/255 = 0.251, just above 4/16): exactly the four cells with M < 4 are white.
  EXPECT_EQ(cv::countNonZero(run_dither(flat(64, 32, 64), {{"method", "bayer4"}}) == 255), 64 * 32 / 4);
}

// Worked by hand (Floyd–Steinberg 7/16 right, 3/16 below left, 5/16 below, 1/16 below right;
// errors leaving the image dropped; 1-bit threshold 127.5):
//   input  100 150 200
//           40  40 150
//   (0,0) 100 -> 0, e = 100: (1,0) += 43.75, (0,1) += 31.25, (1,1) += 6.25
//   (1,0) 193.75 -> 255, e = -61.25: (2,0) -= 26.796875, (0,1) -= 11.484375, (1,1) -= 19.140625,
//         (2,1) -= 3.828125
//   (2,0) 173.203125 -> 255, e = -81.796875: (1,1) -= 15.336914, (2,1) -= 25.561523
//   row 1 carries 19.765625, -28.227539, -29.389648.
//   Left to right: (0,1) 59.77 -> 0 (e 59.77, (1,1) += 26.15); (1,1) 37.92 -> 0 (e 37.92,
//         (2,1) += 16.59); (2,1) 137.20 -> 255.
//   Serpentine, right to left: (2,1) 120.61 -> 0 (e 120.61, (1,1) += 52.77); (1,1) 64.54 -> 0;
//         (0,1) 19.77 + 40 + 64.54 * 7/16 = 88.0 -> 0.
TEST(Dither, FloydSteinbergMatchesTheHandWorkedExample) {
  cv::Mat input = (cv::Mat_<std::uint8_t>(2, 3) << 100, 150, 200, 40, 40, 150);
  const std::vector<std::uint8_t> raster = {0, 255, 255, 0, 0, 255};
  const std::vector<std::uint8_t> serpentine = {0, 255, 255, 0, 0, 0};
  EXPECT_EQ(to_vector(run_dither(input, {{"serpentine", false}})), raster);
  EXPECT_EQ(to_vector(run_dither(input, {{"serpentine", true}})), serpentine);
  EXPECT_EQ(to_vector(run_dither(input, {})), serpentine);  // serpentine is the default
}

TEST(Dither, ErrorDiffusionKeepsTheMeanOfFlatGrey) {
  // Within 1 % of full scale: only the error pushed off the right and bottom edges is lost.
  for (DitherMethod method : kFullErrorDiffusion)
    for (bool serpentine : {false, true})
      for (int grey : {20, 64, 100, 128, 180, 240}) {
        DitherOptions o;
        o.method = method;
        o.serpentine = serpentine;
        cv::Mat out;
        kernels::dither(flat(192, 160, grey), out, o);
        EXPECT_NEAR(cv::mean(out)[0], grey, 2.55)
            << static_cast<int>(method) << " serpentine " << serpentine << " grey " << grey;
        EXPECT_EQ(cv::countNonZero(out == 0) + cv::countNonZero(out == 255), 192 * 160);
      }
  // Atkinson drops a quarter of each error, which by symmetry still balances at mid grey.
  cv::Mat atkinson;
  kernels::dither(flat(96, 80, 128), atkinson, options(DitherMethod::atkinson));
  EXPECT_NEAR(cv::mean(atkinson)[0], 128, 2.55);
}

TEST(Dither, LinearKeepsTheMeanInLinearLight) {
  // In linear light a 1-bit result is a fraction of white pixels equal to the grey's luminance:
  // 128 decodes to 0.2158 (21.6 % white), not 50 %. Tolerance 0.01 as above (the error
  // pushed off the edges).
  for (DitherMethod method : kFullErrorDiffusion)
    for (int grey : {64, 128, 200}) {
      cv::Mat out;
      kernels::dither(flat(192, 160, grey), out, options(method, 2, true));
      EXPECT_NEAR(white_fraction(out), srgb_decode(grey / 255.0), 0.01)
          << static_cast<int>(method) << " grey " << grey;
    }
}

TEST(Dither, LevelsEmitOnlyTheLevelsAndKeepTheMean) {
  // 4 levels are 0, 85, 170, 255. A grey that is a level comes out unchanged (zero error); 100
  // mixes only its neighbours 85 and 170, keeping the mean within 1 %.
  cv::Mat exact = run_dither(flat(40, 30, 170), {{"levels", 4}});
  EXPECT_EQ(cv::countNonZero(exact != 170), 0);
  cv::Mat mixed = run_dither(flat(40, 30, 100), {{"levels", 4}});
  EXPECT_EQ(cv::countNonZero(mixed == 85) + cv::countNonZero(mixed == 170), 40 * 30);
  EXPECT_NEAR(cv::mean(mixed)[0], 100, 2.55);

  const cv::Mat photo = load(test::photo("chelsea.png")).pixels;
  for (int levels : {3, 6}) {
    std::set<int> allowed;
    for (int i = 0; i < levels; ++i) allowed.insert(static_cast<int>(std::lround(i * 255.0 / (levels - 1))));
    for (DitherMethod method : kAllMethods) {
      cv::Mat out;
      kernels::dither(photo, out, options(method, levels));
      ASSERT_EQ(out.type(), CV_8UC1);
      ASSERT_EQ(out.size(), photo.size());
      for (auto v : to_vector(out)) ASSERT_TRUE(allowed.count(v)) << v;
      // The grey the levels stand for is OpenCV's Rec. 601 luma; the dithered mean stays within
      // 1 % of it (Atkinson loses a quarter of its error, so it gets 3 %).
      cv::Mat luma;
      cv::cvtColor(photo, luma, cv::COLOR_RGB2GRAY);
      const double tolerance = method == DitherMethod::atkinson ? 7.65 : 2.55;
      EXPECT_NEAR(cv::mean(out)[0], cv::mean(luma)[0], tolerance) << static_cast<int>(method);
    }
  }
}

TEST(Dither, PaletteEmitsOnlyPaletteColours) {
  const std::string text = "#000,#fff,#e03020,#20a040,#2040c0,#f0d020";
  const std::vector<Colour> colours = parse_palette_list(text).colours;
  const cv::Mat photo = load(test::photo("chelsea.png")).pixels;
  for (const char* method :
       {"floyd_steinberg", "atkinson", "jarvis_judice_ninke", "sierra", "bayer2", "bayer4", "bayer8"})
    for (bool linear : {false, true}) {
      const cv::Mat out = run_dither(photo, {{"method", method}, {"palette", text}, {"linear", linear}});
      ASSERT_EQ(out.type(), CV_8UC3) << method;
      for (int y = 0; y < out.rows; ++y)
        for (int x = 0; x < out.cols; ++x) {
          const auto p = out.at<cv::Vec3b>(y, x);
          const Colour c{p[0], p[1], p[2], 255};
          ASSERT_NE(std::find(colours.begin(), colours.end(), c), colours.end())
              << method << " at " << x << "," << y << ": " << to_hex(c);
        }
    }
}

TEST(Dither, PaletteOfBlackAndWhiteDiffusesLikeLevels) {
  // Grey input in palette mode is R = G = B; with only black and white the choice is by
  // lightness, so a flat grey keeps its mean (within 1 %) in every channel.
  const cv::Mat out = run_dither(flat(64, 64, 90), {{"palette", "#000 #fff"}});
  ASSERT_EQ(out.type(), CV_8UC3);
  const cv::Scalar mean = cv::mean(out);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(mean[c], 90, 2.55);
  // A flat colour that is in the palette has no error to spread.
  const cv::Mat orange(16, 16, CV_8UC3, cv::Scalar(255, 136, 0));
  EXPECT_EQ(test::max_abs_diff(run_dither(orange, {{"palette", "#000,#f80,#fff"}}), orange), 0);
}

TEST(Dither, ParallelWavefrontIsBitIdenticalToSequential) {
  std::vector<cv::Mat> images = {
      test::make_image(1, 200, 1, CV_8U, 3),  test::make_image(200, 1, 3, CV_8U, 4),
      test::make_image(7, 5, 3, CV_8U, 5),    test::make_image(64, 48, 1, CV_8U, 6),
      test::make_image(301, 97, 3, CV_8U, 7), test::make_image(2, 300, 3, CV_8U, 8)};
  const cv::Mat photo = load(test::photo("chelsea.png")).pixels;
  images.push_back(photo);
  const std::vector<Colour> palette = parse_palette_list("#000,#fff,#c03030,#30c030,#3030c0,#808080").colours;
  for (const cv::Mat& image : images)
    for (DitherMethod method : kAllMethods)
      for (bool serpentine : {false, true})
        for (int target = 0; target < 3; ++target) {
          DitherOptions o;
          o.method = method;
          o.serpentine = serpentine;
          o.levels = target == 1 ? 5 : 2;
          if (target == 2) o.palette = palette;
          o.linear = target == 1;
          cv::Mat reference, parallel, many;
          kernels::dither_sequential(image, reference, o);
          kernels::dither(image, parallel, o);
          o.threads = 5;  // more rows in flight than there are cores
          kernels::dither(image, many, o);
          const auto what = ::testing::Message()
                            << image.cols << "x" << image.rows << " method " << static_cast<int>(method)
                            << " serpentine " << serpentine << " target " << target;
          ASSERT_TRUE(test::identical(reference, parallel)) << what;
          ASSERT_TRUE(test::identical(reference, many)) << what;
        }
}

TEST(Dither, AlphaIsCopied) {
  const cv::Mat logo = load(test::photo("logo.png")).pixels;
  ASSERT_EQ(logo.channels(), 4);
  std::vector<cv::Mat> in_planes;
  cv::split(logo, in_planes);
  const std::vector<std::pair<ParamList, int>> cases = {
      {{}, 2}, {{{"palette", "#000,#fff,#f00"}}, 4}, {{{"method", "bayer8"}, {"levels", 3}}, 2}};
  for (const auto& [params, channels] : cases) {
    const cv::Mat out = run_dither(logo, params);
    ASSERT_EQ(out.channels(), channels);
    std::vector<cv::Mat> out_planes;
    cv::split(out, out_planes);
    EXPECT_EQ(test::max_abs_diff(out_planes.back(), in_planes.back()), 0);
  }
  // Grey + alpha stays grey + alpha.
  const cv::Mat grey_alpha = test::make_image(50, 40, 2, CV_8U, 11);
  std::vector<cv::Mat> ga;
  cv::split(grey_alpha, ga);
  const cv::Mat out = run_dither(grey_alpha, {{"method", "sierra"}});
  ASSERT_EQ(out.type(), CV_8UC2);
  std::vector<cv::Mat> out_planes;
  cv::split(out, out_planes);
  EXPECT_EQ(test::max_abs_diff(out_planes[1], ga[1]), 0);
}

TEST(Dither, SixteenBitInputIsReducedToEightBitsFirst) {
  // An 8-bit image scaled by 257 is exactly representable in 16 bits and reduces back to itself,
  // so its dithering must equal the 8-bit image's, for every method, alpha included.
  const cv::Mat eight = test::make_image(90, 70, 4, CV_8U, 21);
  cv::Mat sixteen;
  eight.convertTo(sixteen, CV_16U, 257);
  for (const char* method : {"floyd_steinberg", "jarvis_judice_ninke", "bayer4"}) {
    for (const ParamList& target : {ParamList{{"levels", 2}}, ParamList{{"palette", "#000,#fff,#0af"}}}) {
      ParamList params = target;
      params.emplace_back("method", method);
      const cv::Mat a = run_dither(eight, params), b = run_dither(sixteen, params);
      ASSERT_EQ(b.depth(), CV_8U);
      EXPECT_TRUE(test::identical(a, b)) << method;
    }
  }
  // Alpha of a 16-bit image is rounded to 8 bits: round(a / 257).
  cv::Mat noisy = test::make_image(33, 21, 2, CV_16U, 22);
  const cv::Mat out = run_dither(noisy, {});
  ASSERT_EQ(out.type(), CV_8UC2);
  for (int y = 0; y < noisy.rows; ++y)
    for (int x = 0; x < noisy.cols; ++x) {
      const int a = noisy.at<cv::Vec2w>(y, x)[1];
      ASSERT_EQ(out.at<cv::Vec2b>(y, x)[1], (2 * a + 257) / 514) << a;
    }
  // A real 16-bit grey file.
  const cv::Mat chess = load(test::photo("chessboard_GRAY_U16.tif")).pixels;
  ASSERT_EQ(chess.depth(), CV_16U);
  const cv::Mat dithered = run_dither(chess, {{"method", "atkinson"}});
  ASSERT_EQ(dithered.type(), CV_8UC1);
  EXPECT_EQ(cv::countNonZero(dithered == 0) + cv::countNonZero(dithered == 255),
            static_cast<int>(chess.total()));
}

TEST(Dither, BadParametersFailWhenTheChainIsBuilt) {
  auto build = [](ParamList params) { return [params] { Chain().then("dither", params); }; };
  EXPECT_NE(test::config_error(build({{"palette", "#000,#zzz"}})).find("zzz"), std::string::npos);
  EXPECT_NE(test::config_error(build({{"palette", " , "}})), "");
  EXPECT_NE(test::config_error(build({{"palette", "#000,#fff"}, {"levels", 4}})).find("not both"),
            std::string::npos);
  EXPECT_NE(test::config_error(build({{"levels", 1}})), "");
  EXPECT_NE(test::config_error(build({{"levels", 257}})), "");
  EXPECT_NE(test::config_error(build({{"method", "stucki"}})), "");
}
