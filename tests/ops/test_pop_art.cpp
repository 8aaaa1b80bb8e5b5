// pop_art against its documented palettes and geometry: the colours in the output are
// checked against the palette lists written out here, the lightness mapping on bands of
// known grey, the halftone coverage against the darkness of a known ramp.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

using Rgb = std::array<int, 3>;

Rgb hex(const std::string& h) {
  const int v = std::stoi(h.substr(1), nullptr, 16);
  return {(v >> 16) & 255, (v >> 8) & 255, v & 255};
}

std::set<Rgb> hex_set(std::initializer_list<const char*> list) {
  std::set<Rgb> out;
  for (const char* h : list) out.insert(hex(h));
  return out;
}

// The documented built-in palettes, in their rotation order.
const std::set<Rgb> kWarhol = hex_set({"#101010", "#e6007e", "#00a0e9", "#ffe100", "#f5f0e6"});
const std::set<Rgb> kPop = hex_set({"#1d1160", "#e4002b", "#00b140", "#ffd700", "#ffffff"});
const std::set<Rgb> kNeon = hex_set({"#14003c", "#7a00ff", "#ff00aa", "#00f0ff", "#ccff00"});
const std::set<Rgb> kPrimary = hex_set({"#000000", "#0038a8", "#d50000", "#ffd600", "#ffffff"});
const std::set<Rgb> kCandy = hex_set({"#3b0a45", "#ff3c8e", "#00c2c7", "#ffb3d9", "#fff5a5"});
const std::set<Rgb> kSunset = hex_set({"#2b0f3a", "#b3126f", "#ff5e00", "#ffc300"});

cv::Mat pop(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("pop_art", params).run(Image(pixels), Context{}).pixels;
}

Rgb at(const cv::Mat& m, int x, int y) {
  const std::uint8_t* p = m.ptr<std::uint8_t>(y) + x * m.channels();
  return {p[0], p[1], p[2]};
}

std::set<Rgb> colours(const cv::Mat& m) {
  std::set<Rgb> out;
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) out.insert(at(m, x, y));
  return out;
}

bool subset(const std::set<Rgb>& part, const std::set<Rgb>& whole) {
  for (const Rgb& c : part)
    if (!whole.count(c)) return false;
  return true;
}

cv::Mat photo(const std::string& name, cv::Size size) {
  cv::Mat small;
  cv::resize(load(test::photo(name)).pixels, small, size, 0, 0, cv::INTER_AREA);
  return small;
}

}  // namespace

TEST(PopArt, OutputHasOnlyPaletteColours) {
  const cv::Mat rgb = photo("fruits.jpg", {240, 180});
  cv::Mat wide, grey;
  rgb.convertTo(wide, CV_16U, 257.0);
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  for (const cv::Mat& in : {rgb, wide, grey}) {
    const cv::Mat out = pop(in, {});
    ASSERT_EQ(out.type(), CV_8UC3);  // 16-bit and grey input both give 8-bit RGB
    ASSERT_EQ(out.size(), in.size());
    const auto used = colours(out);
    EXPECT_TRUE(subset(used, kWarhol)) << "depth " << in.depth() << ", " << in.channels() << " channels";
    EXPECT_GE(used.size(), 4u);  // a photo spreads over the palette
  }
  const auto own = hex_set({"#112233", "#ff8800", "#eeeeee"});
  EXPECT_TRUE(subset(colours(pop(rgb, {{"colors", "#112233,#ff8800,#eeeeee"}})), own));
  EXPECT_TRUE(subset(colours(pop(rgb, {{"palette", "primary"}})), kPrimary));
}

TEST(PopArt, MapsClustersToPaletteColoursByLightness) {
  // Five bands of known grey; the palette is given out of lightness order. By CIE L*:
  // black 0 < blue 32.3 < red 53.2 < yellow 97.1 < white 100.
  cv::Mat bands(40, 100, CV_8UC3);
  const int greys[] = {20, 70, 120, 170, 230};
  for (int b = 0; b < 5; ++b) bands.colRange(b * 20, b * 20 + 20).setTo(cv::Scalar::all(greys[b]));
  const cv::Mat out = pop(bands, {{"colors", "#ffff00,#0000ff,#ffffff,#ff0000,#000000"}});
  const char* expected[] = {"#000000", "#0000ff", "#ff0000", "#ffff00", "#ffffff"};
  for (int b = 0; b < 5; ++b)
    EXPECT_EQ(colours(out.colRange(b * 20, b * 20 + 20)), std::set<Rgb>{hex(expected[b])}) << "band " << b;
  // A built-in palette, listed darkest first (L* 0, 28.5, 44.4, 86.7, 100).
  const cv::Mat primary = pop(bands, {{"palette", "primary"}});
  const char* primary_order[] = {"#000000", "#0038a8", "#d50000", "#ffd600", "#ffffff"};
  for (int b = 0; b < 5; ++b)
    EXPECT_EQ(colours(primary.colRange(b * 20, b * 20 + 20)), std::set<Rgb>{hex(primary_order[b])})
        << "band " << b;
}

TEST(PopArt, GridPanelsShareOneClusteringWithTheirOwnPalettes) {
  const cv::Mat in = photo("chelsea.png", {300, 200});
  const cv::Mat out = pop(in, {{"grid", "2x2"}});
  ASSERT_EQ(out.size(), in.size());
  const cv::Rect slots[] = {{0, 0, 150, 100}, {150, 0, 150, 100}, {0, 100, 150, 100}, {150, 100, 150, 100}};
  // Rotation from warhol through the documented order.
  const std::set<Rgb>* palettes[] = {&kWarhol, &kPop, &kNeon, &kPrimary};
  for (int q = 0; q < 4; ++q) {
    const auto used = colours(out(slots[q]));
    EXPECT_TRUE(subset(used, *palettes[q])) << "panel " << q;
    EXPECT_GE(used.size(), 3u) << "panel " << q;
  }
  // One clustering: a pixel's colour in panel 0 decides its colour in every other panel.
  for (int q = 1; q < 4; ++q) {
    std::map<Rgb, Rgb> mapping;
    bool consistent = true;
    for (int y = 0; y < 100; ++y)
      for (int x = 0; x < 150; ++x) {
        const Rgb a = at(out, x, y), b = at(out, slots[q].x + x, slots[q].y + y);
        consistent = consistent && mapping.emplace(a, b).first->second == b;
      }
    EXPECT_TRUE(consistent) << "panel " << q;
  }
  // Each panel is the image shrunk to half size: its darkest colour sits where the shrunk
  // image is dark (here: mean luma of the panel's darkest-colour pixels below the panel mean).
  cv::Mat half, luma;
  cv::resize(in, half, {150, 100}, 0, 0, cv::INTER_AREA);
  cv::cvtColor(half, luma, cv::COLOR_RGB2GRAY);
  const cv::Mat darkest = out(slots[0]) == cv::Scalar(0x10, 0x10, 0x10);
  cv::Mat mask;
  cv::cvtColor(darkest, mask, cv::COLOR_RGB2GRAY);
  mask = mask == 255;
  ASSERT_GT(cv::countNonZero(mask), 0);
  EXPECT_LT(cv::mean(luma, mask)[0], cv::mean(luma)[0] - 20);

  // More panels than pixels: the slots still tile the image.
  const cv::Mat tiny = test::make_image(3, 2, 3, CV_8U, 2);
  const cv::Mat tiled = pop(tiny, {{"grid", "4x4"}});
  EXPECT_EQ(tiled.size(), tiny.size());
  auto any_builtin = kWarhol;
  for (const auto* p : {&kPop, &kNeon, &kPrimary, &kCandy, &kSunset})
    any_builtin.insert(p->begin(), p->end());
  EXPECT_TRUE(subset(colours(tiled), any_builtin));
  // An uneven size still fills the input size exactly.
  EXPECT_EQ(pop(photo("chelsea.png", {301, 203}), {{"grid", "3x2"}}).size(), cv::Size(301, 203));
}

TEST(PopArt, GivenColoursAreHueRotatedPerPanel) {
  const cv::Mat in = photo("baboon.jpg", {200, 200});
  const cv::Mat out = pop(in, {{"colors", "#000000,#ff0000,#ffffff"}, {"grid", "2x1"}});
  const auto left = colours(out(cv::Rect(0, 0, 100, 200))), right = colours(out(cv::Rect(100, 0, 100, 200)));
  EXPECT_TRUE(subset(left, hex_set({"#000000", "#ff0000", "#ffffff"})));
  // The second panel turns hues by 180 degrees: black and white have no hue and stay; red
  // becomes a cyan-ish colour (green and blue above red).
  EXPECT_TRUE(right.count(hex("#000000")) && right.count(hex("#ffffff")));
  ASSERT_EQ(right.size(), 3u);
  for (const Rgb& c : right)
    if (c != hex("#000000") && c != hex("#ffffff")) {
      EXPECT_TRUE(c[1] > c[0] && c[2] > c[0]) << c[0] << "," << c[1] << "," << c[2];
    }
}

TEST(PopArt, HalftoneCoverageFollowsDarkness) {
  // Light on the left, dark on the right: value 255 - x.
  cv::Mat ramp(64, 256, CV_8UC3);
  for (int x = 0; x < 256; ++x) ramp.col(x).setTo(cv::Scalar::all(255 - x));
  const cv::Mat out =
      pop(ramp, {{"palette", "primary"}, {"halftone", true}, {"dot_size", 16}, {"background", "#00ff00"}});
  auto allowed = kPrimary;
  allowed.insert(hex("#00ff00"));
  EXPECT_TRUE(subset(colours(out), allowed));
  double previous = -1;
  for (int c = 0; c < 16; ++c) {
    int background = 0;
    for (int y = 0; y < out.rows; ++y)
      for (int x = c * 16; x < c * 16 + 16; ++x) background += at(out, x, y) == hex("#00ff00") ? 1 : 0;
    const double coverage = 1.0 - background / (16.0 * out.rows);
    const double darkness = 1.0 - (255.0 - 16 * c - 7.5) / 255.0;
    EXPECT_GE(coverage, previous) << "cell column " << c;
    // A disc drawn on whole pixels of a 16 px cell: each ring of pixels that enters at once
    // is up to ~3 % of the cell, so 0.05. Beyond darkness pi/4 the disc is cut by the cell.
    if (darkness < 0.75) {
      EXPECT_NEAR(coverage, darkness, 0.05) << "cell column " << c;
    }
    previous = coverage;
  }
  EXPECT_GT(previous, 0.9);
}

TEST(PopArt, AlphaIsKept) {
  const cv::Mat logo = load(test::photo("opencv-logo-rgba.png")).pixels;
  ASSERT_EQ(logo.channels(), 4);
  cv::Mat rgba;
  cv::resize(logo, rgba, {160, 200}, 0, 0, cv::INTER_NEAREST);
  cv::Mat ga(rgba.size(), CV_8UC2), wide;
  const int from_to[] = {1, 0, 3, 1};
  cv::mixChannels(&rgba, 1, &ga, 1, from_to, 2);
  rgba.convertTo(wide, CV_16U, 257.0);
  for (const cv::Mat& in : {rgba, ga, wide})
    for (const char* grid : {"1x1", "2x2"}) {
      const cv::Mat out = pop(in, {{"grid", grid}});
      ASSERT_EQ(out.type(), CV_8UC4);
      cv::Mat a_in, a_out, a8;
      cv::extractChannel(in, a_in, in.channels() - 1);
      cv::extractChannel(out, a_out, 3);
      if (std::string(grid) == "1x1") {
        // 16-bit alpha becomes a / 257 rounded: exact for values that were 8-bit * 257.
        a_in.convertTo(a8, CV_8U, in.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
        EXPECT_TRUE(test::identical(a_out, a8)) << in.channels() << " channels";
      } else {
        // Panels are shrunk: the alpha is the shrunk alpha, so the panel keeps the logo's
        // transparent surround (the top-left corner of the logo is transparent).
        EXPECT_EQ(a_out.at<std::uint8_t>(0, 0), 0);
        EXPECT_EQ(a_out.at<std::uint8_t>(0, 80), a_out.at<std::uint8_t>(0, 0));
      }
      // Visible pixels carry palette colours only.
      std::set<Rgb> visible;
      for (int y = 0; y < out.rows; ++y)
        for (int x = 0; x < out.cols; ++x)
          if (out.at<cv::Vec4b>(y, x)[3] > 0) visible.insert(at(out, x, y));
      EXPECT_TRUE(subset(
          visible, std::string(grid) == "1x1" ? kWarhol : [] {
            std::set<Rgb> all = kWarhol;
            for (const auto* p : {&kPop, &kNeon, &kPrimary}) all.insert(p->begin(), p->end());
            return all;
          }()));
    }
}

TEST(PopArt, ConfigErrors) {
  const std::string unknown = test::config_error([] { Chain().then("pop_art", {{"palette", "warhole"}}); });
  EXPECT_NE(unknown.find("did you mean \"warhol\""), std::string::npos) << unknown;
  EXPECT_NE(test::config_error([] {
              Chain().then("pop_art", {{"grid", "5x1"}});
            }).find("grid"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("pop_art", {{"grid", "2by2"}});
            }).find("grid"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("pop_art", {{"colors", "#000,nope"}});
            }).find("nope"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("pop_art", {{"colors", "#000"}});
            }).find("2..16"),
            std::string::npos);
}
