// Files a chain names — palette files, masks, watermark images, models — through the real
// binary: only regular files of bounded size are read, and their contents are part of what the
// result cache and --resume remember, so a changed palette file runs its images again.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

fs::path palette_chain(const test::TempDir& dir, const fs::path& palettes) {
  test::write_text(dir / "chain.yaml",
                   fmt::format("chain:\n  - palette: {{palettes: {}, k: 4}}\noutput: {{format: png}}\n",
                               palettes.string()));
  return dir / "chain.yaml";
}

std::vector<nlohmann::json> records(const fs::path& report) {
  std::vector<nlohmann::json> out;
  std::istringstream lines(test::read_text(report));
  for (std::string line; std::getline(lines, line);) {
    auto j = nlohmann::json::parse(line);
    if (j.value("type", "") != "summary") out.push_back(j);
  }
  return out;
}

}  // namespace

TEST(CliReferences, OnlyRegularFilesOfBoundedSizeAreRead) {
  test::TempDir dir;
  const auto input = test::photo("rocket.jpg").string();
  const auto out = dir / "out.png";
  for (const char* device : {"/dev/zero", "/dev/null"}) {
    const auto r = run_cli({"run", palette_chain(dir, device).string(), input, out.string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("not a regular file"));
  }
  // A named pipe is refused at once, not waited on (run_cli would hang otherwise).
  ASSERT_EQ(::mkfifo((dir / "pipe.json").c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  auto r = run_cli({"run", palette_chain(dir, dir / "pipe.json").string(), input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  // Over the palette-file limit (1 MB).
  test::write_text(dir / "huge.txt", std::string(2 << 20, '#'));
  r = run_cli({"run", palette_chain(dir, dir / "huge.txt").string(), input, out.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("over the limit"));
  // A watermark "image" that is a device.
  test::write_text(dir / "mark.yaml", "chain:\n  - watermark: {image: /dev/zero}\n");
  r = run_cli({"run", (dir / "mark.yaml").string(), input, out.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not a regular file"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliReferences, AChangedPaletteFileMissesTheCacheAndIsRunAgainOnResume) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy_file(test::photo("rocket.jpg"), dir / "in" / "rocket.jpg");
  const auto palettes = dir / "palettes.json";
  test::write_text(palettes, R"({"warm": ["#2b1d0e", "#a0522d", "#ffd39b"]})");
  const auto chain = palette_chain(dir, palettes);
  const auto batch = [&](const std::string& report, std::vector<std::string> extra) {
    std::vector<std::string> args = {"batch",    chain.string(),          "--input",  (dir / "in").string(),
                                     "--output", (dir / "out").string(),  "--report", (dir / report).string(),
                                     "--cache",  (dir / "cache").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return records(dir / report);
  };
  const auto output = dir / "out" / "rocket-warm.png";
  auto first = batch("1.jsonl", {});
  ASSERT_EQ(first.size(), 1u);
  const auto before = test::read_file(output);
  // The same palette file again: a cache hit.
  auto again = batch("2.jsonl", {});
  EXPECT_TRUE(again.at(0).value("cache_hit", false));
  // Other colours under the same name and path: a miss, and other pixels.
  test::write_text(palettes, R"({"warm": ["#000000", "#ff0000", "#ffffff"]})");
  auto changed = batch("3.jsonl", {});
  EXPECT_FALSE(changed.at(0).value("cache_hit", true));
  EXPECT_NE(test::read_file(output), before);
  // --resume after another change runs the image again instead of skipping it.
  test::write_text(palettes, R"({"warm": ["#101010", "#00ff00", "#fefefe"]})");
  auto resumed = batch("4.jsonl", {"--resume"});
  EXPECT_EQ(resumed.at(0).value("status", ""), "ok");
  // Unchanged since: skipped.
  auto skipped = batch("5.jsonl", {"--resume"});
  EXPECT_EQ(skipped.at(0).value("status", ""), "skipped");
}

TEST(CliReferences, UntrustedChainsReadOnlyUnderAllowedFolders) {
  test::TempDir dir;
  fs::create_directories(dir / "palettes");
  const auto palettes = dir / "palettes" / "warm.json";
  test::write_text(palettes, R"({"warm": ["#2b1d0e", "#a0522d", "#ffd39b"]})");
  test::write_text(dir / "secret.txt", "SECRET-LINE\n");
  const auto input = test::photo("rocket.jpg").string();
  const auto out = dir / "out.png";
  const auto written = dir / "out-warm.png";  // the palette file's one palette is a variant

  // Untrusted without an allowed folder: no file at all.
  auto r = run_cli({"run", palette_chain(dir, palettes).string(), input, out.string(), "--untrusted"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--allow-path"));
  EXPECT_FALSE(fs::exists(written));
  // Under the allowed folder: runs.
  r = run_cli({"run", palette_chain(dir, palettes).string(), input, out.string(), "--allow-path",
               (dir / "palettes").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(written));
  fs::remove(written);
  // Outside it: refused, naming the parameter and the path but not quoting the file.
  r = run_cli({"run", palette_chain(dir, dir / "secret.txt").string(), input, out.string(), "--allow-path",
               (dir / "palettes").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("palette.palettes"));
  EXPECT_THAT(r.err, HasSubstr("outside the folders"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("SECRET")));
  EXPECT_FALSE(fs::exists(written));

  // batch, with the folder from the environment.
  fs::create_directories(dir / "in");
  fs::copy_file(test::photo("rocket.jpg"), dir / "in" / "rocket.jpg");
  const std::vector<std::string> batch = {"batch",    palette_chain(dir, dir / "secret.txt").string(),
                                          "--input",  (dir / "in").string(),
                                          "--output", (dir / "out").string()};
  r = run_cli(batch, "", {"IMGPIPE_ALLOW_PATHS=" + (dir / "palettes").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("outside the folders"));
  EXPECT_FALSE(fs::exists(dir / "out" / "rocket-warm.png"));
}
