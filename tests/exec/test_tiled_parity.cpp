// Tiled execution changes nothing: every registered operation, with each of its examples
// (OpDescriptor::examples, their numbers moved at random), alone and between tiled steps,
// gives with small odd tiles exactly what it gives when the whole image is one tile, on random
// sizes (one pixel wide or high too, for the steps that are tiled), channel counts and depths.
// Operations whose output is not local (Canny, geometry, whole-image effects) must not be
// tiled at all. A new operation is covered by its examples, without editing this test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// A tile size so large that nothing is ever split: the whole-image reference.
constexpr int whole_image = 1 << 20;

using Example = std::map<std::string, Value, std::less<>>;

int pick(std::mt19937& rng, int count) {
  return std::uniform_int_distribution<int>(0, count - 1)(rng);
}

// The example with its numbers moved at random, so that trials differ in more than the image
// (a blur's radius, a Sobel aperture, a rounding): a number parameter scaled by 0.6..1.4, an
// integer moved by -2, 0 or +2, each kept in its range, and each kept only when the parameters
// still validate (an even aperture does not). Choices and texts stay.
Example perturbed(const OpDescriptor& descriptor, const Example& example, std::mt19937& rng) {
  Example moved = example;
  for (const auto& [name, value] : example) {
    const ParamSpec* spec = descriptor.find_param(name);
    if (!spec || !value.is_number()) continue;
    double v = value.as_number();
    if (spec->type == ParamType::number)
      v *= std::uniform_real_distribution<double>(0.6, 1.4)(rng);
    else if (spec->type == ParamType::integer)
      v += 2 * (pick(rng, 3) - 1);
    else
      continue;
    if (spec->min != spec->max) v = std::clamp(v, spec->min, spec->max);
    Example trial = moved;
    trial[name] = spec->type == ParamType::integer ? Value(static_cast<std::int64_t>(v)) : Value(v);
    try {
      (void)validate_params(descriptor, trial);
      moved = trial;
    } catch (const Error&) {
      // refused: the parameter keeps the example's value
    }
  }
  return moved;
}

ParamList as_list(const Example& example) {
  return ParamList(example.begin(), example.end());
}

// Whether the step must run tiled on an image larger than a tile: point operations always
// may, neighbourhood operations when their window is bounded (Canny's hysteresis is not).
bool is_local(const OpDescriptor& descriptor, const Params& params) {
  if (descriptor.footprint == Footprint::point) return true;
  if (descriptor.footprint != Footprint::neighbourhood) return false;
  return descriptor.create(params)->halo() != Operation::kUnboundedHalo;
}

int halo_of(const OpDescriptor& descriptor, const Params& params) {
  if (descriptor.footprint != Footprint::neighbourhood) return 0;
  return std::max(0, descriptor.create(params)->halo());
}

struct Outcome {
  std::vector<Variant> variants;
  std::vector<std::string> passes;  // the timed scopes of the run, in order
  std::string error;                // the error's category and message; "" when it ran
};

Outcome run(const Chain& chain, const cv::Mat& pixels, int tile_size) {
  PerformanceMonitor monitor;
  Context context;
  context.tile_size = tile_size;
  context.monitor = &monitor;
  Outcome out;
  try {
    out.variants = chain.run_variants(Image(pixels), context);
  } catch (const Error& e) {
    out.error = std::string(to_string(e.category())) + ": " + e.what();
  }
  for (const auto& stats : monitor.stats()) out.passes.push_back(stats.name);
  return out;
}

bool any_tiled(const std::vector<std::string>& passes) {
  for (const auto& pass : passes)
    if (pass.find("(tiled ") != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& passes) {
  std::string out;
  for (const auto& pass : passes) out += "[" + pass + "] ";
  return out;
}

// Runs the chain with `tile_size` and whole, and expects identical variants.
void expect_same_tiled(const Chain& chain, const cv::Mat& pixels, int tile_size, bool tiled,
                       const std::string& what) {
  const Outcome reference = run(chain, pixels, whole_image);
  const Outcome tiles = run(chain, pixels, tile_size);
  EXPECT_FALSE(any_tiled(reference.passes)) << what;
  EXPECT_EQ(any_tiled(tiles.passes), tiled) << what << ": " << joined(tiles.passes);
  // An operation that refuses an input (say a depth it does not take) must refuse it the
  // same way however the chain runs.
  EXPECT_EQ(tiles.error, reference.error) << what;
  ASSERT_EQ(tiles.variants.size(), reference.variants.size()) << what;
  for (std::size_t v = 0; v < reference.variants.size(); ++v) {
    const cv::Mat& expected = reference.variants[v].image.pixels;
    const cv::Mat& got = tiles.variants[v].image.pixels;
    EXPECT_EQ(tiles.variants[v].name, reference.variants[v].name) << what;
    ASSERT_EQ(got.type(), expected.type()) << what;
    ASSERT_EQ(got.size(), expected.size()) << what;
    // Exact, for point and neighbourhood steps alike: a tile's region is the whole image's
    // pixels around it, and OpenCV's separable float filters sum each output's taps in the
    // same order wherever the output lies, so not even the float rounding differs.
    EXPECT_TRUE(test::identical(got, expected))
        << what << ": max difference " << test::max_abs_diff(got, expected) << ", "
        << cv::countNonZero(got.reshape(1) != expected.reshape(1)) << " samples differ";
  }
}

// A random size with one side above `above` (at least 100): one pixel wide, one pixel high, or
// both sides free.
cv::Size random_size(std::mt19937& rng, int kind, int above) {
  const int long_side = std::max(above, 100) + 1 + pick(rng, 100);
  switch (kind % 3) {
    case 0: return {1, long_side};
    case 1: return {long_side, 1};
    default:
      return pick(rng, 2) == 0 ? cv::Size(long_side, 17 + pick(rng, 184))
                               : cv::Size(17 + pick(rng, 184), long_side);
  }
}

std::string describe(const std::string& op, const ParamList& params, cv::Size size, int channels, int depth,
                     int tile) {
  std::string out = op + " {";
  for (const auto& [name, value] : params) out += " " + name + "=" + value.to_text();
  return out + " } on " + std::to_string(size.width) + "x" + std::to_string(size.height) + ", " +
         std::to_string(channels) + " channels, " + (depth == CV_16U ? "16" : "8") + "-bit, tile " +
         std::to_string(tile);
}

}  // namespace

TEST(TiledParity, EveryOperationAloneAndBetweenTiledSteps) {
  std::mt19937 rng(20240917);
  const OpDescriptor& blur = Registry::global().at("gaussian_blur");
  const Params before = validate_params(blur, {{"sigma", 0.8}});
  const int before_halo = halo_of(blur, before);
  for (const auto& [name, descriptor] : Registry::global().all())
    for (const Example& example : descriptor.examples_or_defaults()) {
      // Local operations get more random trials; the others only need to be left whole.
      const bool local = is_local(descriptor, validate_params(descriptor, example));
      const int trials = local ? 3 : 1;
      for (int depth : {CV_8U, CV_16U})
        for (int channels = 1; channels <= 4; ++channels)
          for (int trial = 0; trial < trials; ++trial) {
            const Example params = perturbed(descriptor, example, rng);
            const Params validated = validate_params(descriptor, params);
            EXPECT_EQ(is_local(descriptor, validated), local) << name;
            // Larger than a tile whatever the tile: tiles are at most 97 and widened to four
            // times the summed halo of the run.
            const int widest_tile = 4 * (before_halo + halo_of(descriptor, validated));
            // One pixel wide or high only where tiles are cut: a step that is never tiled
            // only has to be left whole, and a cover resize of a one-pixel-wide image to
            // 256x256 would first make it 256 pixels wide and 38400 high.
            const int kind = local ? trial + pick(rng, 3) : 2;
            const cv::Size size = random_size(rng, kind, widest_tile);
            const int tile = 16 + pick(rng, 82);
            const cv::Mat pixels = test::make_image(size.width, size.height, channels, depth, rng());
            const std::string what = describe(name, as_list(params), size, channels, depth, tile);

            expect_same_tiled(Chain().then(descriptor, validated), pixels, tile, local, what);
            // Between tiled steps: the runs before and after it must still be cut correctly.
            Chain sandwich;
            sandwich.then(blur, before).then(descriptor, validated).then("adjust_colors", {{"gamma", 1.3}});
            expect_same_tiled(sandwich, pixels, tile, true, "between a blur and an adjustment: " + what);
          }
    }
}

TEST(TiledParity, HalosOfAllStepsAreSummed) {
  // Each step's halo alone would be too small: the blur's output near a tile's edge needs
  // the sharpen's halo of blurred pixels beyond it, so a missing sum shows at tile seams.
  std::mt19937 rng(7);
  Chain chain;
  chain.then("adjust_colors", {{"brightness", 1.2}, {"hue", 30}})
      .then("gaussian_blur", {{"sigma", 1.7}})  // radius 6
      .then("adjust_colors", {{"gamma", 1.3}, {"saturation", 1.4}})
      .then("sharpen", {{"amount", 2.5}, {"radius", 1.2}});  // radius 4
  for (int depth : {CV_8U, CV_16U})
    for (int channels = 1; channels <= 4; ++channels) {
      const int tile = 41 + pick(rng, 57);  // above 4 x 10, so not widened
      const cv::Size size(150 + pick(rng, 150), 120 + pick(rng, 150));
      const cv::Mat pixels = test::make_image(size.width, size.height, channels, depth, rng());
      const std::string what = std::to_string(channels) + " channels, depth " + std::to_string(depth);
      expect_same_tiled(chain, pixels, tile, true, what);
      // And against each step run on its own over the whole image, unfused.
      Context context;
      context.tile_size = tile;
      EXPECT_TRUE(test::identical(chain.run(Image(pixels), context).pixels,
                                  chain.run(Image(pixels), Context{}, false).pixels))
          << what;
      PerformanceMonitor monitor;
      context.monitor = &monitor;
      (void)chain.run(Image(pixels), context);
      ASSERT_FALSE(monitor.stats().empty());
      EXPECT_EQ(monitor.stats().front().name,
                "step 1: adjust_colors + gaussian_blur + adjust_colors + sharpen (tiled " +
                    std::to_string(tile) + ")");
    }
}

TEST(TiledParity, PointStepsAfterAChannelChangeFuseForTheNewType) {
  Chain chain;
  chain.then("adjust_colors", {{"saturation", 1.5}})
      .then("grayscale")
      .then("adjust_colors", {{"contrast", 1.3}})
      .then("adjust_colors", {{"gamma", 0.7}})
      .then("sharpen", {{"radius", 2.0}});
  for (int channels : {3, 4}) {
    const cv::Mat pixels = test::make_image(230, 170, channels, CV_16U, 11);
    expect_same_tiled(chain, pixels, 37, true, std::to_string(channels) + " channels");
    Context context;
    context.tile_size = 37;
    const cv::Mat tiled = chain.run(Image(pixels), context).pixels;
    EXPECT_EQ(tiled.channels(), channels - 2);
    EXPECT_TRUE(test::identical(tiled, chain.run(Image(pixels), Context{}, false).pixels));
  }
}

TEST(TiledParity, TiledRunsAroundAGeometryStep) {
  Chain chain;
  chain.then("gaussian_blur", {{"sigma", 1.0}})
      .then("sharpen", {{"amount", 0.8}})
      .then("rotate", {{"angle", 90}})
      .then("edges", {{"method", "sobel"}, {"aperture", 5}});
  for (int channels : {1, 3, 4}) {
    const cv::Mat pixels = test::make_image(190, 77, channels, CV_8U, 5);
    expect_same_tiled(chain, pixels, 29, true, std::to_string(channels) + " channels");
    const Outcome outcome = run(chain, pixels, 29);
    EXPECT_EQ(outcome.passes, (std::vector<std::string>{"step 1: gaussian_blur + sharpen (tiled 29)",
                                                        "step 3: rotate", "step 4: edges (tiled 29)"}));
  }
}

TEST(TiledParity, TilesAreWidenedToFourTimesTheHalo) {
  // A tile smaller than its halo would recompute most of the image many times over.
  Chain chain;
  chain.then("gaussian_blur", {{"sigma", 1.0}}).then("sharpen", {{"radius", 0.5}});  // radii 3 + 2
  const cv::Mat pixels = test::make_image(97, 61, 3, CV_8U, 2);
  for (int tile : {1, 2, 7, 19}) {
    expect_same_tiled(chain, pixels, tile, true, "tile " + std::to_string(tile));
    EXPECT_EQ(run(chain, pixels, tile).passes.front(),
              "step 1: gaussian_blur + sharpen (tiled " + std::to_string(std::max(tile, 20)) + ")");
  }
}

TEST(TiledParity, AnImageThatFitsOneTileRunsWhole) {
  Chain chain;
  chain.then("adjust_colors", {{"brightness", 1.1}})
      .then("gaussian_blur")
      .then("adjust_colors", {{"gamma", 1.2}});
  // The same run of local steps, computed on the whole image at once (no tile suffix).
  EXPECT_EQ(run(chain, test::make_image(64, 64, 3), 64).passes,
            (std::vector<std::string>{"step 1: adjust_colors + gaussian_blur + adjust_colors"}));
  EXPECT_EQ(run(chain, test::make_image(65, 64, 3), 64).passes,
            (std::vector<std::string>{"step 1: adjust_colors + gaussian_blur + adjust_colors (tiled 64)"}));
  // The unfused reference never tiles.
  PerformanceMonitor monitor;
  Context context;
  context.tile_size = 16;
  context.monitor = &monitor;
  (void)chain.run(Image(test::make_image(200, 200, 3)), context, false);
  for (const auto& stats : monitor.stats())
    EXPECT_EQ(stats.name.find("tiled"), std::string::npos) << stats.name;
}
