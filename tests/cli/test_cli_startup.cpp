// What a process loads: libvips (and the ~100 libraries Debian builds it against) only when a
// job needs it — not for JPEG, PNG or WebP in and JPEG, WebP or PNG out, which imgpipe decodes
// and encodes itself.
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

TEST_F(CliStartup, PngOrWebpInputOrAnIccProfileDoesNotLoadLibvips) {
  // libpng and libwebp decode them as libvips would (io/direct_decode.hpp), lcms2 converts
  // an embedded profile (io/icc.hpp; astronaut.png and rocket.jpg have one). The WebP is made
  // by a first run, from a PNG.
  const fs::path webp = dir_ / "made.webp", out = dir_ / "out.jpg";
  EXPECT_THAT(loaded({"run", chain_.string(), test::photo("rocket.jpg").string(), out.string()}),
              Not(HasSubstr("libvips.so")));
  for (const char* png : {"coffee.png", "opencv-logo-rgba.png", "astronaut.png"}) {
    EXPECT_THAT(loaded({"run", chain_.string(), test::photo(png).string(), webp.string()}),
                Not(HasSubstr("libvips.so")))
        << png;
    EXPECT_THAT(loaded({"run", chain_.string(), webp.string(), out.string()}), Not(HasSubstr("libvips.so")))
        << png;
    EXPECT_TRUE(fs::exists(out));
    EXPECT_THAT(loaded({"info", webp.string()}), Not(HasSubstr("libvips.so")));
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
  // A TIFF and a GIF input, TIFF output, a streamed PNG output: libvips's work, loaded then —
  // by libimgpipe, on first use.
  const std::vector<std::vector<std::string>> jobs = {
      {"run", chain_.string(), test::photo("chessboard_GRAY_U16.tif").string(), (dir_ / "a.webp").string()},
      {"run", chain_.string(), test::photo("no_time_for_that_tiny.gif").string(), (dir_ / "b.webp").string()},
      {"run", chain_.string(), test::photo("fruits.jpg").string(), (dir_ / "c.tif").string()},
      {"run", chain_.string(), test::photo("fruits.jpg").string(), (dir_ / "d.png").string(), "--stream"},
  };
  for (const auto& job : jobs) {
    const std::string report = loaded(job);
    EXPECT_THAT(report, HasSubstr("libvips.so")) << job[2] << " -> " << job[3];
    EXPECT_THAT(report, HasSubstr("dynamically loaded by")) << "loaded on first use, not at start";
  }
}

TEST_F(CliStartup, WithoutLibvipsJpegPngAndWebpWorkAndTheRestSaysWhatIsMissing) {
  // IMGPIPE_VIPS_LIBRARY=none: an installation without libvips (or one that must not load it).
  const std::vector<std::string> none = {"IMGPIPE_VIPS_LIBRARY=none"};
  const fs::path webp = dir_ / "a.webp", png = dir_ / "b.png", jpeg = dir_ / "c.jpg";
  for (const auto& [in, out] : std::vector<std::pair<fs::path, fs::path>>{{test::photo("fruits.jpg"), webp},
                                                                          {webp, png},
                                                                          {png, jpeg},
                                                                          {test::photo("logo.png"), webp},
                                                                          {test::photo("astronaut.png"), png},
                                                                          {test::photo("rocket.jpg"), png}}) {
    const auto r = run_cli({"run", chain_.string(), in.string(), out.string()}, "", none);
    EXPECT_EQ(r.exit_code, 0) << in << " -> " << out << ": " << r.err;
  }
  EXPECT_EQ(test::read_file(jpeg).size() > 0, true);

  // A TIFF or GIF input, TIFF output, text: an error naming the file and what is missing,
  // exit code 1, nothing written, no crash.
  test::write_text(dir_ / "text.yml", "chain:\n  - watermark: {text: imgpipe}\n");
  const std::vector<std::vector<std::string>> jobs = {
      {"run", chain_.string(), test::photo("chessboard_GRAY_U16.tif").string(), (dir_ / "x.png").string()},
      {"run", chain_.string(), test::photo("no_time_for_that_tiny.gif").string(), (dir_ / "y.png").string()},
      {"run", chain_.string(), test::photo("fruits.jpg").string(), (dir_ / "z.tif").string()},
      {"run", (dir_ / "text.yml").string(), test::photo("fruits.jpg").string(), (dir_ / "t.png").string()},
  };
  for (const auto& job : jobs) {
    const auto r = run_cli(job, "", none);
    EXPECT_EQ(r.exit_code, 1) << job[2] << " -> " << job[3] << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("needs libvips, which cannot be loaded (IMGPIPE_VIPS_LIBRARY=none)"))
        << job[2];
    EXPECT_FALSE(fs::exists(job[3])) << job[3];
  }
  EXPECT_THAT(run_cli(jobs[0], "", none).err, HasSubstr("chessboard_GRAY_U16.tif"));

  // --version says so; a file that is not there is named with the loader's reason.
  const auto version = run_cli({"--version"}, "", none);
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out + version.err, HasSubstr("not loaded (IMGPIPE_VIPS_LIBRARY=none)"));
  const auto missing = run_cli(jobs[0], "", {"IMGPIPE_VIPS_LIBRARY=/nowhere/libvips.so.42"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("/nowhere/libvips.so.42"));
}

}  // namespace
