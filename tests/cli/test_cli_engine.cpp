// The one job runner seen from the command line: `run` and `batch` follow one output-format
// rule, write the same bytes for the same chain and input, make SVG from a chain that ends in
// vectorize, and open each input at most twice (once for the header, once for the bytes).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

fs::path write_chain(const test::TempDir& dir, const std::string& text,
                     const std::string& name = "chain.yaml") {
  const fs::path path = dir / name;
  test::write_text(path, text);
  return path;
}

// Files under `root`, recursively (a refused batch must leave no output).
std::vector<fs::path> files_under(const fs::path& root) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->is_regular_file()) out.push_back(it->path());
  return out;
}

const char* const kChain = "chain:\n  - resize: {width: 300}\n  - sharpen: {amount: 0.4}\n";

}  // namespace

TEST(CliEngine, RunRefusesAFormatThatDisagreesWithTheName) {
  test::TempDir dir;
  const auto chain = write_chain(dir, std::string(kChain) + "output: {format: webp}\n");
  for (const char* name : {"out.bmp", "out.png"}) {
    const auto r =
        test::run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / name).string()});
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_THAT(r.err, HasSubstr(fs::path(name).extension().string())) << name;
    EXPECT_THAT(r.err, HasSubstr("webp")) << name;
    EXPECT_FALSE(fs::exists(dir / name)) << name;
  }
  // Without a format set, the name decides; with both agreeing, the set format is used.
  EXPECT_EQ(
      test::run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / "ok.webp").string()})
          .exit_code,
      0);
  EXPECT_TRUE(fs::exists(dir / "ok.webp"));
}

TEST(CliEngine, BatchRefusesAFormatThatDisagreesWithTheTemplateBeforeAnyWork) {
  test::TempDir dir;
  const auto chain = write_chain(dir, std::string(kChain) + "output: {format: webp, path: \"{stem}.jpg\"}\n");
  const auto r =
      test::run_cli({"batch", chain.string(), "-i", test::photo("rocket.jpg").string(), "-i",
                     test::photo("fruits.jpg").string(), "-o", (dir / "out").string(), "--no-cache"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(".jpg"));
  EXPECT_THAT(r.err, HasSubstr("webp"));
  EXPECT_TRUE(files_under(dir / "out").empty());
}

TEST(CliEngine, RunAndBatchWriteTheSameBytes) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kChain);
  fs::create_directories(dir / "in");
  fs::copy_file(test::photo("fruits.jpg"), dir / "in" / "fruits.jpg");
  for (const char* ext : {"png", "webp", "jpg", "tif"}) {
    const fs::path single = dir / (std::string("run.") + ext);
    ASSERT_EQ(test::run_cli({"run", chain.string(), (dir / "in" / "fruits.jpg").string(), single.string()})
                  .exit_code,
              0);
    const fs::path out = dir / (std::string("batch-") + ext);
    const auto r = test::run_cli({"batch", chain.string(), "-i", (dir / "in").string(), "-o", out.string(),
                                  "--output-template", std::string("{stem}.") + ext, "--no-cache"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(test::read_file(single), test::read_file(out / (std::string("fruits.") + ext))) << ext;
  }
}

TEST(CliEngine, SvgIsAnOutputFormatOfChainsEndingInVectorize) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - vectorize: {colors: 6}\n");
  const fs::path input = test::photo("fruits.jpg");
  const ImageInfo info = probe(input);
  auto r = test::run_cli({"run", chain.string(), input.string(), (dir / "run.svg").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The SVG renders back (libvips's SVG loader, allowed for it) at the image's size.
  Limits svg_allowed;
  svg_allowed.formats = {"svg"};
  const Image rendered = load(dir / "run.svg", {}, svg_allowed);
  EXPECT_EQ(rendered.width(), info.width);
  EXPECT_EQ(rendered.height(), info.height);

  r = test::run_cli({"run", chain.string(), input.string(), "-", "--format", "svg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<svg", 0), 0u);
  EXPECT_EQ(std::vector<std::uint8_t>(r.out.begin(), r.out.end()), test::read_file(dir / "run.svg"));

  r = test::run_cli({"batch", chain.string(), "-i", input.string(), "-o", (dir / "batch").string(),
                     "--output-template", "{stem}.svg", "--no-cache"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::read_file(dir / "batch" / "fruits.svg"), test::read_file(dir / "run.svg"));

  // A chain whose last step makes pixels has no SVG to write: refused before any work.
  const auto pixels = write_chain(dir, "chain:\n  - vectorize: {colors: 6}\n  - grayscale\n", "pixels.yaml");
  r = test::run_cli({"run", pixels.string(), input.string(), (dir / "no.svg").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("vectorize"));
  EXPECT_FALSE(fs::exists(dir / "no.svg"));
}

namespace {

// How often the traced command opened `input` (openat calls naming it).
int opens_of(const fs::path& log, const fs::path& input) {
  std::ifstream in(log);
  std::string line;
  int count = 0;
  while (std::getline(in, line))
    if (line.find("openat(") != std::string::npos &&
        line.find("\"" + input.string() + "\"") != std::string::npos)
      ++count;
  return count;
}

}  // namespace

TEST(CliEngine, AnInputIsOpenedAtMostTwice) {
  if (std::system("command -v strace >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "strace is not installed (tools/setup-debian.sh installs it)";
  test::TempDir dir;
  const auto chain = write_chain(dir, kChain);
  fs::create_directories(dir / "in");
  const fs::path input = dir / "in" / "rocket.jpg";
  fs::copy_file(test::photo("rocket.jpg"), input);
  const auto traced = [&](std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(),
                {"strace", "-f", "-qq", "-e", "trace=openat", "-o", (dir / log).string(), IMGPIPE_CLI});
    std::string command;
#if defined(IMGPIPE_SANITIZED)
    // LeakSanitizer cannot run under ptrace: it would fail the traced command at exit.
    command = "ASAN_OPTIONS=\"${ASAN_OPTIONS:-}:detect_leaks=0\" ";
#endif
    for (const auto& a : args) command += "'" + a + "' ";
    return std::system((command + ">/dev/null 2>&1").c_str());
  };
  ASSERT_EQ(traced({"run", chain.string(), input.string(), (dir / "out.webp").string()}, "run.log"), 0);
  EXPECT_GE(opens_of(dir / "run.log", input), 1);
  EXPECT_LE(opens_of(dir / "run.log", input), 2);
  ASSERT_EQ(
      traced({"run", chain.string(), input.string(), (dir / "budget.webp").string(), "--max-memory", "2GB"},
             "budget.log"),
      0);
  EXPECT_LE(opens_of(dir / "budget.log", input), 2);
  ASSERT_EQ(traced({"batch", chain.string(), "-i", (dir / "in").string(), "-o", (dir / "out").string(),
                    "--cache", (dir / "cache").string()},
                   "batch.log"),
            0);
  EXPECT_GE(opens_of(dir / "batch.log", input), 1);
  EXPECT_LE(opens_of(dir / "batch.log", input), 2);
}
