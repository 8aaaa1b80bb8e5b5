// Tiled execution changes nothing: every registered operation, alone and between tiled
// steps, gives with small odd tiles exactly what it gives when the whole image is one tile,
// on random sizes (including one pixel wide or high), channel counts and depths. Operations
// whose output is not local (Canny, geometry, whole-image effects) must not be tiled at all.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// A tile size so large that nothing is ever split: the whole-image reference.
constexpr int whole_image = 1 << 20;

struct Draw {
  ParamList params;
  bool tiled = false;  // whether the step must run tiled on an image larger than a tile
};

// Valid parameters for one trial of each registered operation. An operation missing here
// fails the test, so a new operation cannot skip the parity check. Ranges keep the summed
// halo at most 9 pixels, so that any image with a side above 100 (every image here) is
// larger than a tile (at most 97, widened to at most 4 x 9 for the halo).
using Drawer = std::function<Draw(std::mt19937&)>;

double uniform(std::mt19937& rng, double low, double high) {
  return std::uniform_real_distribution<double>(low, high)(rng);
}
int pick(std::mt19937& rng, int count) {
  return std::uniform_int_distribution<int>(0, count - 1)(rng);
}

const std::map<std::string, Drawer>& parameter_table() {
  static const std::map<std::string, Drawer> table = {
      {"adjust_colors",
       [](std::mt19937& rng) {
         return Draw{{{"brightness", uniform(rng, 0.6, 1.5)},
                      {"contrast", uniform(rng, 0.5, 1.8)},
                      {"gamma", uniform(rng, 0.4, 2.5)},
                      {"saturation", uniform(rng, 0, 2)},
                      {"hue", uniform(rng, -180, 180)}},
                     true};
       }},
      {"grayscale",
       [](std::mt19937& rng) {
         const char* weights[] = {"rec709", "rec601", "average"};
         return Draw{{{"weights", weights[pick(rng, 3)]}, {"keep_channels", pick(rng, 2) == 1}}, true};
       }},
      {"gaussian_blur",
       [](std::mt19937& rng) {
         return Draw{{{"sigma", uniform(rng, 0.1, 3.0)}}, true};
       }},
      {"sharpen",
       [](std::mt19937& rng) {
         return Draw{{{"amount", uniform(rng, 0, 3)},
                      {"radius", uniform(rng, 0.1, 2.6)},
                      {"threshold", pick(rng, 2) == 0 ? 0.0 : uniform(rng, 0, 0.1)}},
                     true};
       }},
      {"edges",
       [](std::mt19937& rng) {
         if (pick(rng, 3) == 0)  // Canny's hysteresis is not local: never tiled
           return Draw{
               {{"method", "canny"}, {"aperture", 3 + 2 * pick(rng, 2)}, {"low", 0.05}, {"high", 0.2}},
               false};
         return Draw{
             {{"method", "sobel"}, {"aperture", 1 + 2 * pick(rng, 4)}, {"scale", uniform(rng, 0.5, 3)}},
             true};
       }},
      {"auto_orient",
       [](std::mt19937&) {
         return Draw{{}, false};
       }},
      {"border",
       [](std::mt19937& rng) {
         const char* modes[] = {"colour", "replicate", "mirror"};
         return Draw{{{"size", pick(rng, 6)}, {"mode", modes[pick(rng, 3)]}}, false};
       }},
      {"complexity",
       [](std::mt19937& rng) {
         const char* strategies[] = {"auto", "direct", "scaled"};
         return Draw{{{"strategy", strategies[pick(rng, 3)]}}, false};
       }},
      {"crop",
       [](std::mt19937&) {
         return Draw{{{"width", 1}, {"height", 1}}, false};
       }},
      {"dither",
       [](std::mt19937& rng) {
         const char* methods[] = {"floyd_steinberg", "atkinson", "bayer4"};
         return Draw{{{"method", methods[pick(rng, 3)]}}, false};
       }},
      {"enhanced_bw",
       [](std::mt19937&) {
         return Draw{{{"grain", 0.1}}, false};
       }},
      {"flip",
       [](std::mt19937& rng) {
         const char* directions[] = {"horizontal", "vertical", "both"};
         return Draw{{{"direction", directions[pick(rng, 3)]}}, false};
       }},
      {"palette",
       [](std::mt19937&) {
         return Draw{{{"colors", "#000,#f80,#fff"}, {"k", 3}}, false};
       }},
      {"pop_art",
       [](std::mt19937&) {
         return Draw{{}, false};
       }},
      {"remove_background",
       [](std::mt19937&) {
         return Draw{{{"analysis_size", 64}}, false};
       }},
      {"resize",
       [](std::mt19937& rng) {
         return Draw{{{"width", 5 + pick(rng, 60)}}, false};
       }},
      {"rotate",
       [](std::mt19937& rng) {
         return Draw{{{"angle", pick(rng, 2) == 0 ? 90.0 : 30.0}}, false};
       }},
      {"vectorize",
       [](std::mt19937&) {
         return Draw{{{"colors", 4}}, false};
       }},
      {"watermark",
       [](std::mt19937&) {
         return Draw{{{"text", "imgpipe"}, {"size", 8}}, false};
       }},
  };
  return table;
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

// A random size with one side above 100: one pixel wide, one pixel high, or both sides free.
cv::Size random_size(std::mt19937& rng, int kind) {
  const int long_side = 101 + pick(rng, 100);
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
  const auto& table = parameter_table();
  for (const auto& [name, descriptor] : Registry::global().all()) {
    const auto entry = table.find(name);
    if (entry == table.end()) {
      ADD_FAILURE() << "no parameters for operation '" << name << "' in the tiled parity table: add them";
      continue;
    }
    // Local operations get more random trials; the others only need to be left whole.
    const int trials =
        descriptor.footprint == Footprint::point || descriptor.footprint == Footprint::neighbourhood ? 4 : 1;
    for (int depth : {CV_8U, CV_16U})
      for (int channels = 1; channels <= 4; ++channels)
        for (int trial = 0; trial < trials; ++trial) {
          const Draw draw = entry->second(rng);
          const cv::Size size = random_size(rng, trial + pick(rng, 3));
          const int tile = 16 + pick(rng, 82);
          const cv::Mat pixels = test::make_image(size.width, size.height, channels, depth, rng());
          const std::string what = describe(name, draw.params, size, channels, depth, tile);

          expect_same_tiled(Chain().then(name, draw.params), pixels, tile, draw.tiled, what);
          // Between tiled steps: the runs before and after it must still be cut correctly.
          Chain sandwich;
          sandwich.then("gaussian_blur", {{"sigma", 0.8}})
              .then(name, draw.params)
              .then("adjust_colors", {{"gamma", 1.3}});
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
  EXPECT_EQ(
      run(chain, test::make_image(64, 64, 3), 64).passes,
      (std::vector<std::string>{"step 1: adjust_colors", "step 2: gaussian_blur", "step 3: adjust_colors"}));
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
