// `imgpipe palette` and `imgpipe extract-palette` through the real binary: one file per
// palette, palette PNGs, lossless WebP, masks, cluster centres, errors and the JSON output.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "test_support.hpp"

using namespace imgpipe;
using test::entries;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

namespace fs = std::filesystem;

fs::path baseline_palettes() {
  return test::photo("fruits.jpg").parent_path().parent_path() / "baselines" / "palettes.json";
}

// The baseline palettes read with nlohmann and hex parsed here, not by the library.
std::map<std::string, std::set<std::uint32_t>> baseline_colours() {
  std::ifstream in(baseline_palettes());
  const auto json = nlohmann::json::parse(in);
  std::map<std::string, std::set<std::uint32_t>> out;
  for (const auto& [name, list] : json.items())
    for (const auto& hex : list)
      out[name].insert(
          static_cast<std::uint32_t>(std::stoul(hex.template get<std::string>().substr(1), nullptr, 16)));
  return out;
}

std::uint32_t pack(int r, int g, int b) {
  return static_cast<std::uint32_t>(r) << 16 | static_cast<std::uint32_t>(g) << 8 |
         static_cast<std::uint32_t>(b);
}

// Distinct RGB colours of an 8-bit RGB or RGBA image; with `opaque_only`, pixels of alpha 0 are skipped.
std::set<std::uint32_t> distinct_colours(const cv::Mat& pixels, bool opaque_only = false) {
  const int cn = pixels.channels();
  std::set<std::uint32_t> out;
  for (int y = 0; y < pixels.rows; ++y) {
    const auto* p = pixels.ptr<std::uint8_t>(y);
    for (int x = 0; x < pixels.cols; ++x, p += cn)
      if (!opaque_only || cn < 4 || p[3] != 0) out.insert(pack(p[0], p[1], p[2]));
  }
  return out;
}

bool contains(const std::vector<std::uint8_t>& bytes, const std::string& what) {
  return std::search(bytes.begin(), bytes.end(), what.begin(), what.end()) != bytes.end();
}

fs::path write_png(const fs::path& path, const cv::Mat& pixels) {
  SaveOptions png;
  png.format = Format::png;
  png.allow_indexed = false;
  save(Image(pixels), path, png);
  return path;
}

// Independent CIE Lab (D65, sRGB transfer curve) of an 8-bit sRGB colour.
std::array<double, 3> naive_lab(int r, int g, int b) {
  auto linear = [](int v) {
    const double c = v / 255.0;
    return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
  };
  const double R = linear(r), G = linear(g), B = linear(b);
  const double X = (0.4124564 * R + 0.3575761 * G + 0.1804375 * B) / 0.95047;
  const double Y = 0.2126729 * R + 0.7151522 * G + 0.0721750 * B;
  const double Z = (0.0193339 * R + 0.1191920 * G + 0.9503041 * B) / 1.08883;
  auto f = [](double t) {
    constexpr double d = 6.0 / 29.0;
    return t > d * d * d ? std::cbrt(t) : t / (3 * d * d) + 4.0 / 29.0;
  };
  return {116 * f(Y) - 16, 500 * (f(X) - f(Y)), 200 * (f(Y) - f(Z))};
}

double distance2(const std::array<double, 3>& x, const std::array<double, 3>& y) {
  return (x[0] - y[0]) * (x[0] - y[0]) + (x[1] - y[1]) * (x[1] - y[1]) + (x[2] - y[2]) * (x[2] - y[2]);
}

constexpr int kFruitsWidth = 512, kFruitsHeight = 480;
const std::vector<std::string> kBaselineFiles = {"forest.png", "grayscale.png", "neon.png",  "ocean.png",
                                                 "pop.png",    "sepia.png",     "sunset.png"};

// What `imgpipe palette` writes for an input named <stem>.*: <stem>-<palette>.png, sorted.
std::vector<std::string> outputs_of(const std::string& stem) {
  std::vector<std::string> files;
  for (const auto& file : kBaselineFiles) files.push_back(stem + "-" + file);
  return files;
}

}  // namespace

TEST(CliPalette, OnePalettePngPerPalette) {
  test::TempDir dir;
  const auto out = dir / "out";
  const auto r = run_cli({"palette", test::photo("fruits.jpg").string(), "--palettes",
                          baseline_palettes().string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(entries(out), outputs_of("fruits"));
  for (const auto& [name, palette] : baseline_colours()) {
    SCOPED_TRACE(name);
    const auto path = out / ("fruits-" + name + ".png");
    const auto bytes = test::read_file(path);
    ASSERT_GT(bytes.size(), 33u);
    ASSERT_EQ(std::string(bytes.begin() + 12, bytes.begin() + 16), "IHDR");
    EXPECT_EQ(bytes[25], 3) << "IHDR colour type: 3 is a palette PNG";
    const Image decoded = load(path);
    EXPECT_EQ(decoded.width(), kFruitsWidth);
    EXPECT_EQ(decoded.height(), kFruitsHeight);
    const auto used = distinct_colours(decoded.pixels);
    EXPECT_LE(used.size(), 5u);
    EXPECT_TRUE(std::includes(palette.begin(), palette.end(), used.begin(), used.end()));
  }
}

TEST(CliPalette, RunningTwiceGivesTheSameBytes) {
  test::TempDir dir;
  for (const char* folder : {"a", "b"}) {
    const auto r = run_cli({"palette", test::photo("chelsea.png").string(), "--palettes",
                            baseline_palettes().string(), "-o", (dir / folder).string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_EQ(entries(dir / "a"), outputs_of("chelsea"));
  for (const auto& file : outputs_of("chelsea"))
    EXPECT_EQ(test::read_file(dir / "a" / file), test::read_file(dir / "b" / file)) << file;
}

TEST(CliPalette, WebpIsLosslessAndMatchesThePng) {
  test::TempDir dir;
  const auto input = test::photo("fruits.jpg").string();
  auto r =
      run_cli({"palette", input, "--palettes", baseline_palettes().string(), "-o", (dir / "png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"palette", input, "--palettes", baseline_palettes().string(), "-o", (dir / "webp").string(),
               "--format", "webp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto files = entries(dir / "webp");
  ASSERT_EQ(files.size(), 7u);
  for (const auto& file : files) {
    SCOPED_TRACE(file);
    ASSERT_EQ(fs::path(file).extension(), ".webp");
    const auto bytes = test::read_file(dir / "webp" / file);
    ASSERT_GT(bytes.size(), 16u);
    EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "RIFF");
    EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 12), "WEBP");
    // VP8L is the lossless bitstream; "VP8 " would be lossy.
    EXPECT_TRUE(contains(bytes, "VP8L"));
    EXPECT_FALSE(contains(bytes, "VP8 "));
    // Lossless: the same pixels as the PNG of the same palette.
    const Image webp = load(dir / "webp" / file);
    const Image png = load(dir / "png" / (fs::path(file).stem().string() + ".png"));
    EXPECT_TRUE(test::identical(webp.pixels, png.pixels));
  }
}

TEST(CliPalette, CentersWritesTheImageInKColours) {
  test::TempDir dir;
  const auto centres = dir / "centres.png";
  const auto r =
      run_cli({"palette", test::photo("fruits.jpg").string(), "--palettes", baseline_palettes().string(),
               "-o", (dir / "out").string(), "--k", "6", "--centers", centres.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Image decoded = load(centres);
  EXPECT_EQ(decoded.width(), kFruitsWidth);
  EXPECT_EQ(decoded.height(), kFruitsHeight);
  const auto used = distinct_colours(decoded.pixels);
  EXPECT_LE(used.size(), 6u);
  EXPECT_GE(used.size(), 2u);
  // Its own centres are much closer to the photo than any of the fixed palettes.
  const Image original = load(test::photo("fruits.jpg"));
  const double own = test::mean_abs_diff(decoded.pixels, original.pixels);
  for (const auto& file : outputs_of("fruits"))
    EXPECT_LT(own, test::mean_abs_diff(load(dir / "out" / file).pixels, original.pixels)) << file;
}

TEST(CliPalette, MaskedPixelsBecomeTransparent) {
  test::TempDir dir;
  cv::Mat mask(kFruitsHeight, kFruitsWidth, CV_8UC1, cv::Scalar(255));
  mask.colRange(0, kFruitsWidth / 2).setTo(0);
  const auto mask_path = write_png(dir / "mask.png", mask);
  const auto r =
      run_cli({"palette", test::photo("fruits.jpg").string(), "--palettes", baseline_palettes().string(),
               "-o", (dir / "out").string(), "--mask", mask_path.string(), "--masked", "transparent"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [name, palette] : baseline_colours()) {
    SCOPED_TRACE(name);
    const Image decoded = load(dir / "out" / ("fruits-" + name + ".png"));
    ASSERT_EQ(decoded.channels(), 4);
    cv::Mat alpha;
    cv::extractChannel(decoded.pixels, alpha, 3);
    EXPECT_EQ(cv::countNonZero(alpha.colRange(0, kFruitsWidth / 2)), 0);
    EXPECT_EQ(cv::countNonZero(alpha.colRange(kFruitsWidth / 2, kFruitsWidth) != 255), 0);
    const auto used = distinct_colours(decoded.pixels.colRange(kFruitsWidth / 2, kFruitsWidth));
    EXPECT_TRUE(std::includes(palette.begin(), palette.end(), used.begin(), used.end()));
  }
  // A mask of another size is a usage error.
  const auto small = write_png(dir / "small.png", cv::Mat(8, 8, CV_8UC1, cv::Scalar(255)));
  const auto bad =
      run_cli({"palette", test::photo("fruits.jpg").string(), "--palettes", baseline_palettes().string(),
               "-o", (dir / "bad").string(), "--mask", small.string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr(small.string()));
}

TEST(CliPalette, AlphaInputKeepsItsAlpha) {
  // opencv-logo-rgba.png: flat colours on a transparent background.
  test::TempDir dir;
  const auto input = test::photo("opencv-logo-rgba.png");
  const auto r = run_cli({"palette", input.string(), "--palettes", baseline_palettes().string(), "-o",
                          (dir / "out").string(), "--k", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Image source = load(input);
  ASSERT_EQ(source.channels(), 4);
  cv::Mat alpha_in, alpha_out;
  cv::extractChannel(source.pixels, alpha_in, 3);
  const auto palettes = baseline_colours();
  const Image decoded = load(dir / "out" / "opencv-logo-rgba-pop.png");
  ASSERT_EQ(decoded.channels(), 4);
  cv::extractChannel(decoded.pixels, alpha_out, 3);
  EXPECT_TRUE(test::identical(alpha_in, alpha_out));
  // Opaque pixels are recoloured from the palette.
  const auto& pop = palettes.at("pop");
  int opaque = 0;
  for (int y = 0; y < decoded.height(); ++y)
    for (int x = 0; x < decoded.width(); ++x) {
      const auto p = decoded.pixels.at<cv::Vec4b>(y, x);
      if (p[3] == 255) {
        ++opaque;
        ASSERT_TRUE(pop.count(pack(p[0], p[1], p[2]))) << x << "," << y;
      }
    }
  EXPECT_GT(opaque, 1000);
}

TEST(CliPalette, SixteenBitInputGivesTheSameFilesAsEightBit) {
  // v * 257 is the 16-bit form of v: the outputs must be byte-identical.
  test::TempDir dir;
  const Image photo = load(test::photo("chelsea.png"));
  cv::Mat wide;
  photo.pixels.convertTo(wide, CV_16U, 257);
  const auto narrow_path = write_png(dir / "narrow.png", photo.pixels);
  const auto wide_path = write_png(dir / "wide.png", wide);
  ASSERT_EQ(probe(wide_path).bit_depth, 16);
  for (const auto& [input, folder] : {std::pair{narrow_path, "n"}, std::pair{wide_path, "w"}}) {
    const auto r = run_cli({"palette", input.string(), "--palettes", baseline_palettes().string(), "-o",
                            (dir / folder).string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const auto& file : kBaselineFiles)
    EXPECT_EQ(test::read_file(dir / "n" / ("narrow-" + file)), test::read_file(dir / "w" / ("wide-" + file)))
        << file;
}

TEST(CliPalette, BadPaletteFileIsAUsageErrorWithFileAndLine) {
  test::TempDir dir;
  const auto bad = dir / "bad.json";
  test::write_text(bad, "{\n  \"ok\": [\"#000\", \"#fff\"],\n  \"bad\": [\"#000\", \"#ggg\"]\n}\n");
  const auto out = dir / "out";
  const auto r = run_cli(
      {"palette", test::photo("fruits.jpg").string(), "--palettes", bad.string(), "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(bad.string() + ":3:"));
  EXPECT_THAT(r.err, HasSubstr("not a colour"));
  EXPECT_THAT(r.err, Not(HasSubstr("#ggg")));  // the file's contents are never quoted
  EXPECT_FALSE(fs::exists(out));

  // A palette name that would write outside the output folder.
  const auto escape = dir / "escape.json";
  test::write_text(escape, "{\"../escaped\": [\"#000\", \"#fff\"]}\n");
  const auto e = run_cli(
      {"palette", test::photo("fruits.jpg").string(), "--palettes", escape.string(), "-o", out.string()});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_THAT(e.err, HasSubstr(escape.string() + ":1:"));
  EXPECT_FALSE(fs::exists(dir / "escaped.png"));
  EXPECT_FALSE(fs::exists(dir / "fruits-escaped.png"));
}

TEST(CliPalette, MissingInputIsAnInputFailure) {
  test::TempDir dir;
  const auto missing = dir / "missing.jpg";
  const auto r = run_cli({"palette", missing.string(), "--palettes", baseline_palettes().string(), "-o",
                          (dir / "out").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(missing.string()));
}

TEST(CliExtractPalette, JsonHasKEntriesSortedByFraction) {
  const auto r = run_cli({"extract-palette", test::photo("fruits.jpg").string(), "--k", "4", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), 4u);
  double sum = 0, previous = 2;
  std::vector<std::array<double, 3>> centres;
  for (const auto& entry : json) {
    const std::string hex = entry.at("hex");
    const auto rgb = entry.at("rgb").get<std::vector<int>>();
    const auto lab = entry.at("lab").get<std::vector<double>>();
    const double fraction = entry.at("fraction");
    ASSERT_EQ(rgb.size(), 3u);
    ASSERT_EQ(lab.size(), 3u);
    EXPECT_EQ(hex, fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]));
    // rgb is the Lab centre rounded to 8 bits: half a step per channel moves Lab by well
    // under 1 unit for these colours, so 1.5 leaves room without hiding a wrong conversion.
    const auto expected = naive_lab(rgb[0], rgb[1], rgb[2]);
    EXPECT_LT(std::sqrt(distance2(expected, {lab[0], lab[1], lab[2]})), 1.5) << hex;
    EXPECT_GT(fraction, 0.0);
    EXPECT_LE(fraction, previous);
    previous = fraction;
    sum += fraction;
    centres.push_back({lab[0], lab[1], lab[2]});
  }
  // The fractions cover every pixel once; only the floating-point sum is inexact.
  EXPECT_NEAR(sum, 1.0, 1e-9);

  // Each fraction is the share of pixels nearest that centre in Lab (converted here). The
  // clustering assigns whole histogram bins, so a few pixels near a boundary may fall on
  // the other side: 1 % tolerance.
  const Image photo = load(test::photo("fruits.jpg"));
  std::vector<double> counts(4, 0);
  std::map<std::uint32_t, int> nearest_of;
  for (int y = 0; y < photo.height(); ++y)
    for (int x = 0; x < photo.width(); ++x) {
      const auto p = photo.pixels.at<cv::Vec3b>(y, x);
      const auto key = pack(p[0], p[1], p[2]);
      auto it = nearest_of.find(key);
      if (it == nearest_of.end()) {
        const auto lab = naive_lab(p[0], p[1], p[2]);
        int best = 0;
        for (int c = 1; c < 4; ++c)
          if (distance2(lab, centres[static_cast<std::size_t>(c)]) <
              distance2(lab, centres[static_cast<std::size_t>(best)]))
            best = c;
        it = nearest_of.emplace(key, best).first;
      }
      counts[static_cast<std::size_t>(it->second)] += 1;
    }
  const double total = static_cast<double>(photo.pixels.total());
  for (std::size_t c = 0; c < 4; ++c)
    EXPECT_NEAR(counts[c] / total, json[c].at("fraction").get<double>(), 0.01) << c;
}

TEST(CliExtractPalette, TextListsOneLinePerColourInTheJsonOrder) {
  const auto input = test::photo("fruits.jpg").string();
  const auto text = run_cli({"extract-palette", input, "--k", "4"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  const auto json = run_cli({"extract-palette", input, "--k", "4", "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto entries = nlohmann::json::parse(json.out);
  std::istringstream lines(text.out);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 4u) << text.out;
  double percent_sum = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto rgb = entries[i].at("rgb").get<std::vector<int>>();
    EXPECT_THAT(all[i], HasSubstr(entries[i].at("hex").get<std::string>())) << all[i];
    EXPECT_THAT(all[i], HasSubstr(fmt::format("rgb({:3}, {:3}, {:3})", rgb[0], rgb[1], rgb[2]))) << all[i];
    const auto at = all[i].rfind(')');
    const double percent = std::stod(all[i].substr(at + 1));
    // Printed with one decimal.
    EXPECT_NEAR(percent, 100.0 * entries[i].at("fraction").get<double>(), 0.051) << all[i];
    percent_sum += percent;
  }
  EXPECT_NEAR(percent_sum, 100.0, 0.2);
}
