// enhanced_bw against references written here: weighted sums per pixel for the mixer, the
// smoothstep S-curve formula, OpenCV's CLAHE called directly, and statistics of the grain.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat bw(const cv::Mat& pixels, ParamList params, const Context& context = {}) {
  return Chain().then("enhanced_bw", params).run(Image(pixels), context).pixels;
}

// Everything but the mixer off, then the given settings.
ParamList plain(const std::string& filter, const ParamList& settings = {}) {
  ParamList out = {{"filter", filter}, {"clahe", 0.0}, {"curve", 0.0}, {"grain", 0.0}};
  for (const auto& setting : settings) {
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == setting.first; });
    if (it != out.end())
      it->second = setting.second;
    else
      out.push_back(setting);
  }
  return out;
}

// Weighted sum of R, G, B per pixel in double, rounded and clipped to the depth.
cv::Mat naive_mix(const cv::Mat& rgb, const std::array<double, 3>& w) {
  cv::Mat as_double;
  rgb.convertTo(as_double, CV_64F);
  cv::Mat out(rgb.size(), CV_64F);
  const int cn = rgb.channels();
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      const double* p = as_double.ptr<double>(y) + x * cn;
      out.at<double>(y, x) = w[0] * p[0] + w[1] * p[1] + w[2] * p[2];
    }
  cv::Mat rounded;
  out.convertTo(rounded, rgb.depth());
  return rounded;
}

double stddev(const cv::Mat& m) {
  cv::Scalar mean, sd;
  cv::meanStdDev(m, mean, sd);
  return sd[0];
}

// A photo's luma squeezed into [100, 140] (8-bit): a flat, low-contrast image.
cv::Mat low_contrast(int depth) {
  const cv::Mat photo = load(test::photo("fruits.jpg")).pixels;
  cv::Mat small, grey, squeezed;
  cv::resize(photo, small, cv::Size(256, 192), 0, 0, cv::INTER_AREA);
  cv::cvtColor(small, grey, cv::COLOR_RGB2GRAY);
  const double scale = depth == CV_16U ? 257.0 : 1.0;
  grey.convertTo(squeezed, depth, 40.0 / 255.0 * scale, 100.0 * scale);
  return squeezed;
}

}  // namespace

TEST(EnhancedBw, NeutralWithEverythingOffIsRec709Luma) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {3, 4}) {
      const cv::Mat in = test::make_image(48, 40, channels, depth, 11);
      const cv::Mat out = bw(in, plain("neutral"));
      ASSERT_EQ(out.type(), CV_MAKETYPE(depth, channels == 4 ? 2 : 1));
      cv::Mat grey;
      cv::extractChannel(out, grey, 0);
      // One level: the mixer sums in float, the reference in double; both round once.
      EXPECT_LE(test::max_abs_diff(grey, naive_mix(in, {0.2126, 0.7152, 0.0722})), 1.0)
          << channels << " channels, depth " << depth;
    }
  // Grey input is its own luminance.
  const cv::Mat grey = test::make_image(32, 24, 1, CV_16U, 4);
  EXPECT_TRUE(test::identical(bw(grey, plain("neutral")), grey));
}

TEST(EnhancedBw, EachFilterUsesItsDocumentedWeights) {
  struct Preset {
    const char* name;
    std::array<double, 3> w;
  };
  const Preset presets[] = {{"neutral", {0.2126, 0.7152, 0.0722}}, {"red", {0.70, 0.25, 0.05}},
                            {"orange", {0.55, 0.35, 0.10}},        {"yellow", {0.45, 0.45, 0.10}},
                            {"green", {0.10, 0.80, 0.10}},         {"blue", {0.10, 0.20, 0.70}}};
  // Pure primaries show each weight on its own: 255 * w, rounded.
  cv::Mat primaries(1, 3, CV_8UC3);
  primaries.at<cv::Vec3b>(0, 0) = {255, 0, 0};
  primaries.at<cv::Vec3b>(0, 1) = {0, 255, 0};
  primaries.at<cv::Vec3b>(0, 2) = {0, 0, 255};
  const cv::Mat photo = test::make_image(40, 30, 3, CV_8U, 21);
  for (const Preset& p : presets) {
    const cv::Mat out = bw(primaries, plain(p.name));
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(out.at<std::uint8_t>(0, c), std::round(255 * p.w[static_cast<std::size_t>(c)]), 1.0)
          << p.name << " channel " << c;
    // One level, as above.
    EXPECT_LE(test::max_abs_diff(bw(photo, plain(p.name)), naive_mix(photo, p.w)), 1.0) << p.name;
    // White stays white: the weights sum to 1.
    EXPECT_EQ(bw(cv::Mat(2, 2, CV_8UC3, cv::Scalar::all(255)), plain(p.name)).at<std::uint8_t>(0, 0), 255)
        << p.name;
  }
}

TEST(EnhancedBw, CustomMixIsCheckedAndApplied) {
  const cv::Mat in = test::make_image(40, 30, 3, CV_16U, 5);
  const ParamList custom = plain("custom", {{"mix_r", 0.5}, {"mix_g", 0.0}, {"mix_b", 0.5}});
  // One level, as above.
  EXPECT_LE(test::max_abs_diff(bw(in, custom), naive_mix(in, {0.5, 0.0, 0.5})), 1.0);

  EXPECT_NE(
      test::config_error([] {
        Chain().then("enhanced_bw", {{"filter", "custom"}, {"mix_r", 0.5}, {"mix_g", 0.3}, {"mix_b", 0.5}});
      }).find("must be 1"),
      std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("enhanced_bw", {{"filter", "custom"}, {"mix_r", 1.0}});
            }).find("needs all of"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("enhanced_bw", {{"mix_r", 1.0}});
            }).find("filter: custom"),
            std::string::npos);
}

TEST(EnhancedBw, ClaheOffKeepsTheLumaAndOnRaisesLocalContrast) {
  for (int depth : {CV_8U, CV_16U}) {
    const cv::Mat flat = low_contrast(depth);
    // Off: the grey input passes unchanged.
    EXPECT_TRUE(test::identical(bw(flat, plain("neutral")), flat));
    const ParamList on = plain("neutral", {{"clahe", 3.0}, {"tile", 4}});
    const cv::Mat out = bw(flat, on);
    ASSERT_EQ(out.depth(), depth);
    // Exactly OpenCV's CLAHE with the same grid and the clip limit; 16-bit histograms have
    // 256 times the bins of 8-bit ones, so the documented limit there is 256 times larger.
    cv::Mat reference;
    cv::createCLAHE(depth == CV_16U ? 3.0 * 256 : 3.0, cv::Size(4, 4))->apply(flat, reference);
    EXPECT_TRUE(test::identical(out, reference)) << "depth " << depth;
    EXPECT_GT(stddev(out), 1.5 * stddev(flat)) << "depth " << depth;
  }
}

TEST(EnhancedBw, CurveZeroIsIdentityAndPositiveIsAMonotonicSCurve) {
  cv::Mat ramp8(1, 256, CV_8U), ramp16(1, 65536, CV_16U);
  for (int v = 0; v < 256; ++v) ramp8.at<std::uint8_t>(0, v) = static_cast<std::uint8_t>(v);
  for (int v = 0; v < 65536; ++v) ramp16.at<std::uint16_t>(0, v) = static_cast<std::uint16_t>(v);
  for (const cv::Mat& ramp : {ramp8, ramp16}) {
    const double full = ramp.depth() == CV_16U ? 65535 : 255;
    EXPECT_TRUE(test::identical(bw(ramp, plain("neutral")), ramp));
    for (double s : {0.3, 1.0}) {
      const ParamList curved = plain("neutral", {{"curve", s}});
      cv::Mat out;
      bw(ramp, curved).convertTo(out, CV_64F);
      double previous = -1;
      for (int v = 0; v < ramp.cols; ++v) {
        const double x = v / full, expected = ((1 - s) * x + s * x * x * (3 - 2 * x)) * full;
        const double got = out.at<double>(0, v);
        ASSERT_NEAR(got, expected, 0.5 + 1e-9) << "value " << v << ", curve " << s;  // rounding only
        ASSERT_GE(got, previous) << "value " << v << ", curve " << s;
        previous = got;
        // Darker below mid-grey, lighter above it.
        if (x < 0.5) {
          ASSERT_LE(got, v) << v;
        }
        if (x > 0.5) {
          ASSERT_GE(got, v) << v;
        }
      }
      // The slope at mid-grey is 1 + s / 2: a quarter of full scale around the middle spreads.
      const int lo = static_cast<int>(0.375 * full), hi = static_cast<int>(0.625 * full);
      EXPECT_GT(out.at<double>(0, hi) - out.at<double>(0, lo), (hi - lo) * (1 + s / 4));
    }
  }
}

TEST(EnhancedBw, GrainIsSeededZeroMeanAndThreadIndependent) {
  for (int depth : {CV_8U, CV_16U}) {
    const double full = depth == CV_16U ? 65535 : 255;
    const cv::Mat grey(256, 256, CV_MAKETYPE(depth, 1), cv::Scalar(full / 2));
    const ParamList grain = plain("neutral", {{"grain", 0.5}, {"seed", 7}});
    const cv::Mat a = bw(grey, grain);
    Context one_thread;
    one_thread.threads = 1;
    EXPECT_TRUE(test::identical(a, bw(grey, grain, one_thread)));
    EXPECT_TRUE(test::identical(a, bw(grey, grain)));
    EXPECT_GT(test::mean_abs_diff(a, bw(grey, plain("neutral", {{"grain", 0.5}, {"seed", 8}}))), 0.01 * full);
    // 65536 samples of sigma 5 % of full scale: the mean moves by about sigma / 256, far
    // under one 8-bit level; the spread is sigma within a few per cent.
    EXPECT_NEAR(cv::mean(a)[0], cv::mean(grey)[0], full / 255);
    EXPECT_NEAR(stddev(a), 0.05 * full, 0.005 * full);
  }
}

TEST(EnhancedBw, AlphaIsKept) {
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {2, 4}) {
      const cv::Mat in = test::make_image(40, 30, channels, depth, 13);
      const cv::Mat out = bw(in, {{"clahe", 2.0}, {"curve", 0.5}, {"grain", 0.3}});
      ASSERT_EQ(out.type(), CV_MAKETYPE(depth, 2));
      cv::Mat a_in, a_out;
      cv::extractChannel(in, a_in, channels - 1);
      cv::extractChannel(out, a_out, 1);
      EXPECT_TRUE(test::identical(a_in, a_out)) << channels << " channels, depth " << depth;
    }
}

TEST(EnhancedBw, RealPhotoAtSixteenBits) {
  const cv::Mat photo = load(test::photo("autumn-2560x1600.jpg")).pixels;
  cv::Mat small, wide;
  cv::resize(photo, small, cv::Size(400, 250), 0, 0, cv::INTER_AREA);
  small.convertTo(wide, CV_16U, 257.0);
  const cv::Mat out = bw(wide, plain("red"));
  ASSERT_EQ(out.type(), CV_16UC1);
  // One 16-bit level, as above; the 8-bit result is the same picture scaled.
  EXPECT_LE(test::max_abs_diff(out, naive_mix(wide, {0.70, 0.25, 0.05})), 1.0);
  cv::Mat eight;
  out.convertTo(eight, CV_8U, 1.0 / 257.0);
  EXPECT_LE(test::max_abs_diff(eight, bw(small, plain("red"))), 1.0);
  // The full default treatment keeps the size and the depth.
  const cv::Mat full = bw(wide, {});
  EXPECT_EQ(full.size(), wide.size());
  EXPECT_EQ(full.type(), CV_16UC1);
}
