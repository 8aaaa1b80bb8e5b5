// `imgpipe run` through the real binary: outputs, stdin/stdout, formats, exit codes, the
// precedence of flags, variables and the chain file, and the profile.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace imgpipe;
using test::Child;
using test::describe;
using test::entries;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

namespace fs = std::filesystem;

// rocket.jpg is 640x427; a width of 320 halves it, and 427 / 2 = 213.5 rounds to 214.
constexpr int kRocketWidth = 640, kRocketHeight = 427;
constexpr int kHalfWidth = 320, kHalfHeight = 214;

fs::path write_chain(const test::TempDir& dir, const std::string& text,
                     const std::string& name = "chain.yml") {
  const auto path = dir / name;
  test::write_text(path, text);
  return path;
}

const char* kHalve = "chain:\n  - resize: {width: 320}\n";

std::string starts(const std::vector<std::uint8_t>& bytes, std::size_t n) {
  return std::string(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(std::min(n, bytes.size())));
}
std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

}  // namespace

TEST(CliRun, ChainOnARealPhoto) {
  test::TempDir dir;
  const auto out = dir / "out.png";
  const auto r =
      run_cli({"run", write_chain(dir, kHalve).string(), test::photo("rocket.jpg").string(), out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "");
  const auto bytes = test::read_file(out);
  EXPECT_EQ(starts(bytes, 8), "\x89PNG\r\n\x1a\n");
  const Image decoded = load(out);
  EXPECT_EQ(decoded.width(), kHalfWidth);
  EXPECT_EQ(decoded.height(), kHalfHeight);
  EXPECT_EQ(decoded.channels(), 3);
}

TEST(CliRun, AlphaAnd16BitSurviveTheRun) {
  test::TempDir dir;
  // logo.png is 500x500 RGBA: grayscale keeps the alpha as grey + alpha.
  const auto grey = dir / "grey.png";
  auto r = run_cli({"run", write_chain(dir, "chain:\n  - grayscale\n").string(),
                    test::photo("logo.png").string(), grey.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ImageInfo g = probe(grey);
  EXPECT_EQ(g.width, 500);
  EXPECT_EQ(g.bands, 2);
  EXPECT_TRUE(g.has_alpha);
  // chessboard_GRAY_U16.tif is 200x200 16-bit grey: PNG keeps 16 bits.
  const auto half = dir / "half.png";
  r = run_cli({"run", write_chain(dir, "chain:\n  - resize: {width: 100}\n", "c2.yml").string(),
               test::photo("chessboard_GRAY_U16.tif").string(), half.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ImageInfo h = probe(half);
  EXPECT_EQ(h.width, 100);
  EXPECT_EQ(h.height, 100);
  EXPECT_EQ(h.bands, 1);
  EXPECT_EQ(h.bit_depth, 16);
}

TEST(CliRun, StdinToStdout) {
  test::TempDir dir;
  const auto r = run_cli({"run", write_chain(dir, kHalve).string(), "-", "-", "--format", "png"},
                         test::photo("rocket.jpg").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const auto bytes = bytes_of(r.out);
  EXPECT_EQ(starts(bytes, 8), "\x89PNG\r\n\x1a\n");
  const Image decoded = load_buffer(bytes, "stdout");
  EXPECT_EQ(decoded.width(), kHalfWidth);
  EXPECT_EQ(decoded.height(), kHalfHeight);
}

TEST(CliRun, StdoutNeedsAFormat) {
  test::TempDir dir;
  const auto r = run_cli({"run", write_chain(dir, kHalve).string(), test::photo("rocket.jpg").string(), "-"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("stdout"));
  EXPECT_THAT(r.err, HasSubstr("--format"));
}

TEST(CliRun, StdoutTakesTheChainsFormat) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {width: 320}\noutput: {format: webp}\n");
  const auto r = run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), "-"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bytes = bytes_of(r.out);
  ASSERT_GE(bytes.size(), 12u);
  EXPECT_EQ(starts(bytes, 4), "RIFF");
  EXPECT_EQ(std::string(r.out.substr(8, 4)), "WEBP");
}

TEST(CliRun, FormatFromExtension) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve);
  // Each format's file signature.
  const std::vector<std::pair<std::string, std::string>> cases = {{"out.jpg", "\xff\xd8\xff"},
                                                                  {"out.JPEG", "\xff\xd8\xff"},
                                                                  {"out.png", "\x89PNG"},
                                                                  {"out.webp", "RIFF"},
                                                                  {"out.tif", "II*"}};
  for (const auto& [name, magic] : cases) {
    const auto r =
        run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / name).string()});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_EQ(starts(test::read_file(dir / name), magic.size()), magic) << name;
  }
}

TEST(CliRun, UnknownExtensionNeedsAFormat) {
  test::TempDir dir;
  const auto out = dir / "out.img";
  auto r =
      run_cli({"run", write_chain(dir, kHalve).string(), test::photo("rocket.jpg").string(), out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(out.string()));
  EXPECT_FALSE(fs::exists(out));
  r = run_cli(
      {"run", (dir / "chain.yml").string(), test::photo("rocket.jpg").string(), out.string(), "-f", "jpeg"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(starts(test::read_file(out), 3), "\xff\xd8\xff");
}

TEST(CliRun, FormatFlagMustMatchTheExtension) {
  test::TempDir dir;
  const auto out = dir / "out.png";
  const auto r = run_cli({"run", write_chain(dir, kHalve).string(), test::photo("rocket.jpg").string(),
                          out.string(), "--format", "jpeg"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(out.string()));
  EXPECT_THAT(r.err, HasSubstr("--format"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliRun, BrokenInputFailsWithoutOutput) {
  test::TempDir dir;
  const auto out = dir / "out.png";
  const auto r = run_cli(
      {"run", write_chain(dir, kHalve).string(), test::photo("truncated.jpg").string(), out.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("decode error"));
  EXPECT_THAT(r.err, HasSubstr("truncated.jpg"));
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"chain.yml"});
}

TEST(CliRun, AnImageTooLargeForTheFormatNamesTheInputAndWritesNothing) {
  // JPEG holds at most 65500 pixels a side, WebP 16383.
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {width: 65535, height: 2, fit: exact}\n");
  for (const char* name : {"wide.jpg", "wide.webp"}) {
    const auto out = dir / name;
    const auto r = run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), out.string()});
    EXPECT_EQ(r.exit_code, 1) << name;
    EXPECT_THAT(r.err, HasSubstr("io error: " + test::photo("rocket.jpg").string() + ": ")) << name;
    EXPECT_FALSE(fs::exists(out)) << name;
  }
  EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"chain.yml"});
}

TEST(CliRun, MissingInputNamesIt) {
  test::TempDir dir;
  const auto missing = dir / "nothere.jpg";
  const auto r =
      run_cli({"run", write_chain(dir, kHalve).string(), missing.string(), (dir / "o.png").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(missing.string()));
}

TEST(CliRun, BadChainPointsAtLineAndColumn) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {widht: 320}\n");
  const auto r =
      run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / "o.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  // "  - resize: {" is 13 characters, so the key starts in column 14.
  EXPECT_THAT(r.err, HasSubstr(chain.string() + ":2:14:"));
  EXPECT_THAT(r.err, HasSubstr("did you mean 'width'"));
  EXPECT_FALSE(fs::exists(dir / "o.png"));
}

TEST(CliRun, MissingChainFile) {
  test::TempDir dir;
  const auto chain = dir / "absent.yml";
  const auto r =
      run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / "o.png").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(chain.string()));
}

TEST(CliRun, UsageErrors) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve).string();
  const auto in = test::photo("rocket.jpg").string();
  const auto out = (dir / "o.png").string();
  const std::vector<std::vector<std::string>> cases = {
      {"run", chain, in, out, "--frobnicate"},     // unknown flag
      {"run", chain, in},                          // missing output
      {"run", chain, in, out, "--quality", "0"},   // out of range
      {"run", chain, in, out, "--quality", "hi"},  // not a number
      {"run", chain, in, out, "--max-memory", "lots"},
      {"run", chain, in, out, "--preset", "best"},
      {"run", chain, in, out, "--quiet", "--verbose"},
      {"frobnicate"},
  };
  for (const auto& args : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_NE(r.err, "") << args.back();
    EXPECT_EQ(r.out, "") << args.back();
  }
  EXPECT_FALSE(fs::exists(out));
  const auto q = run_cli({"run", chain, in, out, "--quality", "0"});
  EXPECT_THAT(q.err, HasSubstr("--quality: expected integer 1..100, got 0"));
  const auto e = run_cli({"run", chain, in, out}, "", {"IMGPIPE_QUALITY=abc"});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_THAT(e.err, HasSubstr("IMGPIPE_QUALITY"));
}

TEST(CliRun, OutputFolderIsMadeAndAFileInItsWayFailsWritingNothing) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve).string();
  const auto in = test::photo("rocket.jpg").string();
  // A missing folder is made, as batch does.
  const auto made = run_cli({"run", chain, in, (dir / "made" / "o.png").string()});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  EXPECT_TRUE(fs::is_regular_file(dir / "made" / "o.png"));
  fs::remove_all(dir / "made");
  // A "folder" that is a file.
  const auto blocked = dir / "chain.yml" / "o.png";
  const auto b = run_cli({"run", chain, in, blocked.string()});
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_THAT(b.err, HasSubstr((dir / "chain.yml").string()));
  // An output that is a folder: the encoded file cannot replace it, and the temporary file
  // written beside it must be gone.
  fs::create_directory(dir / "taken.png");
  const auto r = run_cli({"run", chain, in, (dir / "taken.png").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("taken.png"));
  EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"chain.yml", "taken.png"}));
  EXPECT_TRUE(fs::is_empty(dir / "taken.png"));
}

TEST(CliRun, RefusesToOverwriteTheInput) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve).string();
  const auto input = dir / "in.jpg";
  fs::copy_file(test::photo("rocket.jpg"), input);
  const auto before = test::read_file(input);
  fs::create_directory(dir / "sub");
  // The same file, spelled three ways.
  for (const auto& out : {input, dir / "sub" / ".." / "in.jpg", dir / "." / "in.jpg"}) {
    const auto r = run_cli({"run", chain, input.string(), out.string()});
    EXPECT_EQ(r.exit_code, 2) << out;
    EXPECT_THAT(r.err, HasSubstr("overwrite the input")) << out;
    EXPECT_EQ(test::read_file(input), before) << out;
  }
}

TEST(CliRun, QualityPrecedenceFlagOverEnvOverFileOverDefault) {
  test::TempDir dir;
  const auto in = test::photo("rocket.jpg").string();
  const auto plain = write_chain(dir, kHalve, "plain.yml").string();
  const auto q90 =
      write_chain(dir, "chain:\n  - resize: {width: 320}\noutput: {quality: 90}\n", "q90.yml").string();
  auto jpeg = [&](const std::string& chain, std::vector<std::string> extra, std::vector<std::string> env,
                  const std::string& name) {
    std::vector<std::string> args = {"run", chain, in, (dir / name).string(), "--verbose"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_cli(args, "", env);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    return std::make_pair(r.err, test::read_file(dir / name));
  };
  const auto [default_log, by_default] = jpeg(plain, {}, {}, "default.jpg");
  const auto [file_log, by_file] = jpeg(q90, {}, {}, "file.jpg");
  const auto [env_log, by_env] = jpeg(q90, {}, {"IMGPIPE_QUALITY=20"}, "env.jpg");
  const auto [flag_log, by_flag] = jpeg(q90, {"--quality", "90"}, {"IMGPIPE_QUALITY=20"}, "flag.jpg");
  const auto [flag20_log, by_flag20] = jpeg(plain, {"--quality", "20"}, {}, "flag20.jpg");

  EXPECT_THAT(default_log, HasSubstr("quality default"));
  EXPECT_THAT(file_log, HasSubstr("quality 90"));
  EXPECT_THAT(env_log, HasSubstr("quality 20"));
  EXPECT_THAT(flag_log, HasSubstr("quality 90"));
  // JPEG encoding is deterministic: the same effective quality gives the same bytes, so the
  // winner of each contest is visible in the files themselves.
  EXPECT_EQ(by_flag, by_file);
  EXPECT_EQ(by_env, by_flag20);
  EXPECT_NE(by_file, by_default);  // the file's 90 replaced the default 85
  // A lower quality makes a smaller file of the same photo.
  EXPECT_LT(by_env.size(), by_default.size());
  EXPECT_LT(by_default.size(), by_file.size());
}

TEST(CliRun, MaxPixelsPrecedence) {
  test::TempDir dir;
  const auto in = test::photo("rocket.jpg").string();  // 640 x 427 = 273,280 pixels
  const auto out = (dir / "o.png").string();
  const auto plain = write_chain(dir, kHalve, "plain.yml").string();
  const auto small = write_chain(dir, "performance: {max_pixels: 1000}\nchain: []\n", "small.yml").string();
  struct Case {
    std::string chain;
    std::vector<std::string> flags, env;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {plain, {}, {}, 0},                                                   // default 268,402,689
      {small, {}, {}, 1},                                                   // file
      {small, {}, {"IMGPIPE_MAX_PIXELS=300000"}, 0},                        // env over file
      {plain, {}, {"IMGPIPE_MAX_PIXELS=273279"}, 1},                        // env over default, one short
      {plain, {}, {"IMGPIPE_MAX_PIXELS=273280"}, 0},                        // exactly enough
      {small, {"--max-pixels", "300000"}, {"IMGPIPE_MAX_PIXELS=1000"}, 0},  // flag over env
      {plain, {"--max-pixels", "1000"}, {"IMGPIPE_MAX_PIXELS=300000"}, 1},  // flag over env
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"run", c.chain, in, out};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    const auto r = run_cli(args, "", c.env);
    const std::string label = fs::path(c.chain).filename().string() + " " +
                              (c.flags.empty() ? "" : c.flags[1]) + " " + (c.env.empty() ? "" : c.env[0]);
    EXPECT_EQ(r.exit_code, c.exit_code) << label << ": " << r.err;
    if (c.exit_code == 1) {
      EXPECT_THAT(r.err, HasSubstr("limit error")) << label;
      EXPECT_THAT(r.err, HasSubstr("rocket.jpg")) << label;
      EXPECT_THAT(r.err, HasSubstr("273280 pixels")) << label;
    }
    fs::remove(out);
  }
}

TEST(CliRun, ProfileTreeOnStderr) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {width: 320}\n  - sharpen\n  - grayscale\n");
  const auto r = run_cli(
      {"run", chain.string(), test::photo("rocket.jpg").string(), (dir / "o.png").string(), "--profile"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  // The run encloses decode, the steps and encode, which the report indents under it; sharpen
  // and grayscale are local steps, computed together as one run.
  for (const char* line :
       {"\nrun ", "\n  decode ", "\n  step 1: resize ", "\n  step 2: sharpen + grayscale ", "\n  encode "})
    EXPECT_THAT(r.err, HasSubstr(line)) << line;
  EXPECT_LT(r.err.find("decode"), r.err.find("step 1: resize"));
  EXPECT_LT(r.err.find("step 2: sharpen + grayscale"), r.err.find("encode"));
}

TEST(CliRun, ProfileJsonFile) {
  test::TempDir dir;
  const auto chain = write_chain(dir, "chain:\n  - resize: {width: 320}\n  - sharpen\n");
  const auto json_path = dir / "profile.json";
  const auto r = run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), (dir / "o.png").string(),
                          "--profile-json", json_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // the JSON goes to the file only
  std::ifstream in(json_path);
  const auto doc = nlohmann::json::parse(in);
  ASSERT_EQ(doc["scopes"].size(), 1u);
  const auto& run = doc["scopes"][0];
  EXPECT_EQ(run["name"], "run");
  EXPECT_EQ(run["count"], 1);
  std::vector<std::string> children;
  for (const auto& c : run["children"]) children.push_back(c["name"]);
  EXPECT_EQ(children, (std::vector<std::string>{"decode", "step 1: resize", "step 2: sharpen", "encode"}));
  EXPECT_GT(doc["peak_rss_bytes"].get<std::uint64_t>(), 0u);
}

TEST(CliRun, QuietPrintsNothing) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve).string();
  const auto in = test::photo("rocket.jpg").string();
  // Before or after the subcommand.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--quiet", "run", chain, in, (dir / "a.png").string()},
                                             {"run", chain, in, (dir / "b.png").string(), "-q"}}) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "");
  }
  EXPECT_TRUE(fs::exists(dir / "a.png"));
  EXPECT_TRUE(fs::exists(dir / "b.png"));
}

TEST(CliRun, VerboseDescribesTheRun) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kHalve);
  const auto out = dir / "o.webp";
  const auto r = run_cli({"run", chain.string(), test::photo("rocket.jpg").string(), out.string(), "-v",
                          "--preset", "fast", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr(chain.string()));
  EXPECT_THAT(r.err, HasSubstr("resize"));
  EXPECT_THAT(r.err, HasSubstr("preset fast"));
  EXPECT_THAT(r.err, HasSubstr("threads 2"));
  // The header's size, before shrink-on-load decodes it smaller.
  EXPECT_THAT(r.err, HasSubstr(fmt::format("rocket.jpg: jpeg {}x{}, 3 bands", kRocketWidth, kRocketHeight)));
  EXPECT_THAT(r.err, HasSubstr("rocket.jpg: decoded "));
  EXPECT_THAT(r.err, HasSubstr(fmt::format("{}: wrote {}x{} webp", out.string(), kHalfWidth, kHalfHeight)));
  EXPECT_THAT(r.err, HasSubstr(std::to_string(fs::file_size(out)) + " bytes"));
}

TEST(CliRun, VersionHelpAndNoSubcommand) {
  const auto v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_THAT(v.out, StartsWith(std::string("imgpipe ") + version() + "\n"));  // then the libraries

  const auto h = run_cli({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* word : {"run", "info", "ops", "--quiet", "--verbose"}) EXPECT_THAT(h.out, HasSubstr(word));
  EXPECT_EQ(h.err, "");

  const auto rh = run_cli({"run", "--help"});
  EXPECT_EQ(rh.exit_code, 0);
  for (const char* flag : {"--format", "--quality", "--preset", "--max-pixels", "--profile-json"})
    EXPECT_THAT(rh.out, HasSubstr(flag));

  // Nothing to do is a usage error; the help goes to stderr with it.
  const auto none = run_cli({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_THAT(none.err, HasSubstr("run"));
  EXPECT_THAT(none.err, HasSubstr("info"));
}

TEST(CliRun, ConstantsMatchThePhoto) {
  // The sizes the tests above expect rest on this photo's header.
  const ImageInfo info = probe(test::photo("rocket.jpg"));
  EXPECT_EQ(info.width, kRocketWidth);
  EXPECT_EQ(info.height, kRocketHeight);
}

// ---- Signals and temporary files ---------------------------------------------------------

namespace {

// A 6000x6000 photo-sized JPEG made from the synthetic image helper (noise compresses badly,
// so reading and blurring it takes seconds, long enough to signal the run halfway).
fs::path big_jpeg(const test::TempDir& dir) {
  const auto path = dir / "big.jpg";
  SaveOptions options;
  options.format = Format::jpeg;
  options.quality = 90;
  save(Image(test::make_image(6000, 6000, 3)), path, options);
  return path;
}

bool has_temporary(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".imgpipe-") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(CliRun, SigtermOfAStreamedRunLeavesNeitherOutputNorTemporary) {
  test::TempDir dir, out_dir;
  const auto chain = write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 12}\n");
  const auto input = big_jpeg(dir);
  const auto out = out_dir / "out.png";
  Child child({"run", chain.string(), input.string(), out.string(), "--stream"}, dir / "stdout",
              dir / "stderr");
  ASSERT_TRUE(child.started());
  // The streamed output is written as it is computed: its temporary file appears first.
  if (!child.wait_until([&] { return has_temporary(out_dir.path()); }))
    GTEST_SKIP() << "the run ended before its temporary file was seen; nothing to interrupt";
  child.signal(SIGTERM);
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << describe(status);
  EXPECT_EQ(WEXITSTATUS(status), 143) << test::read_text(dir / "stderr");
  EXPECT_THAT(test::read_text(dir / "stderr"), HasSubstr("SIGTERM received"));
  EXPECT_EQ(entries(out_dir.path()), std::vector<std::string>{});
}

TEST(CliRun, SigintOfAnInMemoryRunExitsWith130AndWritesNothing) {
  test::TempDir dir, out_dir;
  const auto chain =
      write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 12}\n  - gaussian_blur: {sigma: 12}\n");
  const auto input = big_jpeg(dir);
  Child child({"run", chain.string(), input.string(), (out_dir / "out.webp").string()}, dir / "stdout",
              dir / "stderr");
  ASSERT_TRUE(child.started());
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(400);
  if (!child.wait_until([&] { return std::chrono::steady_clock::now() > until; }))
    GTEST_SKIP() << "the run ended within 0.4 s; nothing to interrupt";
  child.signal(SIGINT);
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << describe(status);
  EXPECT_EQ(WEXITSTATUS(status), 130) << test::read_text(dir / "stderr");
  EXPECT_EQ(entries(out_dir.path()), std::vector<std::string>{});
}

TEST(CliRun, ResumedBatchRemovesStaleTemporariesOnly) {
  test::TempDir dir, out;
  const auto stale = out / ".rocket.webp.imgpipe-Ab12Cd", fresh = out / ".other.webp.imgpipe-Zx98Yw",
             lookalike = out / ".notes.imgpipe-old";
  for (const auto& path : {stale, fresh, lookalike}) test::write_text(path, "partial");
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(10);
  fs::last_write_time(stale, old);
  fs::last_write_time(lookalike, old);
  fs::create_directories(dir / "in");
  fs::copy_file(test::photo("rocket.jpg"), dir / "in" / "rocket.jpg");
  const auto r = run_cli({"batch", write_chain(dir, "chain:\n  - grayscale: {}\n").string(), "--input",
                          (dir / "in").string(), "--output", out.path().string(), "--resume", "--no-cache",
                          "--format", "webp"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(stale)) << "an old temporary of a killed write stays";
  EXPECT_TRUE(fs::exists(fresh)) << "a young temporary may belong to a live writer";
  EXPECT_TRUE(fs::exists(lookalike)) << "only imgpipe's own temporary names are removed";
}

// ---- User mistakes are user errors -------------------------------------------------------

TEST(CliRun, MistakesInChainsAndTheirFilesAreConfigErrorsNamingTheFile) {
  test::TempDir dir;
  const auto input = test::photo("rocket.jpg").string();
  const auto out = dir / "out.png";
  // Text that is not UTF-8, in run and in batch.
  const auto latin1 = write_chain(dir, "chain:\n  - watermark: {text: \"caf\xe9\"}\n", "latin1.yaml");
  auto r = run_cli({"run", latin1.string(), input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("UTF-8"));
  r = run_cli({"batch", latin1.string(), "--input", input, "--output", (dir / "b").string(), "--no-cache"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // A palette file whose palette name is a list: the palette file and its line are named.
  test::write_text(dir / "palettes.yaml", "sunset: [\"#000000\", \"#ffffff\"]\n[1, 2]: [\"#000000\"]\n");
  const auto palette = write_chain(
      dir, fmt::format("chain:\n  - palette: {{palettes: {}}}\n", (dir / "palettes.yaml").string()),
      "p.yaml");
  r = run_cli({"run", palette.string(), input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("palettes.yaml:2"));
  // Nesting deeper than the YAML reader goes.
  const auto deep =
      write_chain(dir, "chain: " + std::string(5000, '[') + std::string(5000, ']') + "\n", "deep.yaml");
  r = run_cli({"run", deep.string(), input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("nested more than"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliRun, WatermarkTextIsPlainTextNotMarkup) {
  test::TempDir dir;
  const auto out = dir / "out.png", plain = dir / "plain.png";
  const auto input = test::photo("rocket.jpg").string();
  auto r =
      run_cli({"run", write_chain(dir, "chain:\n  - watermark: {text: \"A & B <b>bold</b>\"}\n").string(),
               input, out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"run", write_chain(dir, "chain:\n  - watermark: {text: \"A\"}\n", "a.yaml").string(), input,
               plain.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The longer text, tags and all, covers more of the photo than "A".
  const cv::Mat original = load(input).pixels, marked = load(out).pixels, a = load(plain).pixels;
  cv::Mat diff_marked, diff_a;
  cv::absdiff(marked, original, diff_marked);
  cv::absdiff(a, original, diff_a);
  EXPECT_GT(cv::countNonZero(diff_marked.reshape(1)), 3 * cv::countNonZero(diff_a.reshape(1)));
}

// ---- Every image a chain makes is held to the pixel limit --------------------------------

TEST(CliRun, StepsThatEnlargeAreRefusedBeforeDecodingWhenOverThePixelLimit) {
  test::TempDir dir;
  const auto input = test::photo("rocket.jpg").string();  // 640x427
  const auto out = dir / "out.png";
  const std::pair<const char*, const char*> chains[] = {
      {"chain:\n  - border: {size: 10000}\n", "step 1: border makes an image of 20640x20427"},
      {"chain:\n  - resize: {width: 20000, height: 20000, fit: fill}\n",
       "step 1: resize makes an image of 20000x20000"},
      {"chain:\n  - resize: {scale: 4}\n  - rotate: {angle: 45}\n  - border: {size: 3000}\n",
       "step 3: border"},
  };
  for (const auto& [text, expected] : chains) {
    const auto start = std::chrono::steady_clock::now();
    const auto r =
        run_cli({"run", write_chain(dir, text).string(), input, out.string(), "--max-pixels", "40000000"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(expected));
    EXPECT_THAT(r.err, HasSubstr("over the limit of 40000000 pixels"));
    // Refused from the header: no 20000-pixel image was ever made.
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    EXPECT_FALSE(fs::exists(out));
  }
  // Within the limit the same kind of chain runs, and the output has the predicted size.
  const auto r =
      run_cli({"run", write_chain(dir, "chain:\n  - border: {size: 10}\n").string(), input, out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(load(out).pixels.size(), cv::Size(660, 447));
}

TEST(CliRun, WatermarkTextIsBoundedInLengthAndRenderedSize) {
  test::TempDir dir;
  const auto input = test::photo("rocket.jpg").string();
  const auto out = dir / "out.png";
  auto r = run_cli(
      {"run",
       write_chain(dir, "chain:\n  - watermark: {text: \"" + std::string(1001, 'W') + "\"}\n").string(),
       input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("at most 1000"));
  // Wider than the mask limit (16384 pixels a side), and wider than Cairo can draw at all:
  // both are the chain's mistake.
  r = run_cli(
      {"run",
       write_chain(dir, "chain:\n  - watermark: {text: \"" + std::string(300, 'W') + "\", size: 4096}\n",
                   "wide.yaml")
           .string(),
       input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("use a shorter text or a smaller size"));
  r = run_cli(
      {"run",
       write_chain(dir, "chain:\n  - watermark: {text: \"" + std::string(20, 'W') + "\", size: 1024}\n",
                   "wide2.yaml")
           .string(),
       input, out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("over the limit of 16384x16384"));
  EXPECT_FALSE(fs::exists(out));
}
