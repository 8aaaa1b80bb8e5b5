// The complexity rules (lib/ops/analysis/complexity.hpp, docs/quality.md): one test per rule,
// each checking the decision an analysis step reports (Context::analyses) against the rule's
// formula written out here, on a flat image, a busy one and real photos; that the rules leave
// a step alone when the chain sets its strategy or analysis size; and the measure they use
// against the complexity operation run on the same thumbnail and on an area-averaged one.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/chain.hpp>
#include <imgpipe/io.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "ops/analysis/complexity.hpp"
#include "test_support.hpp"

using namespace imgpipe;

namespace {

// Two colours and a soft-edged disc: little to see (complexity well under 0.3).
cv::Mat flat_scene(cv::Size size) {
  cv::Mat image(size, CV_8UC3, cv::Scalar(235, 232, 228));
  cv::circle(image, {size.width / 2, size.height / 2}, std::min(size.width, size.height) / 3,
             cv::Scalar(180, 40, 30), cv::FILLED, cv::LINE_AA);
  return image;
}

// Seeded uniform noise in blocks of 1/128 of the long side (two pixels of the 256-pixel
// thumbnail the rules measure), enlarged without interpolation: busy at any size (noise of
// single pixels would average out to grey in the thumbnail).
cv::Mat busy_scene(cv::Size size) {
  const int block = std::max(1, std::max(size.width, size.height) / 128);
  cv::Mat small((size.height + block - 1) / block, (size.width + block - 1) / block, CV_8UC3), image;
  cv::RNG rng(7);
  rng.fill(small, cv::RNG::UNIFORM, 0, 256);
  cv::resize(small, image, {small.cols * block, small.rows * block}, 0, 0, cv::INTER_NEAREST);
  return image(cv::Rect({0, 0}, size)).clone();
}

// A real photo enlarged (cubic) or shrunk (area) to the given long side.
cv::Mat photo_at(const std::string& name, int long_side) {
  const cv::Mat pixels = load(test::photo(name)).pixels;
  const double s = static_cast<double>(long_side) / std::max(pixels.cols, pixels.rows);
  cv::Mat out;
  cv::resize(pixels, out, {}, s, s, s < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// The one analysis report of a one-step chain run on `pixels`.
AnalysisReport report_of(const cv::Mat& pixels, const std::string& op, const ParamList& params,
                         QualityPreset quality = QualityPreset::balanced) {
  std::vector<AnalysisReport> analyses;
  Context context;
  context.quality = quality;
  context.analyses = &analyses;
  Chain().then(op, params).run(Image(pixels), context);
  EXPECT_EQ(analyses.size(), 1u);
  return analyses.empty() ? AnalysisReport{} : analyses.front();
}

double value(const AnalysisReport& report, const std::string& name) {
  const auto v = report.value(name);
  EXPECT_TRUE(v) << report.describe() << " has no " << name;
  return v.value_or(-1);
}

int long_side(const AnalysisReport& r) {
  return std::max(r.analysed_width, r.analysed_height);
}

const ParamList kBackground = {{"output", "rgba"}};

}  // namespace

// The rules' measure is the complexity step's on a 256-pixel thumbnail, and sampling every
// s-th pixel before the area shrink (to keep it cheap on large photos) measures what area
// averaging of every pixel measures, within 0.05 on real photos.
TEST(ComplexityRules, TheMeasureIsTheComplexityStepOnA256PixelThumbnail) {
  const auto measured = [](const cv::Mat& thumbnail) {
    return Chain()
        .then("complexity", {{"strategy", "direct"}})
        .run(Image(thumbnail), Context{})
        .measures.at("complexity");
  };
  for (const std::string name : {"fruits.jpg", "building.jpg", "hubble_deep_field.jpg", "starry_night.jpg",
                                 "shell-5120x2880.jpg", "autumn-2560x1600.jpg"}) {
    for (const int side : {1200, 3000}) {
      const cv::Mat pixels = photo_at(name, side);
      const cv::Mat thumbnail = ops::complexity_thumbnail(pixels);
      EXPECT_EQ(std::max(thumbnail.cols, thumbnail.rows), 256) << name;
      EXPECT_DOUBLE_EQ(ops::complexity(pixels), measured(thumbnail)) << name;
      const double s = 256.0 / std::max(pixels.cols, pixels.rows);
      cv::Mat area;
      cv::resize(pixels, area, thumbnail.size(), s, s, cv::INTER_AREA);
      EXPECT_NEAR(ops::complexity(pixels), measured(area), 0.05) << name << " at " << side;
    }
  }
  const cv::Mat small = photo_at("baboon.jpg", 200);
  EXPECT_TRUE(test::identical(ops::complexity_thumbnail(small), small));
  EXPECT_LT(ops::complexity(flat_scene({1600, 1000})), 0.2);
  EXPECT_GT(ops::complexity(busy_scene({900, 1400})), 0.8);
}

// R1: k: auto searches k = 2 .. clamp(round(4 + 12 c), 4, 16).
TEST(ComplexityRules, R1AutoKSearchesUpToFourPlusTwelveTimesComplexity) {
  int flat_max = 0, busy_max = 0;
  for (const auto& [pixels, is_flat] :
       std::vector<std::pair<cv::Mat, bool>>{{flat_scene({600, 400}), true},
                                             {busy_scene({500, 500}), false},
                                             {photo_at("fruits.jpg", 700), false},
                                             {photo_at("building.jpg", 700), false},
                                             {photo_at("chelsea.png", 700), false}}) {
    const AnalysisReport r = report_of(pixels, "palette", {{"palettes", "centers"}, {"k", "auto"}});
    const double c = value(r, "complexity");
    EXPECT_DOUBLE_EQ(c, ops::complexity(pixels));
    const int k_max = std::clamp(static_cast<int>(std::lround(4 + 12 * c)), 4, 16);
    EXPECT_EQ(value(r, "k_max"), k_max) << r.describe();
    EXPECT_GE(value(r, "k"), 2) << r.describe();
    EXPECT_LE(value(r, "k"), k_max) << r.describe();
    (is_flat ? flat_max : busy_max) = std::max(is_flat ? flat_max : busy_max, k_max);
  }
  EXPECT_LE(flat_max, 6);
  EXPECT_EQ(busy_max, 16);
  // `auto` is 0, and a given k is neither measured nor capped.
  const cv::Mat photo = photo_at("fruits.jpg", 500);
  const Image a =
      Chain().then("palette", {{"palettes", "centers"}, {"k", "auto"}}).run(Image(photo), Context{});
  const Image zero =
      Chain().then("palette", {{"palettes", "centers"}, {"k", 0}}).run(Image(photo), Context{});
  EXPECT_TRUE(test::identical(a.pixels, zero.pixels));
  const AnalysisReport given = report_of(photo, "palette", {{"palettes", "centers"}, {"k", 12}});
  EXPECT_EQ(value(given, "k"), 12);
  EXPECT_FALSE(given.value("k_max"));
  EXPECT_FALSE(given.value("complexity"));
}

// R2: the analysis side is the preset's times 0.75 (c < 0.3), 1 or 1.5 (c > 0.6).
TEST(ComplexityRules, R2AnalysisSideFollowsComplexity) {
  struct Case {
    cv::Mat pixels;
    QualityPreset quality;
    int preset_side;
  };
  const std::vector<Case> cases = {
      {flat_scene({1600, 1000}), QualityPreset::balanced, 512},
      {busy_scene({1000, 1600}), QualityPreset::balanced, 512},
      {flat_scene({1900, 1200}), QualityPreset::fast, 384},
      {busy_scene({1900, 1200}), QualityPreset::fast, 384},
      {photo_at("fruits.jpg", 1600), QualityPreset::balanced, 512},
      {photo_at("building.jpg", 1600), QualityPreset::balanced, 512},
      {photo_at("chelsea.png", 1500), QualityPreset::balanced, 512},
      {photo_at("rocket.jpg", 1800), QualityPreset::balanced, 512},
  };
  bool shrank = false, grew = false;
  for (const Case& c : cases) {
    const AnalysisReport r = report_of(c.pixels, "remove_background", kBackground, c.quality);
    const double complexity = value(r, "complexity");
    EXPECT_DOUBLE_EQ(complexity, ops::complexity(c.pixels));
    const double factor = complexity < 0.3 ? 0.75 : complexity > 0.6 ? 1.5 : 1.0;
    const int side = static_cast<int>(std::lround(c.preset_side * factor));
    EXPECT_EQ(r.strategy, "scaled") << r.describe();
    EXPECT_NEAR(long_side(r), side, 1) << r.describe();
    EXPECT_EQ(value(r, "analysis_side"), long_side(r)) << r.describe();
    shrank = shrank || factor < 1;
    grew = grew || factor > 1;
  }
  EXPECT_TRUE(shrank && grew) << "the cases must reach both ends of the rule";
}

// R3: a chain's palette samples the full image on a grid whose step is the image's long side
// over R2's analysis side; R4 makes a flat image's pyramid scaled.
TEST(ComplexityRules, R3PaletteSamplingDensityFollowsComplexity) {
  std::vector<int> strides;
  for (const cv::Mat& pixels :
       {flat_scene({3000, 2000}), busy_scene({3000, 2000}), photo_at("fruits.jpg", 2600),
        photo_at("building.jpg", 2400), photo_at("hubble_deep_field.jpg", 1800)}) {
    const AnalysisReport r = report_of(pixels, "palette", {{"palettes", "centers"}, {"k", 6}});
    const double c = value(r, "complexity");
    EXPECT_DOUBLE_EQ(c, ops::complexity(pixels));
    const int image_side = std::max(pixels.cols, pixels.rows);
    const double factor = c < 0.3 ? 0.75 : c > 0.6 ? 1.5 : 1.0;
    const int side = static_cast<int>(std::lround(512 * factor));
    EXPECT_EQ(value(r, "analysis_side"), side) << r.describe();
    EXPECT_EQ(value(r, "stride"), image_side / side) << r.describe();
    EXPECT_EQ(r.strategy, image_side <= 2000 ? "scaled" : c < 0.25 ? "scaled" : "pyramid") << r.describe();
    strides.push_back(static_cast<int>(value(r, "stride")));
  }
  EXPECT_GT(strides[0], strides[1]) << "a flat image is sampled more sparsely than a busy one";
  // Direct (below 800 px) and at ultra: every pixel, nothing measured for a given k.
  EXPECT_FALSE(
      report_of(flat_scene({700, 500}), "palette", {{"palettes", "centers"}, {"k", 6}}).value("complexity"));
  const AnalysisReport ultra = report_of(flat_scene({3000, 2000}), "palette",
                                         {{"palettes", "centers"}, {"k", 6}}, QualityPreset::ultra);
  EXPECT_FALSE(ultra.value("complexity"));
  EXPECT_EQ(value(ultra, "stride"), 1);
}

// R4: a flat image the planner would run as pyramid runs scaled.
TEST(ComplexityRules, R4FlatImagesSkipThePyramidPass) {
  for (const cv::Mat& pixels : {flat_scene({2400, 1600}), busy_scene({2400, 1600}),
                                photo_at("fruits.jpg", 2400), photo_at("rocket.jpg", 2200)}) {
    const AnalysisReport r = report_of(pixels, "remove_background", kBackground);
    const double c = value(r, "complexity");
    EXPECT_EQ(r.strategy, c < 0.25 ? "scaled" : "pyramid") << r.describe();
  }
  EXPECT_EQ(report_of(flat_scene({2400, 1600}), "remove_background", kBackground).strategy, "scaled");
  EXPECT_EQ(report_of(busy_scene({2400, 1600}), "remove_background", kBackground).strategy, "pyramid");
}

// The chain's own choices win: a given strategy or analysis size turns R2 and R4 off.
TEST(ComplexityRules, AGivenStrategyOrAnalysisSizeIsKept) {
  const cv::Mat flat = flat_scene({2400, 1600});
  const AnalysisReport forced = report_of(flat, "remove_background", {{"strategy", "pyramid"}});
  EXPECT_EQ(forced.strategy, "pyramid");
  EXPECT_EQ(long_side(forced), 512);
  EXPECT_FALSE(forced.value("complexity"));
  const AnalysisReport sized =
      report_of(busy_scene({1600, 1000}), "remove_background", {{"analysis_size", 400}});
  EXPECT_EQ(long_side(sized), 400);
  EXPECT_FALSE(sized.value("complexity"));
  // The complexity step does not follow the rules: its resolution defines its value.
  EXPECT_EQ(long_side(report_of(busy_scene({1600, 1000}), "complexity", {})), 512);
}
