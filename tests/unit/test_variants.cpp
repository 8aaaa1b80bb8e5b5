// Variant output names, and `imgpipe run` writing one file per variant.
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;

TEST(VariantPath, UnnamedVariantIsTheOutputItself) {
  EXPECT_EQ(variant_path("out/photo.png", ""), "out/photo.png");
}

TEST(VariantPath, SuffixBeforeTheExtension) {
  EXPECT_EQ(variant_path("out/photo.png", "sunset"), "out/photo-sunset.png");
  EXPECT_EQ(variant_path("photo", "sunset"), "photo-sunset");
}

TEST(VariantPath, MarkerIsReplaced) {
  EXPECT_EQ(variant_path("out/{variant}/photo.png", "sunset"),
            "out/{variant}/photo-sunset.png");  // only the file name
  EXPECT_EQ(variant_path("out/photo_{variant}.webp", "sunset"), "out/photo_sunset.webp");
}

TEST(RunVariants, CliWritesOneFilePerVariant) {
  test::TempDir dir;
  test::write_text(
      dir / "p.json",
      R"({"warm": ["#200000", "#a04000", "#ffd080"], "cool": ["#000020", "#0040a0", "#80d0ff"]})");
  test::write_text(dir / "chain.yaml", "chain:\n  - palette: {palettes: " + (dir / "p.json").string() +
                                           ", k: 3}\n  - border: {size: 4}\n");
  const auto r = test::run_cli({"run", (dir / "chain.yaml").string(), test::photo("fruits.jpg").string(),
                                (dir / "fruit.png").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* name : {"fruit-warm.png", "fruit-cool.png"}) {
    ASSERT_TRUE(fs::exists(dir / name)) << name;
    const Image out = load(dir / name);
    EXPECT_EQ(out.width(), 512 + 8);
    EXPECT_EQ(out.height(), 480 + 8);
  }
  EXPECT_FALSE(fs::exists(dir / "fruit.png"));
  const auto to_stdout = test::run_cli(
      {"run", (dir / "chain.yaml").string(), test::photo("fruits.jpg").string(), "-", "--format", "png"});
  EXPECT_EQ(to_stdout.exit_code, 2);
  EXPECT_NE(to_stdout.err.find("2 variants"), std::string::npos) << to_stdout.err;
}
