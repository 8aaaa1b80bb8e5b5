// The `palette` chain step: one named variant per palette, the steps after it run on each,
// masks, alpha and 16-bit inputs, YAML against C++, and determinism.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

// Three 5-colour palettes; none holds the border colour, magenta.
const char* kPalettesJson = R"({
  "ember": ["#2b1b3f", "#7a2e5a", "#d9534f", "#f0a04b", "#fbe3a1"],
  "tide":  ["#04263d", "#0b5e7c", "#1f9bb4", "#7fd1d8", "#e6f7f5"],
  "moss":  ["#142613", "#2f4f2a", "#5c7f3a", "#a3b86c", "#e9edc9"]
}
)";
const std::vector<std::string> kNames = {"ember", "tide", "moss"};
const char* kMagenta = "#ff00ff";

std::uint32_t pack(int r, int g, int b, int a = 255) {
  return static_cast<std::uint32_t>(r) << 24 | static_cast<std::uint32_t>(g) << 16 |
         static_cast<std::uint32_t>(b) << 8 | static_cast<std::uint32_t>(a);
}
std::uint32_t pack(const Colour& c) {
  return pack(c.r, c.g, c.b, c.a);
}

// The distinct colours of an 8-bit RGB or RGBA image (alpha 255 for RGB).
std::set<std::uint32_t> distinct_colours(const cv::Mat& pixels) {
  EXPECT_EQ(pixels.depth(), CV_8U);
  const int cn = pixels.channels();
  std::set<std::uint32_t> out;
  for (int y = 0; y < pixels.rows; ++y) {
    const auto* p = pixels.ptr<std::uint8_t>(y);
    for (int x = 0; x < pixels.cols; ++x, p += cn) out.insert(pack(p[0], p[1], p[2], cn == 4 ? p[3] : 255));
  }
  return out;
}

std::set<std::uint32_t> colour_set(const std::vector<Colour>& colours) {
  std::set<std::uint32_t> out;
  for (const auto& c : colours) out.insert(pack(c));
  return out;
}

fs::path write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  test::write_text(path, text);
  return path;
}

const Image& fruits() {
  static const Image image = load(test::photo("fruits.jpg"));
  return image;
}

Chain palettes_then_border(const fs::path& palettes, int border = 6) {
  Chain chain;
  chain.then("palette", {{"palettes", palettes.string()}})
      .then("border", {{"size", border}, {"colour", kMagenta}});
  return chain;
}

// Left half 0 (left out), right half 255.
cv::Mat half_mask(cv::Size size) {
  cv::Mat mask(size, CV_8UC1, cv::Scalar(255));
  mask(cv::Rect(0, 0, size.width / 2, size.height)).setTo(0);
  return mask;
}

}  // namespace

TEST(PaletteStep, FansOutOneBorderedVariantPerPalette) {
  test::TempDir dir;
  const auto file = write(dir, "three.json", kPalettesJson);
  const auto palettes = load_palettes(file);
  const Image& input = fruits();
  const auto variants = palettes_then_border(file).run_variants(input, Context{});

  ASSERT_EQ(variants.size(), 3u);
  const std::uint32_t magenta = pack(255, 0, 255);
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto& v = variants[i];
    SCOPED_TRACE(v.name);
    EXPECT_EQ(v.name, kNames[i]);
    // A 6-pixel border on every side.
    ASSERT_EQ(v.image.width(), input.width() + 12);
    ASSERT_EQ(v.image.height(), input.height() + 12);
    ASSERT_EQ(v.image.channels(), 3);
    const cv::Mat inner = v.image.pixels(cv::Rect(6, 6, input.width(), input.height()));
    // Lightness mapping with k = 10 clusters and 5 colours gives every colour two clusters,
    // so the inside uses exactly the palette; the frame is exactly the border colour.
    EXPECT_EQ(distinct_colours(inner), colour_set(palettes[i].colours));
    auto all = colour_set(palettes[i].colours);
    all.insert(magenta);
    EXPECT_EQ(distinct_colours(v.image.pixels), all);
    EXPECT_EQ(distinct_colours(v.image.pixels.rowRange(0, 6)), std::set<std::uint32_t>{magenta});
    EXPECT_EQ(distinct_colours(v.image.pixels.colRange(v.image.width() - 6, v.image.width())),
              std::set<std::uint32_t>{magenta});
  }
}

TEST(PaletteStep, VariantsAreWhatTheEngineGivesForEachPalette) {
  test::TempDir dir;
  const auto file = write(dir, "three.json", kPalettesJson);
  const auto palettes = load_palettes(file);
  Chain chain;
  chain.then("palette", {{"palettes", file.string()}, {"k", 7}, {"mapping", "nearest"}});
  const auto variants = chain.run_variants(fruits(), Context{});
  ASSERT_EQ(variants.size(), 3u);
  ClusterOptions options;
  options.k = 7;
  const Clustering clustering = cluster(fruits(), options);
  ApplyOptions nearest;
  nearest.mapping = ApplyOptions::Mapping::nearest;
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(variants[i].name, palettes[i].name);
    EXPECT_TRUE(test::identical(variants[i].image.pixels, clustering.apply(palettes[i], nearest).pixels))
        << i;
    // Every pixel of one cluster has one colour.
    std::vector<std::set<std::uint32_t>> per_cluster(7);
    const cv::Mat& labels = clustering.labels();
    for (int y = 0; y < labels.rows; ++y)
      for (int x = 0; x < labels.cols; ++x) {
        const auto p = variants[i].image.pixels.at<cv::Vec3b>(y, x);
        per_cluster[labels.at<std::uint8_t>(y, x)].insert(pack(p[0], p[1], p[2]));
      }
    for (const auto& colours : per_cluster) EXPECT_LE(colours.size(), 1u);
  }
}

TEST(PaletteStep, RunRefusesAChainThatFansOut) {
  test::TempDir dir;
  const auto chain = palettes_then_border(write(dir, "three.json", kPalettesJson));
  const auto message = test::config_error([&] { chain.run(fruits(), Context{}); });
  EXPECT_THAT(message, HasSubstr("3 variants"));
}

TEST(PaletteStep, InlineColoursGiveOneVariantAndRunWorks) {
  Chain chain;
  chain.then("palette", {{"colors", "#000, #fff"}, {"name", "ink"}});
  const auto variants = chain.run_variants(fruits(), Context{});
  ASSERT_EQ(variants.size(), 1u);
  EXPECT_EQ(variants[0].name, "ink");
  const Image out = chain.run(fruits(), Context{});
  EXPECT_TRUE(test::identical(out.pixels, variants[0].image.pixels));
  EXPECT_EQ(distinct_colours(out.pixels), (std::set<std::uint32_t>{pack(0, 0, 0), pack(255, 255, 255)}));
  // Lightness mapping: the darker half of the clusters turns black, so the source pixels that
  // became black are darker on average than those that became white (grey by OpenCV).
  cv::Mat grey;
  cv::cvtColor(fruits().pixels, grey, cv::COLOR_RGB2GRAY);
  cv::Mat black;
  cv::inRange(out.pixels, cv::Scalar(0, 0, 0), cv::Scalar(0, 0, 0), black);
  const double dark = cv::mean(grey, black)[0], light = cv::mean(grey, ~black)[0];
  EXPECT_LT(dark + 40, light) << dark << " vs " << light;
}

TEST(PaletteStep, CentersRecolourWithKColours) {
  Chain chain;
  chain.then("palette", {{"palettes", "centers"}, {"k", 6}});
  const auto variants = chain.run_variants(fruits(), Context{});
  ASSERT_EQ(variants.size(), 1u);
  EXPECT_EQ(variants[0].name, "centers");
  const cv::Mat& out = variants[0].image.pixels;
  EXPECT_EQ(out.size(), fruits().pixels.size());
  EXPECT_EQ(distinct_colours(out).size(), 6u);
  ClusterOptions options;
  options.k = 6;
  EXPECT_TRUE(test::identical(out, cluster(fruits(), options).apply_centres().pixels));
  // The image's own centres are far closer to it than a fixed grey ramp of the same size.
  Chain ramp;
  ramp.then("palette", {{"colors", "#111,#444,#777,#aaa,#ccc,#eee"}, {"k", 6}});
  EXPECT_LT(test::mean_abs_diff(out, fruits().pixels),
            0.5 * test::mean_abs_diff(ramp.run(fruits(), Context{}).pixels, fruits().pixels));
}

TEST(PaletteStep, MissingPalettesFileFailsWhenTheStepIsAdded) {
  test::TempDir dir;
  const auto missing = dir / "nowhere.json";
  Chain chain;
  EXPECT_THAT(test::config_error([&] {
                chain.then("palette", {{"palettes", missing.string()}});
              }),
              HasSubstr(missing.string()));
  const auto bad = write(dir, "bad.json", "{\n  \"a\": [\"#000\", \"nope\"]\n}\n");
  EXPECT_THAT(test::config_error([&] {
                chain.then("palette", {{"palettes", bad.string()}});
              }),
              HasSubstr(bad.string() + ":2:"));
  EXPECT_TRUE(chain.empty());
}

TEST(PaletteStep, ExactlyOneOfPalettesAndColors) {
  test::TempDir dir;
  const auto file = write(dir, "three.json", kPalettesJson);
  Chain chain;
  test::config_error([&] { chain.then("palette", {{"palettes", file.string()}, {"colors", "#000,#fff"}}); });
  test::config_error([&] { chain.then("palette", {}); });
  test::config_error([&] { chain.then("palette", {{"colors", "#000,#nothex"}}); });
  EXPECT_TRUE(chain.empty());
}

TEST(PaletteStep, YamlChainGivesTheSameVariantsAsTheCppChain) {
  test::TempDir dir;
  const auto file = write(dir, "three.json", kPalettesJson);
  const ChainFile yaml = parse_chain(fmt::format("chain:\n"
                                                 "  - palette: {{palettes: \"{}\", k: 8, seed: 7}}\n"
                                                 "  - border: {{size: 3, colour: \"#00ff00\"}}\n",
                                                 file.string()),
                                     "chain.yml");
  Chain cpp;
  cpp.then("palette", {{"palettes", file.string()}, {"k", 8}, {"seed", 7}})
      .then("border", {{"size", 3}, {"colour", "#00ff00"}});
  EXPECT_EQ(yaml.chain.canonical(), cpp.canonical());
  const auto a = yaml.chain.run_variants(fruits(), Context{});
  const auto b = cpp.run_variants(fruits(), Context{});
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a[i].name, kNames[i]);
    EXPECT_EQ(b[i].name, kNames[i]);
    EXPECT_TRUE(test::identical(a[i].image.pixels, b[i].image.pixels)) << kNames[i];
  }
}

TEST(PaletteStep, MaskOfTheWrongSizeFailsAtRun) {
  test::TempDir dir;
  const auto mask = test::write_png(dir, "small-mask.png", cv::Mat(10, 12, CV_8UC1, cv::Scalar(255)));
  Chain chain;
  chain.then("palette", {{"colors", "#000,#fff"}, {"mask", mask.string()}});
  const auto message = test::config_error([&] { chain.run_variants(fruits(), Context{}); });
  EXPECT_THAT(message, HasSubstr(mask.string()));
  EXPECT_THAT(message, HasSubstr("12x10"));
}

TEST(PaletteStep, MaskedPixelsKeepTurnTransparentOrFill) {
  test::TempDir dir;
  const Image& input = fruits();
  const cv::Mat mask_pixels = half_mask(input.pixels.size());
  const auto mask = test::write_png(dir, "mask.png", mask_pixels);
  const cv::Rect left(0, 0, input.width() / 2, input.height());
  const cv::Rect right(input.width() / 2, 0, input.width() - input.width() / 2, input.height());
  const std::set<std::uint32_t> black_white = {pack(0, 0, 0), pack(255, 255, 255)};
  auto run = [&](const ParamList& extra) {
    ParamList params = {{"colors", "#000,#fff"}, {"mask", mask.string()}};
    params.insert(params.end(), extra.begin(), extra.end());
    Chain chain;
    chain.then("palette", params);
    return chain.run(input, Context{});
  };

  const Image transparent = run({{"masked", "transparent"}});
  ASSERT_EQ(transparent.channels(), 4);
  EXPECT_EQ(distinct_colours(transparent.pixels(left)), std::set<std::uint32_t>{pack(0, 0, 0, 0)});
  EXPECT_EQ(distinct_colours(transparent.pixels(right)), black_white);

  const Image kept = run({{"masked", "keep"}});
  ASSERT_EQ(kept.channels(), 3);
  EXPECT_TRUE(test::identical(kept.pixels(left), input.pixels(left)));
  EXPECT_EQ(distinct_colours(kept.pixels(right)), black_white);

  const Image filled = run({{"masked", "fill"}, {"fill", "#12345678"}});
  ASSERT_EQ(filled.channels(), 4);
  EXPECT_EQ(distinct_colours(filled.pixels(left)), std::set<std::uint32_t>{pack(0x12, 0x34, 0x56, 0x78)});
  EXPECT_EQ(distinct_colours(filled.pixels(right)), black_white);

  // The clustering sees only the right half, so it is the same as clustering that half alone.
  Chain alone;
  alone.then("palette", {{"colors", "#000,#fff"}});
  const Image right_only = alone.run(Image(input.pixels(right).clone()), Context{});
  EXPECT_TRUE(test::identical(kept.pixels(right).clone(), right_only.pixels));
}

TEST(PaletteStep, AlphaIsKeptAndTransparentPixelsAreLeftOut) {
  // opencv-logo-rgba.png: flat colours on a transparent background.
  const Image logo = load(test::photo("opencv-logo-rgba.png"));
  ASSERT_EQ(logo.channels(), 4);
  const std::vector<Colour> colours = {{20, 20, 60, 255}, {200, 80, 40, 255}, {250, 240, 200, 255}};
  Chain chain;
  chain.then("palette", {{"colors", "#14143c,#c85028,#faf0c8"}, {"k", 6}});
  const Image out = chain.run(logo, Context{});
  ASSERT_EQ(out.channels(), 4);
  ASSERT_EQ(out.pixels.size(), logo.pixels.size());
  cv::Mat alpha_in, alpha_out;
  cv::extractChannel(logo.pixels, alpha_in, 3);
  cv::extractChannel(out.pixels, alpha_out, 3);
  EXPECT_TRUE(test::identical(alpha_in, alpha_out));
  const auto palette = colour_set(colours);
  int opaque = 0, transparent = 0;
  for (int y = 0; y < out.height(); ++y)
    for (int x = 0; x < out.width(); ++x) {
      const auto s = logo.pixels.at<cv::Vec4b>(y, x), d = out.pixels.at<cv::Vec4b>(y, x);
      if (s[3] >= 128) {
        ++opaque;
        ASSERT_TRUE(palette.count(pack(d[0], d[1], d[2]))) << x << "," << y;
      } else {
        ++transparent;
        ASSERT_EQ(d, s) << x << "," << y;  // left out and kept as it was
      }
    }
  EXPECT_GT(opaque, 1000);
  EXPECT_GT(transparent, 1000);

  // mask: none recolours every pixel, alpha still kept.
  Chain all;
  all.then("palette", {{"colors", "#14143c,#c85028,#faf0c8"}, {"k", 6}, {"mask", "none"}});
  const Image every = all.run(logo, Context{});
  ASSERT_EQ(every.channels(), 4);
  cv::Mat rgb;
  cv::cvtColor(every.pixels, rgb, cv::COLOR_RGBA2RGB);
  EXPECT_EQ(distinct_colours(rgb), palette);
  cv::extractChannel(every.pixels, alpha_out, 3);
  EXPECT_TRUE(test::identical(alpha_in, alpha_out));
}

TEST(PaletteStep, GreyAlphaInput) {
  // Grey gradient, transparent on the left third.
  cv::Mat grey = test::make_gradient(90, 60, 1), alpha(60, 90, CV_8UC1, cv::Scalar(255));
  alpha.colRange(0, 30).setTo(0);
  cv::Mat grey_alpha;
  cv::merge(std::vector<cv::Mat>{grey, alpha}, grey_alpha);
  Chain chain;
  chain.then("palette", {{"colors", "#202020,#e0a040"}, {"k", 4}});
  const Image out = chain.run(Image(grey_alpha), Context{});
  ASSERT_EQ(out.channels(), 4);
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 90; ++x) {
      const auto d = out.pixels.at<cv::Vec4b>(y, x);
      const int g = grey.at<std::uint8_t>(y, x);
      if (x < 30) {
        ASSERT_EQ(d, cv::Vec4b(static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(g),
                               static_cast<std::uint8_t>(g), 0))
            << x << "," << y;
      } else {
        ASSERT_EQ(d[3], 255);
        ASSERT_TRUE(d == cv::Vec4b(0x20, 0x20, 0x20, 255) || d == cv::Vec4b(0xe0, 0xa0, 0x40, 255))
            << x << "," << y;
      }
    }
}

TEST(PaletteStep, SixteenBitMatchesEightBit) {
  // v * 257 is the 16-bit form of the 8-bit v: the palette step must not see a difference.
  cv::Mat wide;
  fruits().pixels.convertTo(wide, CV_16U, 257);
  Chain chain;
  chain.then("palette", {{"colors", "#2b1b3f,#7a2e5a,#d9534f,#f0a04b,#fbe3a1"}});
  const Image narrow_out = chain.run(fruits(), Context{});
  const Image wide_out = chain.run(Image(wide), Context{});
  EXPECT_EQ(wide_out.pixels.depth(), CV_8U);
  EXPECT_TRUE(test::identical(wide_out.pixels, narrow_out.pixels));
}

TEST(PaletteStep, SixteenBitGreyPhoto) {
  // chessboard_GRAY_U16.tif: 200x200 16-bit grey squares whose values only go up to 255 of
  // 65535, so the file itself is black at 8-bit precision; scaled by 257 it spans the range.
  const Image board = load(test::photo("chessboard_GRAY_U16.tif"));
  ASSERT_EQ(board.pixels.type(), CV_16UC1);
  Chain chain;
  chain.then("palette", {{"colors", "#f0e0d0,#102030"}, {"k", 2}});
  const cv::Vec3b dark_colour(0x10, 0x20, 0x30), light_colour(0xf0, 0xe0, 0xd0);

  const Image black = chain.run(board, Context{});
  ASSERT_EQ(black.pixels.type(), CV_8UC3);
  EXPECT_EQ(distinct_colours(black.pixels), std::set<std::uint32_t>{pack(0x10, 0x20, 0x30)});

  cv::Mat wide;
  board.pixels.convertTo(wide, CV_16U, 257);
  const Image out = chain.run(Image(wide), Context{});
  ASSERT_EQ(out.pixels.type(), CV_8UC3);
  ASSERT_EQ(out.pixels.size(), board.pixels.size());
  // Two clusters of a grey image split it by lightness: the board's values are 0, 44, 50,
  // 80 and 175, 205, 211, 255 (times 257), so the split falls between 80 and 175.
  int dark = 0, light = 0;
  for (int y = 0; y < out.height(); ++y)
    for (int x = 0; x < out.width(); ++x) {
      const bool is_dark = board.pixels.at<std::uint16_t>(y, x) < 128;
      (is_dark ? dark : light)++;
      ASSERT_EQ(out.pixels.at<cv::Vec3b>(y, x), is_dark ? dark_colour : light_colour) << x << "," << y;
    }
  EXPECT_GT(dark, 1000);
  EXPECT_GT(light, 1000);
}

TEST(PaletteStep, DeterministicAcrossRunsAndThreadCounts) {
  test::TempDir dir;
  const auto chain = palettes_then_border(write(dir, "three.json", kPalettesJson));
  Context one, two;
  one.threads = 1;
  two.threads = 2;
  const auto first = chain.run_variants(fruits(), Context{});
  const auto again = chain.run_variants(fruits(), Context{});
  const auto single = chain.run_variants(fruits(), one);
  const auto dual = chain.run_variants(fruits(), two);
  ASSERT_EQ(first.size(), 3u);
  for (const auto* other : {&again, &single, &dual}) {
    ASSERT_EQ(other->size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ((*other)[i].name, first[i].name);
      EXPECT_TRUE(test::identical((*other)[i].image.pixels, first[i].image.pixels)) << first[i].name;
    }
  }
}
