// Fusion of consecutive point operations: a fused chain gives exactly what running each
// step on its own gives, and both follow the documented formula applied step by step.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "../ops/naive_colour.hpp"
#include "test_support.hpp"

using namespace imgpipe;
using test::Adjustment;

namespace {

// Each parameter is changed from its default with probability 0.6, within ranges that keep
// some image detail (a contrast of 10 would make most samples 0 or full scale).
Adjustment random_adjustment(std::mt19937& rng) {
  std::bernoulli_distribution change(0.6);
  const auto pick = [&](double fallback, double low, double high) {
    return change(rng) ? std::uniform_real_distribution<double>(low, high)(rng) : fallback;
  };
  Adjustment a;
  a.brightness = pick(1, 0.6, 1.5);
  a.contrast = pick(1, 0.5, 1.8);
  a.gamma = pick(1, 0.4, 2.5);
  a.saturation = pick(1, 0, 2);
  a.hue = pick(0, -180, 180);
  return a;
}

Chain& add(Chain& chain, const Adjustment& a) {
  return chain.then("adjust_colors", {{"brightness", a.brightness},
                                      {"contrast", a.contrast},
                                      {"gamma", a.gamma},
                                      {"saturation", a.saturation},
                                      {"hue", a.hue}});
}

std::string describe(const std::vector<Adjustment>& steps) {
  std::string out;
  for (const auto& a : steps)
    out += "[b " + std::to_string(a.brightness) + " c " + std::to_string(a.contrast) + " g " +
           std::to_string(a.gamma) + " s " + std::to_string(a.saturation) + " h " + std::to_string(a.hue) +
           "] ";
  return out;
}

// The names of the timed scopes a run opened, in order: one per pass over the pixels.
std::vector<std::string> passes(const Chain& chain, const cv::Mat& pixels) {
  PerformanceMonitor monitor;
  Context context;
  context.monitor = &monitor;
  (void)chain.run(Image(pixels), context);
  std::vector<std::string> names;
  for (const auto& s : monitor.stats()) names.push_back(s.name);
  return names;
}

}  // namespace

TEST(Fusion, RandomAdjustmentSequencesAreExactAndFollowTheFormula) {
  std::mt19937 rng(20240611);
  int trial = 0;
  for (int depth : {CV_8U, CV_16U})
    for (int channels : {1, 2, 3, 4})
      for (int repeat = 0; repeat < 6; ++repeat, ++trial) {
        std::vector<Adjustment> steps(std::uniform_int_distribution<std::size_t>(2, 5)(rng));
        Chain chain;
        for (auto& step : steps) add(chain, step = random_adjustment(rng));
        const cv::Mat in = test::make_image(48, 32, channels, depth, static_cast<std::uint32_t>(trial));
        const cv::Mat fused = chain.run(Image(in), Context{}).pixels;
        const cv::Mat unfused = chain.run(Image(in), Context{}, false).pixels;
        EXPECT_TRUE(test::identical(fused, unfused)) << describe(steps);

        cv::Mat expected = in;
        for (const auto& step : steps) expected = test::adjust_reference(expected, step);
        // One level: the reference rounds where the library does (after each tone curve and
        // each colour matrix), so only a value within double rounding noise of .5 may differ.
        EXPECT_LE(test::max_abs_diff(fused, expected), 1.0)
            << channels << " channels, depth " << depth << ": " << describe(steps);
      }
}

TEST(Fusion, ConsecutiveAdjustmentsRunInOnePass) {
  Chain chain;
  add(add(add(chain, {.brightness = 1.2}), {.saturation = 0.5}), {.gamma = 1.4});
  EXPECT_EQ(passes(chain, test::make_image(16, 16, 3)),
            std::vector<std::string>{"step 1: adjust_colors + adjust_colors + adjust_colors"});
}

TEST(Fusion, SplitsAroundANonPointOperation) {
  for (const char* middle : {"gaussian_blur", "sharpen"}) {
    Chain chain;
    add(add(chain, {.brightness = 1.3, .hue = 40}), {.contrast = 1.4, .saturation = 1.5});
    chain.then(middle);
    add(add(chain, {.gamma = 0.8}), {.brightness = 0.9, .saturation = 0.3});
    for (int depth : {CV_8U, CV_16U}) {
      const cv::Mat in = test::make_image(48, 32, 4, depth, 3);
      EXPECT_TRUE(test::identical(chain.run(Image(in), Context{}).pixels,
                                  chain.run(Image(in), Context{}, false).pixels))
          << middle << ", depth " << depth;
    }
    // One run of local steps: a fused pass, the filter, a fused pass (the same pixels as the
    // steps one by one, above).
    EXPECT_EQ(passes(chain, test::make_image(16, 16, 3)),
              (std::vector<std::string>{std::string("step 1: adjust_colors + adjust_colors + ") + middle +
                                        " + adjust_colors + adjust_colors"}));
  }
}

TEST(Fusion, PointOperationWithoutStagesSplitsAndChangesChannels) {
  // grayscale is a point operation that changes the channel count, so it runs on its own
  // and the adjustments after it are fused for the grey image it makes.
  Chain chain;
  add(chain, {.saturation = 1.6});
  chain.then("grayscale");
  add(add(chain, {.contrast = 1.3}), {.gamma = 1.5});
  for (int channels : {3, 4}) {
    const cv::Mat in = test::make_image(48, 32, channels, CV_16U, 5);
    const cv::Mat fused = chain.run(Image(in), Context{}).pixels;
    EXPECT_EQ(fused.channels(), channels - 2);
    EXPECT_TRUE(test::identical(fused, chain.run(Image(in), Context{}, false).pixels));
  }
  EXPECT_EQ(passes(chain, test::make_image(16, 16, 3)),
            (std::vector<std::string>{"step 1: adjust_colors + grayscale + adjust_colors + adjust_colors"}));
}
