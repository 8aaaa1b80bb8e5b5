// What a process loads: libvips (and the ~100 libraries Debian builds it against) only when a
// job needs it — not for JPEG in and JPEG, WebP or PNG out, which imgpipe decodes and encodes
// itself.
// The dynamic loader's own report (LD_DEBUG=files) of the real binary says which libraries it
// loaded, and why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

namespace fs = std::filesystem;

class CliStartup : public ::testing::Test {
 protected:
  void SetUp() override {
#ifndef IMGPIPE_LAZY_VIPS
    GTEST_SKIP() << "built with IMGPIPE_LAZY_VIPS=OFF: libimgpipe links libvips, every process loads it";
#endif
    test::write_text(chain_, "chain:\n  - resize: {width: 64}\n");
  }

  // stderr of the command with the loader's report.
  std::string loaded(const std::vector<std::string>& args) {
    const auto r = run_cli(args, "", {"LD_DEBUG=files"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.err;
  }

  test::TempDir dir_;
  fs::path chain_ = dir_ / "chain.yml";
};

TEST_F(CliStartup, JpegToWebpDoesNotLoadLibvips) {
  // fruits.jpg has no ICC profile: nothing here needs libvips.
  const fs::path out = dir_ / "out.webp";
  const std::string report =
      loaded({"run", chain_.string(), test::photo("fruits.jpg").string(), out.string()});
  EXPECT_THAT(report, HasSubstr("libjpeg")) << "the report lists what was loaded";
  EXPECT_THAT(report, Not(HasSubstr("libvips.so")));
  EXPECT_TRUE(fs::exists(out));
  const std::string info = loaded({"info", test::photo("baboon.jpg").string()});
  EXPECT_THAT(info, Not(HasSubstr("libvips.so")));
}

TEST_F(CliStartup, JpegToJpegOrPngDoesNotLoadLibvips) {
  // libjpeg-turbo and libpng encode in-memory JPEG and PNG outputs, metadata kept or not.
  for (const char* metadata : {"strip", "keep"}) {
    const fs::path chain = dir_ / "jpeg.yml", out = dir_ / "out.jpg", png = dir_ / "out.png";
    test::write_text(chain, std::string("chain:\n  - resize: {width: 64}\noutput:\n  metadata: ") + metadata +
                                "\n  progressive: true\n");
    const std::string report =
        loaded({"run", chain.string(), test::photo("baboon.jpg").string(), out.string()});
    EXPECT_THAT(report, Not(HasSubstr("libvips.so"))) << metadata;
    EXPECT_TRUE(fs::exists(out)) << metadata;
    // Truecolour (a photo has more than 256 colours) and 16-bit grey.
    EXPECT_THAT(loaded({"run", chain.string(), test::photo("baboon.jpg").string(), png.string()}),
                Not(HasSubstr("libvips.so")))
        << metadata;
    EXPECT_TRUE(fs::exists(png)) << metadata;
  }
}

TEST_F(CliStartup, PaletteOfAJpegDoesNotLoadLibvips) {
  const fs::path palettes =
      test::photo("fruits.jpg").parent_path().parent_path() / "baselines" / "palettes.json";
  const std::string report = loaded({"palette", test::photo("fruits.jpg").string(), "--palettes",
                                     palettes.string(), "-o", (dir_ / "palette").string()});
  EXPECT_THAT(report, Not(HasSubstr("libvips.so")));
  EXPECT_FALSE(fs::is_empty(dir_ / "palette"));
}

TEST_F(CliStartup, LibvipsIsLoadedWhenAJobNeedsIt) {
  // A PNG input, a JPEG with an ICC profile to convert, TIFF output, a streamed PNG output:
  // libvips's work, loaded then — by libimgpipe, on first use.
  const std::vector<std::vector<std::string>> jobs = {
      {"run", chain_.string(), test::photo("coffee.png").string(), (dir_ / "a.webp").string()},
      {"run", chain_.string(), test::photo("rocket.jpg").string(), (dir_ / "b.webp").string()},
      {"run", chain_.string(), test::photo("fruits.jpg").string(), (dir_ / "c.tif").string()},
      {"run", chain_.string(), test::photo("fruits.jpg").string(), (dir_ / "d.png").string(), "--stream"},
  };
  for (const auto& job : jobs) {
    const std::string report = loaded(job);
    EXPECT_THAT(report, HasSubstr("libvips.so")) << job[2] << " -> " << job[3];
    EXPECT_THAT(report, HasSubstr("dynamically loaded by")) << "loaded on first use, not at start";
  }
}

}  // namespace
