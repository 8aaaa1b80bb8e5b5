// The contract every subcommand keeps, through the real binary: one error style with the
// documented exit codes, unknown commands and options named, `-` for stdin and stdout, -q and
// -v, help with examples, --version with the libraries, outputs named per input, the output
// folder made, the result cache only when asked for, and a warning when no input matched.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kCommands = {"run",       "info", "ops", "palette", "extract-palette",
                                            "vectorize", "batch"};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// Every line of an error report is "imgpipe: ..." or the one hint where to look.
void expect_error_style(const test::CommandResult& r, int exit_code, const std::string& names) {
  EXPECT_EQ(r.exit_code, exit_code) << r.err;
  ASSERT_FALSE(r.err.empty());
  for (const auto& line : lines(r.err)) {
    if (!line.starts_with("Run 'imgpipe")) {
      EXPECT_THAT(line, StartsWith("imgpipe: ")) << r.err;
    }
  }
  EXPECT_THAT(r.err, HasSubstr(names));
}

std::string photo(const char* name) {
  return test::photo(name).string();
}

}  // namespace

TEST(CliContract, AnUnknownCommandIsNamedWithTheCommands) {
  const auto r = run_cli({"frobnicate", "x"});
  expect_error_style(r, 2, "unknown command 'frobnicate'");
  for (const auto& command : kCommands) EXPECT_THAT(r.err, HasSubstr(command));
  const auto near = run_cli({"bach", "chain.yaml"});
  expect_error_style(near, 2, "did you mean 'batch'?");
}

TEST(CliContract, UsageMistakesReadLikeEveryOtherError) {
  test::TempDir dir;
  expect_error_style(run_cli({"run", "--frobnicate", "a", "b", "c"}), 2, "--frobnicate");
  expect_error_style(run_cli({"batch", "chain.yaml", "-i", "x", "-o", "y", "--threads", "-3"}), 2,
                     "--threads");
  expect_error_style(run_cli({"extract-palette", photo("fruits.jpg"), "--k", "0"}), 2, "--k");
  expect_error_style(run_cli({"info"}), 2, "files");
  // The library's own configuration errors: the same prefix and the same code.
  expect_error_style(run_cli({"run", (dir / "missing.yaml").string(), photo("fruits.jpg"), "out.png"}), 2,
                     "missing.yaml");
}

TEST(CliContract, AnAbsentDeviceIsAConfigurationError) {
  test::TempDir dir;
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  for (const char* device : {"cuda", "opencl"}) {
    SCOPED_TRACE(device);
    expect_error_style(
        run_cli({"run", chain, photo("fruits.jpg"), (dir / "out.webp").string(), "--device", device}), 2,
        fmt::format("device {}", device));
    expect_error_style(
        run_cli({"batch", chain, "-i", photo("fruits.jpg"), "-o", (dir / "b").string(), "--device", device}),
        2, fmt::format("device {}", device));
    EXPECT_FALSE(fs::exists(dir / "out.webp"));
    EXPECT_FALSE(fs::exists(dir / "b" / "fruits.webp"));
  }
}

TEST(CliContract, VersionListsTheLibrariesInUse) {
  const auto r = run_cli({"--version"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto found = lines(r.out);
  ASSERT_FALSE(found.empty());
  EXPECT_THAT(found.front(), StartsWith("imgpipe "));
  for (const char* library : {"libvips", "OpenCV", "libjpeg-turbo", "libpng", "libwebp", "TBB"}) {
    SCOPED_TRACE(library);
    EXPECT_TRUE(std::regex_search(r.out, std::regex(std::string("\n") + library + " [0-9]+\\.[0-9]+")))
        << r.out;
  }
}

TEST(CliContract, EveryHelpHasAnExampleAndExitsZero) {
  for (const auto& command : kCommands) {
    SCOPED_TRACE(command);
    const auto r = run_cli({command, "--help"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr("Example"));
    EXPECT_THAT(r.out, HasSubstr("imgpipe " + command));
  }
  const auto root = run_cli({"--help"});
  EXPECT_EQ(root.exit_code, 0);
  EXPECT_THAT(root.out, HasSubstr("Exit codes"));
}

TEST(CliContract, InfoTakesManyFilesAndReportsEachFailure) {
  test::TempDir dir;
  const auto missing = (dir / "missing.jpg").string();
  const auto r = run_cli({"info", photo("fruits.jpg"), missing, photo("logo.png")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.out).size(), 2u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("fruits.jpg: jpeg 512x480"));
  EXPECT_THAT(r.out, HasSubstr("logo.png: png 500x500"));
  expect_error_style(r, 1, missing);

  const auto json = run_cli({"info", "--json", photo("fruits.jpg"), photo("logo.png")});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto parsed = nlohmann::json::parse(json.out);
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[1]["width"], 500);
  const auto one = nlohmann::json::parse(run_cli({"info", "--json", photo("logo.png")}).out);
  EXPECT_TRUE(one.is_object());  // one file, one object, as before
}

TEST(CliContract, DashReadsStdinAndWritesStdoutForEveryOneFileCommand) {
  test::TempDir dir;
  const std::string logo = photo("logo.png");
  const auto info = run_cli({"info", "-"}, logo);
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("<stdin>: png 500x500"));

  const auto svg = run_cli({"vectorize", "-", "-o", "-", "--colors", "4"}, logo);
  ASSERT_EQ(svg.exit_code, 0) << svg.err;
  EXPECT_THAT(svg.out, StartsWith("<svg"));
  EXPECT_FALSE(fs::exists("-"));

  const auto from_stdin = run_cli({"extract-palette", "-", "--k", "3", "--json"}, logo);
  ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
  const auto from_file = run_cli({"extract-palette", logo, "--k", "3", "--json"});
  EXPECT_EQ(from_stdin.out, from_file.out);

  const auto palette = run_cli(
      {"palette", "-", "--colors", "#000000,#ffffff", "--name", "bw", "-o", (dir / "p").string()}, logo);
  ASSERT_EQ(palette.exit_code, 0) << palette.err;
  EXPECT_TRUE(fs::exists(dir / "p" / "stdin-bw.png"));
}

TEST(CliContract, PaletteOutputsAreNamedPerInputSoInputsNeverCollide) {
  test::TempDir dir;
  const auto out = dir / "out";
  const auto r = run_cli({"palette", photo("fruits.jpg"), photo("chelsea.png"), "--colors", "#1d3557,#f1faee",
                          "--name", "sea", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(out / "fruits-sea.png").width(), 512);
  EXPECT_EQ(load(out / "chelsea-sea.png").width(), 451);
  // A second photo into the same folder leaves the first one's files alone.
  const auto before = test::read_file(out / "fruits-sea.png");
  ASSERT_EQ(run_cli({"palette", photo("logo.png"), "--colors", "#1d3557,#f1faee", "--name", "sea", "-o",
                     out.string()})
                .exit_code,
            0);
  EXPECT_EQ(test::read_file(out / "fruits-sea.png"), before);
  EXPECT_TRUE(fs::exists(out / "logo-sea.png"));
  // Two inputs with one stem would: refused before anything is written.
  fs::create_directories(dir / "a");
  fs::copy_file(photo("fruits.jpg"), dir / "a" / "fruits.jpg");
  const auto same = run_cli({"palette", photo("fruits.jpg"), (dir / "a" / "fruits.jpg").string(), "--colors",
                             "#000000,#ffffff", "--name", "bw", "-o", (dir / "clash").string()});
  expect_error_style(same, 2, "fruits-<palette>");
  EXPECT_FALSE(fs::exists(dir / "clash" / "fruits-bw.png"));
}

TEST(CliContract, QuietBatchStillPrintsEachFailedInput) {
  test::TempDir dir;
  fs::create_directories(dir / "in");
  fs::copy_file(photo("fruits.jpg"), dir / "in" / "good.jpg");
  fs::copy_file(photo("truncated.jpg"), dir / "in" / "broken.jpg");
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  const auto r = run_cli({"-q", "batch", chain, "-i", (dir / "in").string(), "-o", (dir / "out").string(),
                          "--on-error", "continue"});
  EXPECT_EQ(r.exit_code, 1);
  expect_error_style(r, 1, "broken.jpg");
  EXPECT_THAT(r.err, Not(HasSubstr("Processed")));
  EXPECT_TRUE(fs::exists(dir / "out" / "good.webp"));
}

TEST(CliContract, VerboseSaysWhatHappensToEachImage) {
  test::TempDir dir;
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  const auto batch = run_cli({"-v", "batch", chain, "-i", photo("fruits.jpg"), "-i", photo("logo.png"), "-o",
                              (dir / "out").string()});
  ASSERT_EQ(batch.exit_code, 0) << batch.err;
  EXPECT_THAT(batch.err, HasSubstr("fruits.jpg -> "));
  EXPECT_THAT(batch.err, HasSubstr("logo.png -> "));
  const auto palette = run_cli({"palette", photo("fruits.jpg"), "--colors", "#000000,#ffffff", "--name", "bw",
                                "-o", (dir / "p").string(), "-v"});
  ASSERT_EQ(palette.exit_code, 0) << palette.err;
  EXPECT_THAT(palette.err, HasSubstr("fruits-bw.png"));
  const auto vectorize =
      run_cli({"-v", "vectorize", photo("logo.png"), "-o", (dir / "logo.svg").string(), "--colors", "4"});
  ASSERT_EQ(vectorize.exit_code, 0) << vectorize.err;
  EXPECT_THAT(vectorize.err, HasSubstr("logo.svg"));
}

TEST(CliContract, ABatchWhoseInputsMatchNothingSaysSo) {
  test::TempDir dir;
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  const auto images = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "images").string();
  const auto r =
      run_cli({"batch", chain, "-i", images, "-o", (dir / "out").string(), "--include", "*.nothing"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("imgpipe: warning: no input files matched"));
  EXPECT_THAT(r.err, HasSubstr("*.nothing"));
}

TEST(CliContract, RunMakesTheOutputFolderLikeBatch) {
  test::TempDir dir;
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  const auto out = dir / "new" / "deeper" / "fruits.webp";
  const auto r = run_cli({"run", chain, photo("fruits.jpg"), out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(load(out).width(), 0);
}

TEST(CliContract, TheResultCacheIsUsedOnlyWhenAskedFor) {
  test::TempDir dir;
  const std::string chain = (fs::path(IMGPIPE_SOURCE_DIR) / "examples" / "default.yaml").string();
  const auto home = dir / "home";
  fs::create_directories(home);
  const std::string env_home = "HOME=" + home.string();
  // No flag, no variable: no cache anywhere, whatever HOME says.
  auto r = run_cli({"batch", chain, "-i", photo("fruits.jpg"), "-o", (dir / "a").string()}, "",
                   {env_home, "XDG_CACHE_HOME="});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(home / ".cache"));
  EXPECT_THAT(r.err, Not(HasSubstr("Result cache")));
  // HOME unset, as for a system user: still fine, still nothing written.
  r = run_cli({"batch", chain, "-i", photo("fruits.jpg"), "-o", (dir / "b").string()}, "", {"-u", "HOME"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // IMGPIPE_CACHE names the folder; the summary says where it is; a second run hits it.
  const auto cache = dir / "cache";
  for (const char* out : {"c", "d"}) {
    r = run_cli({"batch", chain, "-i", photo("fruits.jpg"), "-o", (dir / out).string()}, "",
                {"IMGPIPE_CACHE=" + cache.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_THAT(r.err, HasSubstr("Result cache: " + cache.string()));
  }
  EXPECT_THAT(r.err, HasSubstr("1 from cache"));
  // --no-cache wins over the variable.
  r = run_cli({"batch", chain, "-i", photo("fruits.jpg"), "-o", (dir / "e").string(), "--no-cache"}, "",
              {"IMGPIPE_CACHE=" + cache.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, Not(HasSubstr("from cache")));
}
