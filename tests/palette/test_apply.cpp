// Clustering::apply and friends: palette mapping rules, masks, shading, indexed output.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>
#include <set>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// Five horizontal bands of distinct lightness, darkest at the top.
cv::Mat bands(int n = 5) {
  cv::Mat px(20 * n, 40, CV_8UC3);
  for (int i = 0; i < n; ++i) {
    const auto v = static_cast<std::uint8_t>(20 + i * 200 / std::max(1, n - 1));
    px(cv::Rect(0, 20 * i, 40, 20)).setTo(cv::Scalar(v, static_cast<std::uint8_t>(v / 2), 30));
  }
  return px;
}

Colour at(const Image& image, int y, int x) {
  const auto* p = image.pixels.ptr<std::uint8_t>(y) + image.channels() * x;
  return {p[0], p[1], p[2], image.channels() == 4 ? p[3] : std::uint8_t{255}};
}

ClusterOptions k_of(int k) {
  ClusterOptions o;
  o.k = k;
  return o;
}

const Palette kGreys{"greys", {{250, 250, 250, 255}, {10, 10, 10, 255}, {130, 130, 130, 255}}};  // unsorted

}  // namespace

TEST(ApplyPalette, LightnessRanksMatchDarkestToLightest) {
  const Clustering c = cluster(Image(bands(3)), k_of(3));
  const Image out = c.apply(kGreys);
  EXPECT_EQ(at(out, 5, 5), (Colour{10, 10, 10, 255}));  // darkest band → darkest colour
  EXPECT_EQ(at(out, 25, 5), (Colour{130, 130, 130, 255}));
  EXPECT_EQ(at(out, 45, 5), (Colour{250, 250, 250, 255}));  // lightest band → lightest colour
}

TEST(ApplyPalette, FewerColoursThanClustersShareByRank) {
  // K = 5 clusters, P = 3 colours: rank r → colour r*P/K = 0,0,1,1,2 (the baseline's rule).
  const Clustering c = cluster(Image(bands(5)), k_of(5));
  const auto table = c.colour_table(kGreys);
  ASSERT_EQ(table.size(), 5u);
  const std::vector<std::uint8_t> expected = {10, 10, 130, 130, 250};
  for (std::size_t r = 0; r < 5; ++r) EXPECT_EQ(table[r].r, expected[r]) << "rank " << r;
}

TEST(ApplyPalette, MoreColoursThanClustersSpreadOverTheRange) {
  // K = 2, P = 3: both ends of the palette are used.
  const Clustering c = cluster(Image(bands(2)), k_of(2));
  const auto table = c.colour_table(kGreys);
  EXPECT_EQ(table[0].r, 10);
  EXPECT_EQ(table[1].r, 250);
}

TEST(ApplyPalette, NearestAndExplicitMappings) {
  const Clustering c = cluster(Image(bands(3)), k_of(3));
  ApplyOptions nearest;
  nearest.mapping = ApplyOptions::Mapping::nearest;
  const Palette hues{"hues", {{255, 0, 0, 255}, {0, 0, 255, 255}, {120, 60, 30, 255}}};
  const auto table = c.colour_table(hues, nearest);
  for (std::size_t i = 0; i < table.size(); ++i) {
    // Independent check: the table entry is the palette colour closest in Lab.
    const Lab centre = c.centres_lab()[i];
    double best = 1e30;
    Colour best_colour;
    for (const auto& colour : hues.colours)
      if (lab_distance2(centre, srgb_to_lab(colour)) < best)
        best = lab_distance2(centre, srgb_to_lab(colour)), best_colour = colour;
    EXPECT_EQ(table[i], best_colour);
  }
  ApplyOptions explicit_map;
  explicit_map.mapping = ApplyOptions::Mapping::explicit_map;
  explicit_map.explicit_map = {2, 2, 0};
  const auto mapped = c.colour_table(kGreys, explicit_map);
  EXPECT_EQ(mapped[0].r, 130);
  EXPECT_EQ(mapped[2].r, 250);
  explicit_map.explicit_map = {0, 1};
  EXPECT_THROW(c.colour_table(kGreys, explicit_map), Error);
  explicit_map.explicit_map = {0, 1, 7};
  EXPECT_THROW(c.colour_table(kGreys, explicit_map), Error);
  EXPECT_THROW(c.colour_table(Palette{"empty", {}}), Error);
}

TEST(ApplyPalette, EveryPixelGetsItsClustersColour) {
  Image photo = load(test::photo("fruits.jpg"));
  const Clustering c = cluster(photo, k_of(6));
  const Palette six{"six",
                    {{0, 0, 0, 255},
                     {50, 0, 0, 255},
                     {100, 50, 0, 255},
                     {150, 100, 50, 255},
                     {200, 150, 100, 255},
                     {255, 255, 255, 255}}};
  const auto table = c.colour_table(six);
  const Image out = c.apply(six);
  for (int y = 0; y < out.height(); y += 3)
    for (int x = 0; x < out.width(); x += 3) {
      const auto label = c.labels().at<std::uint8_t>(y, x);
      ASSERT_EQ(at(out, y, x), table[label]) << y << "," << x;
    }
  EXPECT_FALSE(out.has_alpha());
}

TEST(ApplyPalette, MaskModes) {
  cv::Mat px(32, 64, CV_8UC3);
  px(cv::Rect(0, 0, 32, 32)).setTo(cv::Scalar(200, 40, 40));
  px(cv::Rect(32, 0, 32, 32)).setTo(cv::Scalar(40, 40, 200));
  cv::randu(px(cv::Rect(0, 0, 16, 32)), 0, 255);  // the masked area: random, must stay as is
  cv::Mat mask(px.size(), CV_8UC1, cv::Scalar(255));
  mask(cv::Rect(0, 0, 16, 32)).setTo(0);
  ClusterOptions o = k_of(2);
  o.mask = mask;
  const Image input(px);
  const Clustering c = cluster(input, o);
  ApplyOptions keep;
  const Image kept = c.apply(kGreys, keep);
  EXPECT_TRUE(test::identical(kept.pixels(cv::Rect(0, 0, 16, 32)), px(cv::Rect(0, 0, 16, 32))));
  EXPECT_EQ(kept.indexed, nullptr);  // original pixels vary: not a table look-up
  ApplyOptions transparent;
  transparent.mask_mode = MaskMode::transparent;
  const Image clear = c.apply(kGreys, transparent);
  ASSERT_EQ(clear.channels(), 4);
  EXPECT_EQ(at(clear, 3, 3).a, 0);
  EXPECT_EQ(at(clear, 3, 40).a, 255);
  ApplyOptions fill;
  fill.mask_mode = MaskMode::fill;
  fill.fill = {1, 2, 3, 255};
  EXPECT_EQ(at(c.apply(kGreys, fill), 3, 3), (Colour{1, 2, 3, 255}));
}

TEST(ApplyPalette, SourceAlphaIsKept) {
  Image logo = load(test::photo("logo.png"));
  ASSERT_EQ(logo.channels(), 4);
  const Clustering c = cluster(logo, k_of(4));
  const Image out = c.apply(kGreys);
  ASSERT_EQ(out.channels(), 4);
  std::vector<cv::Mat> in_planes, out_planes;
  cv::split(logo.pixels, in_planes);
  cv::split(out.pixels, out_planes);
  EXPECT_TRUE(test::identical(in_planes[3], out_planes[3]));
}

TEST(ApplyPalette, PreserveShadingKeepsLuminanceDetail) {
  // One cluster's worth of a smooth ramp: without shading it is flat, with shading the ramp's
  // luminance steps survive.
  cv::Mat px(10, 64, CV_8UC3);
  for (int x = 0; x < 64; ++x) px.col(x).setTo(cv::Scalar(100 + x / 2, 100 + x / 2, 100 + x / 2));
  const Clustering c = cluster(Image(px), k_of(1));
  const Palette one{"one", {{50, 100, 150, 255}}};
  const Image flat = c.apply(one);
  ApplyOptions shading;
  shading.preserve_shading = true;
  const Image shaded = c.apply(one, shading);
  EXPECT_EQ(at(flat, 0, 0), at(flat, 0, 63));
  const int left = at(shaded, 0, 0).g, right = at(shaded, 0, 63).g;
  EXPECT_NEAR(right - left, 31, 2);  // the input's luminance rises by 31 levels across
  EXPECT_EQ(shaded.indexed, nullptr);
}

TEST(ApplyPalette, CentresRecolourWithOwnCentre) {
  Image photo = load(test::photo("chelsea.png"));
  const Clustering c = cluster(photo, k_of(5));
  const Image q = c.apply_centres();
  std::set<std::uint32_t> colours;
  for (int y = 0; y < q.height(); ++y)
    for (int x = 0; x < q.width(); ++x) {
      const Colour p = at(q, y, x);
      colours.insert(static_cast<std::uint32_t>(p.r << 16 | p.g << 8 | p.b));
      ASSERT_EQ(p, c.centres_rgb()[c.labels().at<std::uint8_t>(y, x)]);
    }
  EXPECT_LE(colours.size(), 5u);
}

TEST(ApplyPalette, IndexedPngDecodesToTheSamePixelsAndSharesItsIndexStream) {
  Image photo = load(test::photo("coffee.png"));
  const Clustering c = cluster(photo, k_of(10));
  const Palette warm{"warm",
                     {{40, 10, 5, 255}, {120, 60, 20, 255}, {200, 150, 90, 255}, {250, 230, 200, 255}}};
  for (const Palette* p : {&kGreys, &warm}) {
    const Image rgb = c.apply(*p);
    ASSERT_NE(rgb.indexed, nullptr);
    const auto png = encode_indexed_png(*c.apply_indexed(*p), 1);
    EXPECT_EQ(png[25], 3);  // IHDR colour type: palette
    const Image decoded = load_buffer(png, "indexed.png");
    EXPECT_TRUE(test::identical(decoded.pixels, rgb.pixels)) << p->name;
  }
  // Both variants carry the same compressed index stream: the files differ only in PLTE.
  const auto a = encode_indexed_png(*c.apply_indexed(kGreys), 1);
  const auto b = encode_indexed_png(*c.apply_indexed(warm), 1);
  EXPECT_EQ(a.size(), b.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) differing += a[i] != b[i];
  EXPECT_LE(differing, 3u * 10 + 4);  // at most the colour table bytes and its CRC
}

TEST(ExtractPalette, DominantColoursSortedByShare) {
  cv::Mat px(100, 100, CV_8UC3, cv::Scalar(10, 200, 10));
  px(cv::Rect(0, 0, 100, 30)).setTo(cv::Scalar(200, 10, 10));
  px(cv::Rect(0, 90, 100, 10)).setTo(cv::Scalar(10, 10, 200));
  const auto colours = extract_palette(Image(px), 3);
  ASSERT_EQ(colours.size(), 3u);
  EXPECT_EQ(colours[0].colour, (Colour{10, 200, 10, 255}));
  EXPECT_NEAR(colours[0].fraction, 0.6, 1e-9);
  EXPECT_EQ(colours[1].colour, (Colour{200, 10, 10, 255}));
  EXPECT_NEAR(colours[1].fraction, 0.3, 1e-9);
  EXPECT_NEAR(colours[2].fraction, 0.1, 1e-9);
}
