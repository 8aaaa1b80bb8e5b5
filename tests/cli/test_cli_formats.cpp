// Which input formats imgpipe reads: JPEG, PNG, WebP, TIFF and GIF by content, whatever the
// name; other formats only when a chain, a flag or the environment allows them
// (docs/security.md). Through the real binary.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

// A 4x4 binary PPM (P6), a 10x10 SVG and a libvips matrix file: real files of formats
// libvips reads, each under a name that claims another format.
fs::path write_ppm(const test::TempDir& dir, const std::string& name) {
  std::string bytes = "P6\n4 4\n255\n";
  for (int i = 0; i < 16; ++i)
    bytes += std::string{static_cast<char>(i * 16), static_cast<char>(255 - i * 16), 'A'};
  test::write_text(dir / name, bytes);
  return dir / name;
}

fs::path write_svg(const test::TempDir& dir, const std::string& name) {
  test::write_text(dir / name,
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\">"
                   "<rect width=\"10\" height=\"10\" fill=\"#f80\"/></svg>\n");
  return dir / name;
}

fs::path chain(const test::TempDir& dir, const std::string& text = "chain:\n  - grayscale: {}\n") {
  test::write_text(dir / "chain.yaml", text);
  return dir / "chain.yaml";
}

}  // namespace

TEST(CliFormats, OnlyTheFivePhotoFormatsAreReadByDefaultWhateverTheName) {
  test::TempDir dir;
  const auto out = dir / "out.png";
  for (const auto& input : {write_ppm(dir, "photo.jpg"), write_svg(dir, "logo.png")}) {
    const auto r = run_cli({"run", chain(dir).string(), input.string(), out.string()});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(input.filename().string()));
    EXPECT_THAT(r.err, HasSubstr("--formats")) << "the message says how to allow it";
    EXPECT_FALSE(fs::exists(out));
  }
  test::write_text(dir / "m.jpg", "2 2\n1 2\n3 4\n");  // a libvips matrix: trusted by libvips, not by us
  const auto r = run_cli({"info", (dir / "m.jpg").string()});
  EXPECT_NE(r.exit_code, 0);
  const auto photo = run_cli({"run", chain(dir).string(), test::photo("rocket.jpg").string(), out.string()});
  EXPECT_EQ(photo.exit_code, 0) << photo.err;
}

TEST(CliFormats, AllowedByFlagChainFileOrEnvironment) {
  test::TempDir dir;
  const auto ppm = write_ppm(dir, "frame.ppm");
  auto r = run_cli(
      {"run", chain(dir).string(), ppm.string(), (dir / "a.png").string(), "--formats", "jpeg,png,ppm"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(dir / "a.png").pixels.size(), cv::Size(4, 4));

  const auto from_chain = chain(dir, "performance: {formats: [jpeg, ppm, svg]}\nchain:\n  - grayscale: {}\n");
  r = run_cli({"run", from_chain.string(), ppm.string(), (dir / "b.png").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"run", from_chain.string(), write_svg(dir, "logo.svg").string(), (dir / "c.png").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(dir / "c.png").pixels.size(), cv::Size(10, 10));

  r = run_cli({"run", chain(dir).string(), ppm.string(), (dir / "d.png").string()}, "",
              {"IMGPIPE_FORMATS=ppm"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Allowing ppm alone does not allow JPEG any more.
  r = run_cli({"run", chain(dir).string(), test::photo("rocket.jpg").string(), (dir / "e.png").string()}, "",
              {"IMGPIPE_FORMATS=ppm"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the file is jpeg"));
}

TEST(CliFormats, UnknownFormatNamesAreConfigErrors) {
  test::TempDir dir;
  auto r = run_cli({"run", chain(dir).string(), test::photo("rocket.jpg").string(), (dir / "o.png").string(),
                    "--formats", "jpeg,bmp"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("unknown input format 'bmp'"));
  r = run_cli({"run", chain(dir, "performance: {formats: [jpeg, 42x]}\nchain:\n  - grayscale: {}\n").string(),
               test::photo("rocket.jpg").string(), (dir / "o.png").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("chain.yaml:1:"));
}
