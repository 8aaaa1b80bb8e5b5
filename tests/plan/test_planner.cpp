// The resolution-aware planner: its decisions at the thresholds for every preset, portrait and
// landscape, forced strategies and steps that are not analyses; the thresholds from chain files
// and variables; and what each strategy gives — palette scaled against direct in CIE Lab (with
// OpenCV's own Lab conversion as the reference), remove_background masks against direct and
// against a known outline, the complexity measure's order and range, the strategy list and the
// profile's labels.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/kernels/remove_background.hpp>
#include <map>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "plan/planner.hpp"
#include "test_support.hpp"

using namespace imgpipe;

namespace {

Step step_of(const std::string& op, const ParamList& params = {}) {
  return Chain().then(op, params).steps().front();
}

// `long_side` x `short_side`, or the other way round for portrait.
cv::Size sized(int long_side, int short_side, bool portrait) {
  return portrait ? cv::Size(short_side, long_side) : cv::Size(long_side, short_side);
}

const std::vector<std::string> kAnalysisOps = {"palette", "remove_background", "complexity"};

ParamList params_for(const std::string& op, const ParamList& extra = {}) {
  ParamList params = op == "palette" ? ParamList{{"colors", "#000,#fff"}} : ParamList{};
  params.insert(params.end(), extra.begin(), extra.end());
  return params;
}

struct Expected {
  int long_side;
  Strategy strategy;
};

double iou(const cv::Mat& a, const cv::Mat& b) {
  const cv::Mat x = a >= 128, y = b >= 128;
  return static_cast<double>(cv::countNonZero(x & y)) / std::max(1, cv::countNonZero(x | y));
}

cv::Mat alpha_of(const Image& image) {
  cv::Mat alpha;
  cv::extractChannel(image.pixels, alpha, image.channels() - 1);
  return alpha;
}

cv::Mat lab_of(const cv::Mat& rgb8) {
  cv::Mat f, lab;
  rgb8.convertTo(f, CV_32F, 1.0 / 255.0);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

double mean_delta_e(const cv::Mat& lab_a, const cv::Mat& lab_b) {
  double sum = 0;
  for (int y = 0; y < lab_a.rows; ++y)
    for (int x = 0; x < lab_a.cols; ++x)
      sum += cv::norm(lab_a.at<cv::Vec3f>(y, x) - lab_b.at<cv::Vec3f>(y, x));
  return sum / static_cast<double>(lab_a.total());
}

Image resized(const Image& image, int long_side) {
  const double scale = static_cast<double>(long_side) / std::max(image.width(), image.height());
  cv::Mat out;
  cv::resize(image.pixels, out, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return image.with_pixels(out);
}

// A noisy two-colour gradient with a striped orange ellipse of known outline (255 inside).
cv::Mat scene(int width, int height, cv::Mat& object) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 3);
  object = cv::Mat::zeros(height, width, CV_8U);
  cv::ellipse(object, cv::Point(width / 2, height * 55 / 100), cv::Size(width / 5, height / 4), 15, 0, 360,
              cv::Scalar(255), cv::FILLED);
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      double r = 60 + 60 * fx, g = 110 + 40 * fy, b = 170 - 30 * fx;
      if (object.at<std::uint8_t>(y, x)) {
        const double stripe = 20 * std::sin(x * 0.2);
        r = 225 + stripe * 0.5, g = 120 + stripe, b = 40;
      }
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<std::uint8_t>(r + noise(rng)),
                                          cv::saturate_cast<std::uint8_t>(g + noise(rng)),
                                          cv::saturate_cast<std::uint8_t>(b + noise(rng)));
    }
  return rgb;
}

double complexity_of(const cv::Mat& pixels, const ParamList& params = {{"strategy", "direct"}}) {
  const Image out = Chain().then("complexity", params).run(Image(pixels), Context{});
  EXPECT_TRUE(test::identical(out.pixels, pixels)) << "complexity must not change pixels";
  return out.measures.at("complexity");
}

}  // namespace

TEST(Planner, DecisionsAtTheThresholds) {
  // Defaults: direct below 800 px, scaled from 800 to 2000, pyramid above 2000; and never a
  // reduced copy that would not be smaller than the image (high analyses at 1024 px).
  const PlanThresholds thresholds;
  const std::map<QualityPreset, std::vector<Expected>> table = {
      {QualityPreset::draft,
       {{100, Strategy::direct},
        {799, Strategy::direct},
        {800, Strategy::scaled},
        {2000, Strategy::scaled},
        {2001, Strategy::pyramid},
        {9000, Strategy::pyramid}}},
      {QualityPreset::fast,
       {{799, Strategy::direct},
        {800, Strategy::scaled},
        {2000, Strategy::scaled},
        {2001, Strategy::pyramid}}},
      {QualityPreset::balanced,
       {{799, Strategy::direct},
        {800, Strategy::scaled},
        {2000, Strategy::scaled},
        {2001, Strategy::pyramid}}},
      {QualityPreset::high,
       {{799, Strategy::direct},
        {800, Strategy::direct},
        {1024, Strategy::direct},
        {1025, Strategy::scaled},
        {2000, Strategy::scaled},
        {2001, Strategy::pyramid}}},
      {QualityPreset::ultra,
       {{799, Strategy::direct},
        {800, Strategy::direct},
        {2000, Strategy::direct},
        {2001, Strategy::direct},
        {9000, Strategy::direct}}},
  };
  for (const auto& op : kAnalysisOps) {
    const Step step = step_of(op, params_for(op));
    ASSERT_TRUE(plan::is_analysis_step(step)) << op;
    for (const auto& [preset, cases] : table)
      for (const auto& c : cases)
        for (const bool portrait : {false, true})
          for (const int short_side : {1, c.long_side * 2 / 3, c.long_side}) {
            const cv::Size size = sized(c.long_side, short_side, portrait);
            EXPECT_EQ(plan::choose_strategy(step, size, preset, thresholds), c.strategy)
                << op << " " << size << " " << to_string(preset);
          }
  }
}

TEST(Planner, ConfiguredThresholds) {
  const Step step = step_of("complexity");
  const PlanThresholds narrow{1000, 1500};
  for (const auto& [side, expected] : std::vector<std::pair<int, Strategy>>{{999, Strategy::direct},
                                                                            {1000, Strategy::scaled},
                                                                            {1500, Strategy::scaled},
                                                                            {1501, Strategy::pyramid}})
    EXPECT_EQ(plan::choose_strategy(step, {side, 10}, QualityPreset::balanced, narrow), expected) << side;
  // Overlapping thresholds: direct wins where both apply.
  const PlanThresholds overlapping{3000, 1000};
  EXPECT_EQ(plan::choose_strategy(step, {2000, 10}, QualityPreset::balanced, overlapping), Strategy::direct);
  EXPECT_EQ(plan::choose_strategy(step, {3000, 10}, QualityPreset::balanced, overlapping), Strategy::pyramid);
  // 0 turns a threshold off: always reduced / always pyramid past the analysis size.
  EXPECT_EQ(plan::choose_strategy(step, {600, 10}, QualityPreset::balanced, {0, 2000}), Strategy::scaled);
  EXPECT_EQ(plan::choose_strategy(step, {900, 10}, QualityPreset::balanced, {800, 0}), Strategy::pyramid);
}

TEST(Planner, ForcedStrategyWins) {
  for (const auto& op : kAnalysisOps)
    for (const Strategy forced : {Strategy::direct, Strategy::scaled, Strategy::pyramid}) {
      const Step step = step_of(op, params_for(op, {{"strategy", std::string(to_string(forced))}}));
      for (const int side : {100, 799, 800, 2000, 2001, 9000})
        for (const QualityPreset preset :
             {QualityPreset::draft, QualityPreset::balanced, QualityPreset::ultra})
          EXPECT_EQ(plan::choose_strategy(step, {side, side / 2}, preset, PlanThresholds{}), forced)
              << op << " " << side << " " << to_string(forced);
    }
  // A forced reduction of an image no larger than the analysis size analyses it as it is.
  const Step scaled = step_of("complexity", {{"strategy", "scaled"}});
  EXPECT_EQ(plan::plan_step(scaled, {300, 200}, QualityPreset::balanced, {}).analysis_size,
            cv::Size(300, 200));
}

TEST(Planner, StepsThatAreNotAnalysesRunDirect) {
  // Point, neighbourhood and geometry steps, and whole-image steps without an analysis.
  const std::vector<std::pair<std::string, ParamList>> steps = {
      {"adjust_colors", {{"brightness", 1.2}}},
      {"grayscale", {}},
      {"gaussian_blur", {}},
      {"sharpen", {}},
      {"resize", {{"width", 100}}},
      {"rotate", {{"angle", 10}}},
      {"pop_art", {}},
      {"dither", {}},
      {"vectorize", {}},
  };
  for (const auto& [op, params] : steps) {
    const Step step = step_of(op, params);
    EXPECT_FALSE(plan::is_analysis_step(step)) << op;
    for (const int side : {799, 800, 2001, 9000})
      EXPECT_EQ(plan::choose_strategy(step, {side, side}, QualityPreset::draft, PlanThresholds{}),
                Strategy::direct)
          << op << " " << side;
  }
}

TEST(Planner, AnalysisSizes) {
  const Step step = step_of("complexity");
  // Long side by preset, aspect kept, sides rounded.
  EXPECT_EQ(plan::analysis_size(step, {1024, 683}, Strategy::scaled, QualityPreset::balanced),
            cv::Size(512, 342));
  EXPECT_EQ(plan::analysis_size(step, {683, 1024}, Strategy::scaled, QualityPreset::balanced),
            cv::Size(342, 512));
  EXPECT_EQ(plan::analysis_size(step, {4000, 3000}, Strategy::pyramid, QualityPreset::draft),
            cv::Size(256, 192));
  EXPECT_EQ(plan::analysis_size(step, {4000, 3000}, Strategy::scaled, QualityPreset::fast),
            cv::Size(384, 288));
  EXPECT_EQ(plan::analysis_size(step, {4000, 3000}, Strategy::scaled, QualityPreset::high),
            cv::Size(1024, 768));
  EXPECT_EQ(plan::analysis_size(step, {20000, 10}, Strategy::scaled, QualityPreset::balanced),
            cv::Size(512, 1));
  EXPECT_EQ(plan::analysis_size(step, {4000, 3000}, Strategy::direct, QualityPreset::balanced),
            cv::Size(4000, 3000));
  // The step's own analysis_size wins over the preset's.
  const Step sized_step = step_of("remove_background", {{"analysis_size", 300}});
  EXPECT_EQ(plan::analysis_size(sized_step, {3000, 2000}, Strategy::scaled, QualityPreset::draft),
            cv::Size(300, 200));
  // And decides when a reduction is worth it: a 900 px image is not reduced to 1000 px.
  const Step large = step_of("complexity", {{"analysis_size", 1000}});
  EXPECT_EQ(plan::choose_strategy(large, {900, 600}, QualityPreset::balanced, {}), Strategy::direct);
  EXPECT_EQ(plan::choose_strategy(large, {1001, 600}, QualityPreset::balanced, {}), Strategy::scaled);

  const AnalysisPlan p = plan::plan_step(step, {1024, 683}, QualityPreset::balanced, {});
  EXPECT_EQ(p.strategy, Strategy::scaled);
  EXPECT_EQ(p.full_size, cv::Size(1024, 683));
  EXPECT_EQ(plan::describe(p), "scaled 512x342");
  EXPECT_EQ(plan::describe(plan::plan_step(step, {640, 480}, QualityPreset::balanced, {})), "direct");
}

TEST(Planner, ParametersAreChecked) {
  EXPECT_NE(test::config_error([] {
              Chain().then("complexity", {{"strategy", "sideways"}});
            }).find("strategy"),
            std::string::npos);
  const std::string small = test::config_error([] {
    Chain().then("remove_background", {{"analysis_size", 10}});
  });
  EXPECT_NE(
      small.find("remove_background.analysis_size: expected 0 (from the quality preset) or 64..8192, got 10"),
      std::string::npos)
      << small;
  test::config_error([] { Chain().then("palette", {{"colors", "#000"}, {"analysis_size", 9000}}); });
  test::config_error([] { Chain().then("resize", {{"width", 10}, {"strategy", "direct"}}); });
}

TEST(Planner, ThresholdsFromChainFilesAndVariables) {
  const ChainFile defaults = parse_chain("chain: [complexity]");
  EXPECT_EQ(defaults.context.plan.direct_below, 800);
  EXPECT_EQ(defaults.context.plan.pyramid_above, 2000);

  ChainFile file = parse_chain(
      "performance: {analysis_direct_below: 640, analysis_pyramid_above: 4000}\n"
      "chain:\n  - palette: {colors: \"#000,#fff\", strategy: pyramid}\n",
      "plan.yaml");
  EXPECT_EQ(file.context.plan.direct_below, 640);
  EXPECT_EQ(file.context.plan.pyramid_above, 4000);
  EXPECT_EQ(plan::choose_strategy(file.chain.steps().front(), {300, 200}, QualityPreset::balanced,
                                  file.context.plan),
            Strategy::pyramid);

  const std::map<std::string, std::string> env = {{"IMGPIPE_ANALYSIS_DIRECT_BELOW", "1200"},
                                                  {"IMGPIPE_ANALYSIS_PYRAMID_ABOVE", "3000"}};
  apply_environment(file, [&](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  EXPECT_EQ(file.context.plan.direct_below, 1200);
  EXPECT_EQ(file.context.plan.pyramid_above, 3000);

  const std::string error = test::config_error(
      [] { parse_chain("performance:\n  analysis_direct_below: -5\nchain: [complexity]\n", "bad.yaml"); });
  EXPECT_NE(error.find("bad.yaml:2:26: performance.analysis_direct_below: expected integer"),
            std::string::npos)
      << error;
  const std::string step_error =
      test::config_error([] { parse_chain("chain:\n  - complexity: {strategy: fastest}\n", "bad.yaml"); });
  EXPECT_NE(step_error.find("bad.yaml:2:28: complexity.strategy"), std::string::npos) << step_error;
}

TEST(Planner, StrategyListAndProfileLabels) {
  const Image photo = resized(load(test::photo("fruits.jpg")), 1024);  // 1024 x 960
  Chain chain;
  chain.then("complexity").then("palette", {{"colors", "#000,#f80,#fff"}, {"k", 3}}).then("grayscale");
  std::vector<std::string> strategies;
  PerformanceMonitor monitor;
  Context context;
  context.strategies = &strategies;
  context.monitor = &monitor;
  const Image out = chain.run(photo, context);
  ASSERT_EQ(strategies.size(), 2u);
  const double complexity = out.measures.at("complexity");
  EXPECT_EQ(strategies[0], fmt::format("step 1: complexity: scaled 512x480, complexity {:.2f}", complexity));
  EXPECT_EQ(strategies[1], "step 2: palette: scaled 512x480, k 3");
  std::vector<std::string> scopes;
  for (const auto& stats : monitor.stats()) scopes.push_back(stats.path);
  for (const std::string expected :
       {"step 1: complexity (scaled 512x480)", "step 1: complexity (scaled 512x480)/reduce",
        "step 1: complexity (scaled 512x480)/analyse", "step 2: palette (scaled 512x480)/apply"})
    EXPECT_NE(std::find(scopes.begin(), scopes.end(), expected), scopes.end()) << expected;
  // palette reduces the image itself (a sampling grid over the full image): no copy is made.
  EXPECT_EQ(std::find(scopes.begin(), scopes.end(), "step 2: palette (scaled 512x480)/reduce"), scopes.end());
  // Other steps keep their labels.
  EXPECT_NE(std::find_if(scopes.begin(), scopes.end(),
                         [](const std::string& s) { return s.rfind("step 3: grayscale", 0) == 0; }),
            scopes.end());

  // Direct on a small image, and a forced pyramid; the measure travels through later steps.
  strategies.clear();
  Chain forced;
  forced.then("complexity").then("remove_background", {{"strategy", "pyramid"}, {"analysis_size", 128}});
  const Image small = resized(photo, 300);
  const Image removed = forced.run(small, context);
  ASSERT_EQ(strategies.size(), 2u);
  EXPECT_EQ(strategies[0].rfind("step 1: complexity: direct, complexity ", 0), 0u) << strategies[0];
  EXPECT_EQ(strategies[1], "step 2: remove_background: pyramid 128x120");
  EXPECT_EQ(removed.measures.count("complexity"), 1u);
}

TEST(Planner, PaletteScaledIsCloseToDirectInLab) {
  // A real photo past the scaled threshold. Quality is the mean CIE76 distance of the
  // recoloured image to the original, in OpenCV's Lab (not the engine's own conversion).
  // k-means lands in different local optima from different samples, which moves the error by
  // a few per cent either way (direct is sometimes the worse): so each k within 10 %, and on
  // average within 4 %.
  const Image photo = resized(load(test::photo("autumn-2560x1600.jpg")), 1600);
  const cv::Mat original = lab_of(photo.pixels);
  std::map<std::string, cv::Mat> outputs;
  double ratio_sum = 0;
  const std::vector<int> ks = {6, 8, 10, 16};
  for (const int k : ks) {
    std::map<std::string, double> error;
    for (const std::string strategy : {"direct", "scaled"}) {
      outputs[strategy] = Chain()
                              .then("palette", {{"palettes", "centers"}, {"k", k}, {"strategy", strategy}})
                              .run(photo, Context{})
                              .pixels;
      error[strategy] = mean_delta_e(lab_of(outputs[strategy]), original);
    }
    EXPECT_GT(error["direct"], 1.0) << k;  // the measure sees the quantisation at all
    EXPECT_LT(error["scaled"], 1.10 * error["direct"])
        << "k " << k << ": " << error["scaled"] << " vs " << error["direct"];
    ratio_sum += error["scaled"] / error["direct"];
  }
  EXPECT_LT(ratio_sum / static_cast<double>(ks.size()), 1.04);

  // Assignment is per pixel at full resolution either way: pyramid has nothing to revisit.
  outputs["pyramid"] = Chain()
                           .then("palette", {{"palettes", "centers"}, {"k", 16}, {"strategy", "pyramid"}})
                           .run(photo, Context{})
                           .pixels;
  EXPECT_TRUE(test::identical(outputs["pyramid"], outputs["scaled"]));

  // Every full-resolution pixel of the scaled result is its nearest centre, by its own colour.
  std::vector<cv::Vec3f> centres;
  std::map<std::uint32_t, std::size_t> index;
  const cv::Mat& scaled = outputs["scaled"];
  const cv::Mat scaled_lab = lab_of(scaled);
  for (int y = 0; y < scaled.rows; ++y)
    for (int x = 0; x < scaled.cols; ++x) {
      const auto c = scaled.at<cv::Vec3b>(y, x);
      const std::uint32_t key = static_cast<std::uint32_t>(c[0] << 16 | c[1] << 8 | c[2]);
      if (index.emplace(key, centres.size()).second) centres.push_back(scaled_lab.at<cv::Vec3f>(y, x));
    }
  ASSERT_LE(centres.size(), 16u);
  std::size_t misassigned = 0;
  for (int y = 0; y < scaled.rows; ++y)
    for (int x = 0; x < scaled.cols; ++x) {
      const cv::Vec3f lab = original.at<cv::Vec3f>(y, x);
      double best = 1e30;
      for (const auto& centre : centres) best = std::min(best, cv::norm(lab - centre));
      // Centres are written as 8-bit colours: their Lab is off by up to about 0.5.
      if (cv::norm(lab - scaled_lab.at<cv::Vec3f>(y, x)) > best + 1.0) ++misassigned;
    }
  EXPECT_EQ(misassigned, 0u);
}

TEST(Planner, RemoveBackgroundPyramidRecoversDirectEdges) {
  // A known outline: every strategy finds it; the pyramid pass puts the reduced mask's edge
  // back where grabCut on every pixel puts it.
  cv::Mat object;
  const cv::Mat rgb = scene(1024, 768, object);
  std::map<std::string, cv::Mat> alpha;
  for (const std::string strategy : {"direct", "scaled", "pyramid"})
    alpha[strategy] =
        alpha_of(Chain()
                     .then("remove_background", {{"strategy", strategy}, {"analysis_size", 128}})
                     .run(Image(rgb), Context{}));
  for (const auto& [strategy, mask] : alpha) EXPECT_GT(iou(mask, object), 0.99) << strategy;
  EXPECT_GT(iou(alpha["pyramid"], alpha["direct"]), 0.999);
  EXPECT_GE(iou(alpha["pyramid"], alpha["direct"]), iou(alpha["scaled"], alpha["direct"]));
  cv::Mat scaled_error, pyramid_error;
  cv::absdiff(alpha["scaled"], object, scaled_error);
  cv::absdiff(alpha["pyramid"], object, pyramid_error);
  EXPECT_LT(cv::mean(pyramid_error)[0], 0.5 * cv::mean(scaled_error)[0]);
  // The kernel, given the same strategy, makes the same mask.
  kernels::ForegroundOptions options;
  options.strategy = Strategy::pyramid;
  options.analysis_size = 128;
  EXPECT_TRUE(test::identical(kernels::foreground_mask(rgb, options, CV_8U), alpha["pyramid"]));
}

TEST(Planner, RemoveBackgroundOnRealPhotos) {
  // Photos with a clear subject, analysed at 200 px so the reduction is strong. Against direct
  // (grabCut on every pixel), which is not the truth either: the classical mode's regions move
  // a little with the resolution it decides at.
  struct Case {
    const char* photo;
    const char* seed;
    double bound;
  };
  for (const Case& c : {Case{"fruits.jpg", "frame", 0.9}, Case{"motorcycle_left.png", "saliency", 0.7}}) {
    const Image photo = load(test::photo(c.photo));
    std::map<std::string, cv::Mat> alpha;
    for (const std::string strategy : {"direct", "scaled", "pyramid"})
      alpha[strategy] = alpha_of(
          Chain()
              .then("remove_background", {{"strategy", strategy}, {"seed", c.seed}, {"analysis_size", 200}})
              .run(photo, Context{}));
    const double scaled = iou(alpha["scaled"], alpha["direct"]),
                 pyramid = iou(alpha["pyramid"], alpha["direct"]);
    EXPECT_GT(scaled, c.bound) << c.photo;
    EXPECT_GT(pyramid, c.bound) << c.photo;
    EXPECT_GE(pyramid, scaled) << c.photo;
  }
}

TEST(Planner, ComplexityOrderAndRange) {
  const int w = 256, h = 192;
  const cv::Mat flat(h, w, CV_8UC3, cv::Scalar(40, 120, 200));
  const cv::Mat gradient = test::make_gradient(w, h, 3);
  cv::Mat noise(h, w, CV_8UC3);
  cv::randu(noise, 0, 256);
  const cv::Mat photo = resized(load(test::photo("fruits.jpg")), 256).pixels;
  const double c_flat = complexity_of(flat), c_gradient = complexity_of(gradient),
               c_noise = complexity_of(noise), c_photo = complexity_of(photo);
  EXPECT_EQ(c_flat, 0.0);
  EXPECT_LT(c_flat, c_gradient);
  EXPECT_LT(c_gradient, c_photo);
  EXPECT_LT(c_photo, c_noise);
  EXPECT_GT(c_noise, 0.9);
  EXPECT_LE(c_noise, 1.0);

  // A hand-computed case: black left half, white right half, 64 x 64. Two colours in equal
  // shares: 1 bit of entropy of at most log2(16^3) = 12; the 3x3 Sobel marks the two columns
  // at the step (4 x 255 there, 0 elsewhere): 2 of 64 columns.
  cv::Mat halves(64, 64, CV_8UC3, cv::Scalar::all(0));
  halves(cv::Rect(32, 0, 32, 64)).setTo(cv::Scalar::all(255));
  EXPECT_NEAR(complexity_of(halves), 0.5 * (1.0 / 12.0 + 2.0 / 64.0), 1e-12);
  // Grey counts its grey levels only (at most log2(16) bits), 16-bit its high byte, alpha not at all.
  cv::Mat grey_halves, grey_alpha, sixteen;
  cv::cvtColor(halves, grey_halves, cv::COLOR_RGB2GRAY);
  EXPECT_NEAR(complexity_of(grey_halves), 0.5 * (1.0 / 4.0 + 2.0 / 64.0), 1e-12);
  cv::Mat planes[] = {grey_halves, cv::Mat(64, 64, CV_8U, cv::Scalar(7))};
  cv::merge(planes, 2, grey_alpha);
  EXPECT_NEAR(complexity_of(grey_alpha), complexity_of(grey_halves), 1e-12);
  halves.convertTo(sixteen, CV_16U, 257);
  EXPECT_NEAR(complexity_of(sixteen), complexity_of(halves), 1e-12);

  // scaled measures the area-averaged copy the chain makes.
  const Image big = resized(load(test::photo("fruits.jpg")), 1600);
  cv::Mat reduced;
  cv::resize(big.pixels, reduced,
             plan::analysis_size(step_of("complexity"), big.pixels.size(), Strategy::scaled,
                                 QualityPreset::balanced),
             0, 0, cv::INTER_AREA);
  EXPECT_NEAR(complexity_of(big.pixels, {}), complexity_of(reduced), 1e-12);
}

// Where steps run (planner.hpp, docs/acceleration.md): cpu never leaves the CPU; an explicit
// device takes every step with a path there; auto offloads only blur, sharpen and resize, only
// to CUDA, only from kAutoDevicePixels, and only when a CUDA device is usable.
TEST(StepDevice, AutoOffloadsOnlyHeavyStepsOnLargeImages) {
  const cv::Size large(4096, 2048), small(2048, 2048);
  ASSERT_GE(static_cast<double>(large.area()), plan::kAutoDevicePixels);
  ASSERT_LT(static_cast<double>(small.area()), plan::kAutoDevicePixels);
  for (const char* op : {"gaussian_blur", "sharpen", "resize"}) {
    const Step step = step_of(op, std::string(op) == "resize" ? ParamList{{"width", 800}} : ParamList{});
    EXPECT_TRUE(plan::auto_offloads(step, large)) << op;
    EXPECT_FALSE(plan::auto_offloads(step, small)) << op;
  }
  for (const char* op : {"adjust_colors", "grayscale", "flip", "median"})
    EXPECT_FALSE(plan::auto_offloads(step_of(op), large)) << op;

  Context context;  // auto
  const Step blur = step_of("gaussian_blur");
  const Device expected = device_status(Device::cuda).usable ? Device::cuda : Device::cpu;
  EXPECT_EQ(plan::step_device(blur, context, large, 3, CV_8U), expected);
  EXPECT_EQ(plan::step_device(blur, context, small, 3, CV_8U), Device::cpu);
  context.device = Device::cpu;
  EXPECT_EQ(plan::step_device(blur, context, large, 3, CV_8U), Device::cpu);
  // Explicit: every step with a path, whatever the size; the others on the CPU.
  context.device = Device::opencl;
  EXPECT_EQ(plan::step_device(blur, context, cv::Size(8, 8), 4, CV_16U), Device::opencl);
  EXPECT_EQ(plan::step_device(step_of("median"), context, large, 3, CV_8U), Device::cpu);
  // A step's own device wins over the chain's.
  Step own = step_of("gaussian_blur");
  own.device = Device::cpu;
  EXPECT_EQ(plan::step_device(own, context, large, 3, CV_8U), Device::cpu);
}
