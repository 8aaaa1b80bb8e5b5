// The analysis cache: a bounded LRU of analyses by key, and the palette step that keeps its
// clustering there so the same photo with other palettes skips the clustering. The reference
// is the same chain run without a cache: the results must be identical.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <imgpipe/imgpipe.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace imgpipe::test {
namespace {

using ::testing::HasSubstr;

TEST(AnalysisCache, KeepsTheMostRecentlyUsedWithinItsBytes) {
  AnalysisCache cache(100);
  cache.put("a", std::make_shared<const int>(1), 40);
  cache.put("b", std::make_shared<const int>(2), 40);
  ASSERT_NE(cache.find<int>("a"), nullptr);  // a is now the most recently used
  cache.put("c", std::make_shared<const int>(3), 40);
  EXPECT_EQ(cache.find<int>("b"), nullptr) << "the least recently used goes";
  EXPECT_EQ(*cache.find<int>("a"), 1);
  EXPECT_EQ(*cache.find<int>("c"), 3);
  EXPECT_EQ(cache.bytes(), 80u);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.hits(), 3u);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(AnalysisCache, ReplacesAKeyAndRefusesWhatIsLargerThanItAll) {
  AnalysisCache cache(100);
  cache.put("a", std::make_shared<const int>(1), 40);
  cache.put("a", std::make_shared<const int>(2), 60);
  EXPECT_EQ(*cache.find<int>("a"), 2);
  EXPECT_EQ(cache.bytes(), 60u);
  cache.put("huge", std::make_shared<const int>(3), 101);
  EXPECT_EQ(cache.find<int>("huge"), nullptr);
  EXPECT_EQ(cache.bytes(), 60u) << "nothing was evicted for a value that cannot fit";
  AnalysisCache none(0);
  none.put("a", std::make_shared<const int>(1), 1);
  EXPECT_EQ(none.entries(), 0u);
}

TEST(AnalysisCache, AValueOfAnotherTypeIsAMiss) {
  AnalysisCache cache(100);
  cache.put("a", std::make_shared<const int>(1), 4);
  EXPECT_EQ(cache.find<double>("a"), nullptr);
  EXPECT_EQ(cache.misses(), 1u);
}

TEST(PixelDigest, DependsOnThePixelsAndShapeNotOnTheStep) {
  const cv::Mat image = make_image(64, 48, 3);
  const cv::Mat big = make_image(100, 100, 3, CV_8U, 7);
  cv::Mat roi = big(cv::Rect(10, 10, 64, 48));
  image.copyTo(roi);
  EXPECT_EQ(pixel_digest(image), pixel_digest(roi)) << "a view with another step holds the same pixels";
  cv::Mat changed = image.clone();
  changed.at<cv::Vec3b>(47, 63)[2] ^= 1;
  EXPECT_NE(pixel_digest(image), pixel_digest(changed));
  EXPECT_NE(pixel_digest(image), pixel_digest(image.reshape(3, 32)));
  EXPECT_EQ(pixel_digest(image).size(), 32u);
}

std::vector<Variant> run_palettes(const Image& image, const std::string& colors, int k,
                                  AnalysisCache* cache) {
  Context context;
  context.analysis_cache = cache;
  return Chain().then("palette", {{"colors", colors}, {"k", k}}).run_variants(image, context);
}

void expect_same_variants(const std::vector<Variant>& a, const std::vector<Variant>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_TRUE(identical(a[i].image.pixels, b[i].image.pixels)) << a[i].name;
  }
}

// Small photos are clustered directly, large ones on a sampled grid: both through the cache.
TEST(PaletteStepCache, OtherPalettesOnTheSamePhotoReuseTheClusteringAndGiveTheSameImages) {
  const std::string first = R"({"sea": ["#1d3557", "#457b9d", "#f1faee"], "sun": ["#2b1b3f", "#fbe3a1"]})";
  const std::string second = R"({"moss": ["#142613", "#5c7f3a", "#e9edc9"]})";
  for (const char* name : {"fruits.jpg", "autumn-2560x1600.jpg", "coffee.png"}) {
    SCOPED_TRACE(name);
    const Image image = load(photo(name));
    AnalysisCache cache(256 << 20);
    expect_same_variants(run_palettes(image, first, 8, &cache), run_palettes(image, first, 8, nullptr));
    EXPECT_EQ(cache.misses(), 1u);
    expect_same_variants(run_palettes(image, second, 8, &cache), run_palettes(image, second, 8, nullptr));
    EXPECT_EQ(cache.hits(), 1u);
    run_palettes(image, second, 9, &cache);
    EXPECT_EQ(cache.misses(), 2u) << "another k is another clustering";
    EXPECT_EQ(cache.entries(), 2u);
  }
}

TEST(PaletteStepCache, AnotherPhotoIsAnotherClustering) {
  AnalysisCache cache(256 << 20);
  const std::string colors = R"({"duo": ["#000000", "#ffffff"]})";
  run_palettes(load(photo("fruits.jpg")), colors, 4, &cache);
  Image other = load(photo("fruits.jpg"));
  other.pixels = other.pixels.clone();
  other.pixels.at<cv::Vec3b>(0, 0) = cv::Vec3b(0, 0, 0);
  run_palettes(other, colors, 4, &cache);
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(PaletteColours, SeveralPalettesInlineAsJsonAreWhatTheFileGives) {
  const TempDir dir;
  const std::string json = R"({"sea": ["#1d3557", "#457b9d", "#f1faee"], "sun": ["#2b1b3f", "#fbe3a1"]})";
  write_text(dir.path() / "p.json", json);
  const Image image = load(photo("rocket.jpg"));
  Context context;
  const auto inline_json = Chain().then("palette", {{"colors", json}, {"k", 6}}).run_variants(image, context);
  const auto from_file = Chain()
                             .then("palette", {{"palettes", (dir.path() / "p.json").string()}, {"k", 6}})
                             .run_variants(image, context);
  expect_same_variants(inline_json, from_file);
  EXPECT_THAT(config_error([] {
                Chain().then("palette", {{"colors", R"({"a": ["#zz0000"]})"}});
              }),
              HasSubstr("colors"));
  EXPECT_EQ(parse_palettes(json, "request").size(), 2u);
  EXPECT_THAT(config_error([] { parse_palettes("{oops", "request"); }), HasSubstr("request"));
}

}  // namespace
}  // namespace imgpipe::test
