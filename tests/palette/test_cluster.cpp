// cluster(): colour science, recovery of known clusters, quality against exact k-means on
// every pixel, exact vs table assignment, masks, determinism across thread counts.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <random>

#include "ops/palette/lab.hpp"
#include "test_support.hpp"

using namespace imgpipe;

namespace {

// Float Lab of every pixel through OpenCV (an independent implementation), L* 0..100: one
// row of (L, a, b) per pixel.
cv::Mat opencv_lab_rows(const cv::Mat& rgb) {
  return test::opencv_lab(rgb).reshape(1, static_cast<int>(rgb.total()));
}

// Mean squared Lab distance of every pixel to the nearest of `centres` (OpenCV Lab).
double error_to_nearest(const cv::Mat& lab_rows, const cv::Mat& centres) {
  double total = 0;
  for (int i = 0; i < lab_rows.rows; ++i) {
    double best = 1e30;
    for (int c = 0; c < centres.rows; ++c) {
      double d = 0;
      for (int j = 0; j < 3; ++j) {
        const double diff = static_cast<double>(lab_rows.at<float>(i, j) - centres.at<float>(c, j));
        d += diff * diff;
      }
      best = std::min(best, d);
    }
    total += best;
  }
  return total / lab_rows.rows;
}

ClusterOptions options(int k, QualityPreset quality = QualityPreset::balanced, int threads = 0) {
  ClusterOptions o;
  o.k = k;
  o.quality = quality;
  o.threads = threads;
  return o;
}

// How many sampled pixels are assigned to a centre that is not their nearest (exact Lab),
// ignoring ties closer than `tie` Lab units.
int misassigned(const Image& image, const Clustering& c, int step, double tie, int* checked) {
  const std::vector<Lab>& centres = c.centres_lab();
  int wrong = 0;
  *checked = 0;
  for (int y = 0; y < image.height(); y += step)
    for (int x = 0; x < image.width(); x += step) {
      const auto* p = image.pixels.ptr<std::uint8_t>(y) + 3 * x;
      const Lab lab = srgb_to_lab({p[0], p[1], p[2], 255});
      std::size_t best = 0;
      for (std::size_t i = 1; i < centres.size(); ++i)
        if (lab_distance2(lab, centres[i]) < lab_distance2(lab, centres[best])) best = i;
      const std::size_t got = c.labels().at<std::uint8_t>(y, x);
      const double gap =
          std::sqrt(lab_distance2(lab, centres[got])) - std::sqrt(lab_distance2(lab, centres[best]));
      if (got != best && gap > tie) ++wrong;
      ++*checked;
    }
  return wrong;
}

Image rgb_photo(const std::string& name) {
  Image image = load(test::photo(name));
  if (image.channels() == 4) cv::cvtColor(image.pixels, image.pixels, cv::COLOR_RGBA2RGB);
  return image;
}

}  // namespace

TEST(LabColour, KnownValues) {
  // Reference values: CIE Lab (D65) of the sRGB primaries and white, from the CIE formulas.
  const Lab white = srgb_to_lab({255, 255, 255, 255});
  EXPECT_NEAR(white.L, 100.0, 1e-3);
  EXPECT_NEAR(white.a, 0.0, 1e-2);
  EXPECT_NEAR(white.b, 0.0, 1e-2);
  const Lab red = srgb_to_lab({255, 0, 0, 255});
  EXPECT_NEAR(red.L, 53.24, 0.02);
  EXPECT_NEAR(red.a, 80.09, 0.05);
  EXPECT_NEAR(red.b, 67.20, 0.05);
  const Lab blue = srgb_to_lab({0, 0, 255, 255});
  EXPECT_NEAR(blue.L, 32.30, 0.02);
  EXPECT_NEAR(blue.a, 79.19, 0.05);
  EXPECT_NEAR(blue.b, -107.86, 0.05);
  EXPECT_NEAR(srgb_to_lab({0, 0, 0, 255}).L, 0.0, 1e-9);
}

TEST(LabColour, RoundTripIsExactFor8BitColours) {
  for (int r = 0; r < 256; r += 5)
    for (int g = 0; g < 256; g += 5)
      for (int b = 0; b < 256; b += 5) {
        const Colour c{static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g),
                       static_cast<std::uint8_t>(b), 255};
        ASSERT_EQ(lab_to_srgb(srgb_to_lab(c)), c) << r << "," << g << "," << b;
      }
}

TEST(LabColour, FastConverterAgreesWithExactFormula) {
  const auto& fast = palette::LabConverter::instance();
  double worst = 0;
  for (int r = 0; r < 256; r += 3)
    for (int g = 0; g < 256; g += 3)
      for (int b = 0; b < 256; b += 3) {
        const auto f =
            fast(static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b));
        const Lab e = srgb_to_lab(
            {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b), 255});
        worst =
            std::max({worst, std::abs(static_cast<double>(f.L) - e.L),
                      std::abs(static_cast<double>(f.a) - e.a), std::abs(static_cast<double>(f.b) - e.b)});
      }
  EXPECT_LT(worst, 0.01);  // the documented bound is 0.002 plus float rounding
}

TEST(Cluster, RecoversKnownClusters) {
  // Four flat colours in known proportions, with +-3 levels of noise.
  const std::vector<Colour> truth = {
      {200, 30, 40, 255}, {20, 120, 60, 255}, {240, 230, 200, 255}, {30, 40, 150, 255}};
  const std::vector<double> share = {0.4, 0.3, 0.2, 0.1};
  cv::Mat px(200, 300, CV_8UC3);
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> noise(-3, 3);
  for (int y = 0; y < px.rows; ++y)
    for (int x = 0; x < px.cols; ++x) {
      const double t = static_cast<double>(x) / px.cols;
      const std::size_t c = t < 0.4 ? 0 : t < 0.7 ? 1 : t < 0.9 ? 2 : 3;
      auto* p = px.ptr<std::uint8_t>(y) + 3 * x;
      p[0] = cv::saturate_cast<std::uint8_t>(truth[c].r + noise(rng));
      p[1] = cv::saturate_cast<std::uint8_t>(truth[c].g + noise(rng));
      p[2] = cv::saturate_cast<std::uint8_t>(truth[c].b + noise(rng));
    }
  const Clustering c = cluster(Image(px), options(4));
  ASSERT_EQ(c.k(), 4);
  double fraction_sum = 0;
  for (std::size_t t = 0; t < truth.size(); ++t) {
    const Lab expected = srgb_to_lab(truth[t]);
    std::size_t best = 0;
    for (std::size_t i = 1; i < 4; ++i)
      if (lab_distance2(c.centres_lab()[i], expected) < lab_distance2(c.centres_lab()[best], expected))
        best = i;
    // Noise of +-3 levels averages out: the centre is within 1.5 Lab units of the truth.
    EXPECT_LT(std::sqrt(lab_distance2(c.centres_lab()[best], expected)), 1.5) << "cluster " << t;
    EXPECT_NEAR(c.fractions()[best], share[t], 0.01) << "cluster " << t;
    fraction_sum += c.fractions()[best];
  }
  EXPECT_NEAR(fraction_sum, 1.0, 1e-9);
  for (int i = 1; i < c.k(); ++i)
    EXPECT_LE(c.centres_lab()[i - 1].L, c.centres_lab()[i].L);  // lightness order
}

// The histogram clustering against exact k-means (cv::kmeans, k-means++, 3 attempts) on every
// pixel of real photos, both judged by the same independent error measure.
class ClusterQuality : public ::testing::TestWithParam<std::string> {};

TEST_P(ClusterQuality, WithinTwoPercentOfExactKMeans) {
  Image image = rgb_photo(GetParam());
  const cv::Mat lab = opencv_lab_rows(image.pixels);
  cv::Mat labels, reference;
  cv::setRNGSeed(12345);
  cv::kmeans(lab, 8, labels, cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 100, 0.01), 3,
             cv::KMEANS_PP_CENTERS, reference);
  const double exact = error_to_nearest(lab, reference);

  const Clustering c = cluster(image, options(8));
  cv::Mat ours(c.k(), 3, CV_32F);
  for (int i = 0; i < c.k(); ++i) {
    ours.at<float>(i, 0) = static_cast<float>(c.centres_lab()[static_cast<std::size_t>(i)].L);
    ours.at<float>(i, 1) = static_cast<float>(c.centres_lab()[static_cast<std::size_t>(i)].a);
    ours.at<float>(i, 2) = static_cast<float>(c.centres_lab()[static_cast<std::size_t>(i)].b);
  }
  const double mine = error_to_nearest(lab, ours);
  // 2 %: the benchmark holds the 1 % target on the 2048 px photo; small photos have fewer
  // pixels per histogram bin, so a little more slack here.
  EXPECT_LT(mine, exact * 1.02) << "imgpipe " << mine << " vs exact k-means " << exact;
  // The library's own error figure agrees with the independent one (it assigns through the
  // bin table, so it can only be slightly above the nearest-centre figure).
  EXPECT_NEAR(c.mean_lab_error(), mine, mine * 0.03);
}

INSTANTIATE_TEST_SUITE_P(Photos, ClusterQuality,
                         ::testing::Values("fruits.jpg", "chelsea.png", "baboon.jpg"));

TEST(Cluster, UltraAssignsEveryPixelToItsExactNearestCentre) {
  Image image = rgb_photo("coffee.png");
  const Clustering exact = cluster(image, options(10, QualityPreset::ultra));
  int checked = 0;
  // Exact Lab both sides: only float-precision ties may differ.
  EXPECT_EQ(misassigned(image, exact, 7, 1e-3, &checked), 0) << "of " << checked;
}

TEST(Cluster, TableAssignmentIsExactUpToLabRounding) {
  // Below ultra the colour → cluster table converts colours with the table-driven Lab; every
  // pixel must still get its nearest centre, but for ties closer than that conversion's error.
  Image image = rgb_photo("hubble_deep_field.jpg");
  const Clustering c = cluster(image, options(12, QualityPreset::fast));
  int checked = 0;
  EXPECT_EQ(misassigned(image, c, 3, 0.01, &checked), 0) << "of " << checked;
  // And the clustering at a fast preset stays close to the most careful one.
  const Clustering careful = cluster(image, options(12, QualityPreset::ultra));
  EXPECT_LT(c.mean_lab_error(), careful.mean_lab_error() * 1.05);
}

TEST(Cluster, MaskedPixelsAreLeftOut) {
  // Left half transparent pure red, right half opaque greens.
  cv::Mat px(64, 128, CV_8UC4);
  for (int y = 0; y < px.rows; ++y)
    for (int x = 0; x < px.cols; ++x) {
      auto* p = px.ptr<std::uint8_t>(y) + 4 * x;
      if (x < 64)
        p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 0;
      else
        p[0] = 10, p[1] = static_cast<std::uint8_t>(100 + y), p[2] = 20, p[3] = 255;
    }
  const Clustering c = cluster(Image(px), options(3));
  for (const auto& centre : c.centres_rgb()) EXPECT_LT(centre.r, 60) << "red leaked into a centre";
  for (int y = 0; y < px.rows; ++y) {
    EXPECT_EQ(c.labels().at<std::uint8_t>(y, 10), 255);
    EXPECT_LT(c.labels().at<std::uint8_t>(y, 100), 3);
  }
  // An explicit mask wins over alpha: leave out the right half instead.
  cv::Mat mask(px.size(), CV_8UC1, cv::Scalar(255));
  mask(cv::Rect(64, 0, 64, 64)).setTo(0);
  ClusterOptions masked = options(2);
  masked.mask = mask;
  const Clustering m = cluster(Image(px), masked);
  EXPECT_EQ(m.labels().at<std::uint8_t>(0, 100), 255);
  // Only one colour is left, so there is one cluster however many were asked for.
  ASSERT_EQ(m.k(), 1);
  EXPECT_EQ(m.centres_rgb()[0], (Colour{255, 0, 0, 255}));
}

TEST(Cluster, SameResultForAnyThreadCount) {
  Image image = rgb_photo("motorcycle_left.png");
  const Clustering one = cluster(image, options(10, QualityPreset::balanced, 1));
  const Clustering two = cluster(image, options(10, QualityPreset::balanced, 2));
  ASSERT_EQ(one.k(), two.k());
  for (int i = 0; i < one.k(); ++i) {
    EXPECT_EQ(one.centres_lab()[static_cast<std::size_t>(i)].L,
              two.centres_lab()[static_cast<std::size_t>(i)].L);
    EXPECT_EQ(one.centres_lab()[static_cast<std::size_t>(i)].a,
              two.centres_lab()[static_cast<std::size_t>(i)].a);
  }
  EXPECT_TRUE(test::identical(one.labels(), two.labels()));
  EXPECT_EQ(one.mean_lab_error(), two.mean_lab_error());
}

TEST(Cluster, AutomaticKIsChosenFromTheData) {
  // Three well separated flat colours: the elbow is at 3.
  cv::Mat px(60, 90, CV_8UC3);
  px(cv::Rect(0, 0, 30, 60)).setTo(cv::Scalar(250, 10, 10));
  px(cv::Rect(30, 0, 30, 60)).setTo(cv::Scalar(10, 250, 10));
  px(cv::Rect(60, 0, 30, 60)).setTo(cv::Scalar(10, 10, 250));
  const Clustering c = cluster(Image(px), options(0));
  EXPECT_EQ(c.k(), 3);
  const Clustering photo = cluster(rgb_photo("fruits.jpg"), options(0));
  EXPECT_GE(photo.k(), 2);
  EXPECT_LE(photo.k(), 16);
}

TEST(Cluster, StrategyFollowsImageSize) {
  const auto direct = cluster(Image(test::make_image(300, 200, 3)), options(4));
  EXPECT_EQ(direct.strategy(), "direct");
  EXPECT_EQ(direct.analysis_stride(), 1);
  const auto scaled = cluster(Image(test::make_image(1200, 300, 3)), options(4));
  EXPECT_EQ(scaled.strategy(), "scaled");
  EXPECT_EQ(scaled.analysis_stride(), 2);
  const auto pyramid = cluster(Image(test::make_image(2400, 100, 3)), options(4));
  EXPECT_EQ(pyramid.strategy(), "pyramid");
  EXPECT_EQ(pyramid.analysis_stride(), 2);
  const auto big = cluster(Image(test::make_image(4000, 3000, 3)), options(4));
  EXPECT_EQ(big.analysis_stride(), 3);  // sqrt(12e6 / 1e6): about a million samples
  EXPECT_EQ(
      cluster(Image(test::make_image(2400, 100, 3)), options(4, QualityPreset::ultra)).analysis_stride(), 1);
  ClusterOptions given = options(4);
  given.analysis_stride = 5;
  EXPECT_EQ(cluster(Image(test::make_image(300, 200, 3)), given).analysis_stride(), 5);
  // The thresholds are the planner's (PlanThresholds), as a chain file may set them.
  ClusterOptions planned = options(4);
  planned.plan = {1500, 3000};
  const auto below = cluster(Image(test::make_image(1200, 300, 3)), planned);
  EXPECT_EQ(below.strategy(), "direct");
  EXPECT_EQ(below.analysis_stride(), 1);
  EXPECT_EQ(cluster(Image(test::make_image(2400, 100, 3)), planned).strategy(), "scaled");
}

TEST(Cluster, AcceptsGreyAnd16BitAndRefusesBadK) {
  const Clustering grey = cluster(Image(test::make_image(80, 60, 1)), options(3));
  for (const auto& c : grey.centres_rgb()) {
    EXPECT_NEAR(c.r, c.g, 1);
    EXPECT_NEAR(c.g, c.b, 1);
  }
  const Clustering deep = cluster(Image(test::make_image(80, 60, 3, CV_16U)), options(3));
  EXPECT_EQ(deep.k(), 3);
  EXPECT_THROW(cluster(Image(test::make_image(8, 8, 3)), options(300)), Error);
  cv::Mat transparent(8, 8, CV_8UC4, cv::Scalar(1, 2, 3, 0));
  EXPECT_THROW(cluster(Image(transparent), options(2)), Error);  // nothing left to cluster
}
