// `imgpipe run ... --preview FILE` through the real binary: the draft is written and decodes at
// the preview size, the output is the same as without --preview, -v reports the draft, and a
// preview name that is the input's or the output's is refused with nothing written.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using test::entries;
using test::run_cli;

namespace {

namespace fs = std::filesystem;

// autumn-2560x1600.jpg through a resize to 1200: the output is 1200x750, the draft 512x320.
const char* kWeb =
    "chain:\n  - resize: {width: 1200}\n  - adjust_colors: {contrast: 1.1}\n  - sharpen: {amount: 0.3}\n";

fs::path write_chain(const test::TempDir& dir, const std::string& text) {
  const auto path = dir / "chain.yml";
  test::write_text(path, text);
  return path;
}

}  // namespace

TEST(CliPreview, WritesTheDraftThenTheSameOutputAsWithoutIt) {
  test::TempDir dir;
  const std::string chain = write_chain(dir, kWeb).string(),
                    input = test::photo("autumn-2560x1600.jpg").string();
  auto r = run_cli({"run", chain, input, (dir / "plain.webp").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"run", chain, input, (dir / "out.webp").string(), "--preview", (dir / "draft.webp").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const ImageInfo draft = probe(dir / "draft.webp");
  EXPECT_EQ(draft.format, "webp");
  EXPECT_EQ(load(dir / "draft.webp").pixels.size(), cv::Size(512, 320));
  EXPECT_EQ(load(dir / "out.webp").pixels.size(), cv::Size(1200, 750));
  EXPECT_EQ(test::read_file(dir / "plain.webp"), test::read_file(dir / "out.webp"));
  EXPECT_LE(fs::last_write_time(dir / "draft.webp"), fs::last_write_time(dir / "out.webp"));
}

TEST(CliPreview, PreviewSizeAndVerboseLine) {
  test::TempDir dir;
  const auto r = run_cli({"run", write_chain(dir, kWeb).string(),
                          test::photo("autumn-2560x1600.jpg").string(), (dir / "out.png").string(),
                          "--preview", (dir / "sub" / "draft").string(), "--preview-size", "256", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(dir / "sub" / "draft").pixels.size(), cv::Size(256, 160));
  // A name without an extension: the draft takes the output's format, as every output does.
  EXPECT_EQ(probe(dir / "sub" / "draft").format, "png");
  const std::string line = (dir / "sub" / "draft").string() + ": wrote preview 256x160 (";
  const auto at = r.err.find(line);
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_NE(r.err.find(" ms\n", at), std::string::npos) << r.err;
  EXPECT_LT(at, r.err.find((dir / "out.png").string() + ": wrote 1200x750")) << r.err;
}

TEST(CliPreview, WorksFromStdin) {
  test::TempDir dir;
  const auto r = run_cli({"run", write_chain(dir, kWeb).string(), "-", (dir / "out.png").string(),
                          "--preview", (dir / "draft.png").string()},
                         test::photo("autumn-2560x1600.jpg").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(dir / "draft.png").pixels.size(), cv::Size(512, 320));
  EXPECT_EQ(load(dir / "out.png").pixels.size(), cv::Size(1200, 750));
}

TEST(CliPreview, APreviewNamedAsTheInputOrTheOutputIsRefusedAndNothingIsWritten) {
  test::TempDir dir;
  const std::string chain = write_chain(dir, kWeb).string();
  fs::copy_file(test::photo("fruits.jpg"), dir / "in.jpg");
  const auto before = entries(dir.path());
  const std::string in = (dir / "in.jpg").string(), out = (dir / "out.png").string();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"run", chain, in, out, "--preview", in}, "--preview would overwrite the input"},
      {{"run", chain, in, out, "--preview", (dir / "." / "in.jpg").string()},
       "--preview would overwrite the input"},
      {{"run", chain, in, out, "--preview", out}, "--preview is the output's name"},
      {{"run", chain, in, out, "--preview", "-"}, "--preview writes a file"},
      {{"run", chain, in, out, "--preview", (dir / "d.jpg").string()}, "give --preview a .png name"},
      {{"run", chain, in, out, "--preview-size", "100"}, "--preview"},
      {{"run", chain, in, out, "--preview", (dir / "d.png").string(), "--preview-size", "0"},
       "--preview-size"},
  };
  for (const Case& c : cases) {
    const auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.says << ": " << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.rfind("imgpipe: config error: ", 0), 0u) << r.err;
    EXPECT_EQ(entries(dir.path()), before) << c.says;
  }
  EXPECT_EQ(test::read_file(dir / "in.jpg"), test::read_file(test::photo("fruits.jpg")));
}

TEST(CliPreview, AFailedDraftFailsTheRunWithNoOutput) {
  test::TempDir dir;
  // A streamed input is never decoded whole, and a blur's draft needs the full-size image.
  const auto r = run_cli({"run", write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 2}\n").string(),
                          test::photo("autumn-2560x1600.jpg").string(), (dir / "out.png").string(),
                          "--stream", "--preview", (dir / "draft.png").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("no draft"), std::string::npos) << r.err;
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"chain.yml"});
}
