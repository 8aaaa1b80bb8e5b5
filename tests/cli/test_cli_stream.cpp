// `imgpipe run` streaming through the real binary: chosen by --stream or by a memory budget
// the in-memory run would exceed, the same pixels as the in-memory run, and the messages
// that say when a chain cannot stream and what raising the pixel limit would cost.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

namespace fs = std::filesystem;

fs::path write_chain(const test::TempDir& dir, const std::string& text) {
  const auto path = dir / "chain.yml";
  test::write_text(path, text);
  return path;
}

const char* kFilters =
    "chain:\n  - adjust_colors: {contrast: 1.2}\n  - gaussian_blur: {sigma: 2}\n  - sharpen: {amount: 0.5}\n";
const char* kRotate = "chain:\n  - gaussian_blur: {sigma: 1}\n  - rotate: {angle: 30}\n";

// building.jpg is 868x600 RGB: 1.56 MB decoded, about 4.7 MB in memory by the 3× estimate.
const char* kPhoto = "building.jpg";

}  // namespace

TEST(CliStream, StreamFlagGivesTheInMemoryPixels) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kFilters).string();
  const auto input = test::photo(kPhoto).string();
  const auto memory = run_cli({"run", chain, input, (dir / "memory.png").string()});
  ASSERT_EQ(memory.exit_code, 0) << memory.err;
  const auto streamed = run_cli({"run", chain, input, (dir / "streamed.png").string(), "--stream", "-v"});
  ASSERT_EQ(streamed.exit_code, 0) << streamed.err;
  EXPECT_THAT(streamed.err, HasSubstr("streaming (--stream)"));
  EXPECT_THAT(streamed.err, HasSubstr("by streaming"));
  const cv::Mat a = load(dir / "memory.png").pixels, b = load(dir / "streamed.png").pixels;
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LE(test::max_abs_diff(a, b), 1.0);  // filters: one float rounding step (see exec/test_stream.cpp)
}

TEST(CliStream, MemoryBudgetChoosesStreamingWhenTheChainCan) {
  test::TempDir dir;
  const auto input = test::photo(kPhoto).string();
  const auto over = run_cli({"run", write_chain(dir, kFilters).string(), input, (dir / "a.jpg").string(),
                             "--max-memory", "4MB", "-v"});
  ASSERT_EQ(over.exit_code, 0) << over.err;
  EXPECT_THAT(over.err, HasSubstr("streaming (about 5 MB in memory is over the budget of 4 MB)"));
  EXPECT_EQ(probe(dir / "a.jpg").width, 868);

  const auto within = run_cli({"run", write_chain(dir, kFilters).string(), input, (dir / "b.jpg").string(),
                               "--max-memory", "6MB", "-v"});
  ASSERT_EQ(within.exit_code, 0) << within.err;
  EXPECT_THAT(within.err, Not(HasSubstr("streaming")));
  EXPECT_THAT(within.err, HasSubstr("decoded 868x600"));

  // Over the budget, but rotate needs the whole image: refused before decoding, naming the
  // step that needs the most and why the chain cannot stream; nothing is written.
  const auto cannot = run_cli({"run", write_chain(dir, kRotate).string(), input, (dir / "c.jpg").string(),
                               "--max-memory", "4MB", "-v"});
  EXPECT_EQ(cannot.exit_code, 1) << cannot.err;
  EXPECT_THAT(cannot.err, HasSubstr("over the memory budget of 4 MB"));
  EXPECT_THAT(cannot.err, HasSubstr("needs about 9 MB in memory ("));
  EXPECT_THAT(cannot.err, HasSubstr("cannot stream it (step 2: rotate"));
  EXPECT_FALSE(fs::exists(dir / "c.jpg"));
}

TEST(CliStream, StreamFlagRefusesAChainThatCannotStream) {
  test::TempDir dir;
  const auto r = run_cli({"run", write_chain(dir, kRotate).string(), test::photo(kPhoto).string(),
                          (dir / "o.png").string(), "--stream"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--stream: step 2: rotate"));
  EXPECT_FALSE(fs::exists(dir / "o.png"));
  const auto piped =
      run_cli({"run", write_chain(dir, kFilters).string(), "-", "-", "--format", "png", "--stream"},
              test::photo(kPhoto).string());
  EXPECT_EQ(piped.exit_code, 2);
  EXPECT_THAT(piped.err, HasSubstr("--stream reads and writes files"));
}

TEST(CliStream, PixelLimitSaysHowToRaiseItAndWhatItCosts) {
  test::TempDir dir;
  const auto input = test::photo(kPhoto).string();
  const auto streams = run_cli({"run", write_chain(dir, kFilters).string(), input, (dir / "o.png").string(),
                                "--max-pixels", "100000"});
  EXPECT_EQ(streams.exit_code, 1);
  EXPECT_THAT(streams.err, HasSubstr("over the limit of 100000 pixels"));
  EXPECT_THAT(streams.err, HasSubstr("--max-pixels"));
  EXPECT_THAT(streams.err, HasSubstr("--stream runs this chain in memory bounded by its tiles"));
  // --stream does not lift the limit.
  const auto flagged = run_cli({"run", write_chain(dir, kFilters).string(), input, (dir / "o.png").string(),
                                "--max-pixels", "100000", "--stream"});
  EXPECT_EQ(flagged.exit_code, 1);
  EXPECT_THAT(flagged.err, HasSubstr("over the limit of 100000 pixels"));
  const auto raised = run_cli({"run", write_chain(dir, kFilters).string(), input, (dir / "o.png").string(),
                               "--max-pixels", "0", "--stream"});
  EXPECT_EQ(raised.exit_code, 0) << raised.err;

  const auto whole = run_cli(
      {"run", write_chain(dir, kRotate).string(), input, (dir / "r.png").string(), "--max-pixels", "100000"});
  EXPECT_EQ(whole.exit_code, 1);
  EXPECT_THAT(whole.err, HasSubstr("this chain cannot stream (step 2: rotate"));
  EXPECT_THAT(whole.err, HasSubstr("decoded whole (about 2 MB)"));
}

// A downscale straight after a decoder that reads top to bottom once (PNG) reads about three
// input rows for each output row. In a fresh process workers fell behind now and then and
// asked the decoder for rows its cache had let go ("vipspng: out of order read at line 608",
// about one run in twenty); a pipeline with a geometry stage now reads the decoder through a
// cache of every row its output rows in flight reach back to (lib/exec/stream.cpp). Many
// fresh processes, each checked against the in-memory run.
TEST(CliStream, ADownscaleReadsThePngDecoderInOrderRunAfterRun) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {width: 256, height: 256, fit: cover}\n").string();
  const auto input = test::photo("opencv-logo-rgba.png").string();
  const auto memory = run_cli({"run", chain, input, (dir / "memory.png").string()});
  ASSERT_EQ(memory.exit_code, 0) << memory.err;
  const cv::Mat expected = load(dir / "memory.png").pixels;
  for (int run = 0; run < 40; ++run) {
    const auto streamed = run_cli({"run", chain, input, (dir / "streamed.png").string(), "--stream"});
    ASSERT_EQ(streamed.exit_code, 0) << "run " << run << ": " << streamed.err;
    const cv::Mat pixels = load(dir / "streamed.png").pixels;
    ASSERT_EQ(pixels.size(), expected.size()) << "run " << run;
    ASSERT_LE(test::max_abs_diff(pixels, expected), 1.0) << "run " << run;  // area downscale: one rounding
  }
}
