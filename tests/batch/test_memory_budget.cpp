// The memory governor, measured from outside: the batch runs as a child process and its peak
// resident memory is what the kernel reports for it (wait4), not what the batch says.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <imgpipe/imgpipe.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace imgpipe::test {
namespace {

struct ChildResult {
  int exit_code = -1;
  std::uint64_t peak_rss = 0;  // bytes
};

// Runs the CLI with stdout and stderr sent to a file; returns its exit code and peak RSS.
ChildResult run_measured(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<std::string> argv_storage = {IMGPIPE_CLI};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "w");
    if (out) {
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  ChildResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.peak_rss = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;
  return r;
}

// Distinct large photos-like inputs: noise plus gradients, so JPEG cannot shrink them to nothing.
void make_inputs(const fs::path& dir, int count, cv::Size size) {
  fs::create_directories(dir);
  cv::RNG rng(7);
  for (int i = 0; i < count; ++i) {
    cv::Mat small(size.height / 8, size.width / 8, CV_8UC3);
    rng.fill(small, cv::RNG::UNIFORM, 0, 255);
    cv::Mat pixels;
    cv::resize(small, pixels, size, 0, 0, cv::INTER_CUBIC);
    SaveOptions jpeg;
    jpeg.format = Format::jpeg;
    jpeg.quality = 80;
    save(Image(pixels), dir / fmt::format("in_{:02}.jpg", i), jpeg);
  }
}

constexpr std::uint64_t kMB = 1 << 20;

// Sanitizer builds (IMGPIPE_SANITIZED, docs/reliability.md) hold memory the budget cannot see:
// AddressSanitizer keeps freed blocks in its quarantine before reusing them and pads every
// block with redzones; ThreadSanitizer keeps shadow memory for every byte the threads touch.
// Peaks under the budget are allowed that much above the uninstrumented bound.
#if defined(IMGPIPE_SANITIZED) && IMGPIPE_SANITIZED == 1
constexpr std::uint64_t kSanitizerAllowance = 128 * kMB;
#elif defined(IMGPIPE_SANITIZED)
constexpr std::uint64_t kSanitizerAllowance = 1024 * kMB;
#else
constexpr std::uint64_t kSanitizerAllowance = 0;
#endif

std::string text_of(const fs::path& path) {
  const auto bytes = read_file(path);
  return {bytes.begin(), bytes.end()};
}

TEST(MemoryBudget, PeakStaysUnderTheBudgetWithManyLargeInputs) {
  TempDir tmp;
  const cv::Size size(3000, 2000);  // 18 MB decoded; a blur needs several times that
  make_inputs(tmp / "in", 8, size);
  write_text(tmp / "chain.yaml",
             "chain:\n  - gaussian_blur: {sigma: 2}\n  - sharpen: {amount: 0.5}\noutput: {format: jpeg, "
             "quality: 80}\n"
             "on_error: continue\n");

  // The process's fixed base: the same binary and chain on one tiny image.
  make_inputs(tmp / "tiny", 1, cv::Size(64, 48));
  const auto base = run_measured({"batch", (tmp / "chain.yaml").string(), "-i", (tmp / "tiny").string(), "-o",
                                  (tmp / "out-tiny").string(), "--no-cache", "-q"},
                                 tmp / "tiny.log");
  ASSERT_EQ(base.exit_code, 0) << text_of(tmp / "tiny.log");

  auto run = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {"batch",
                                     (tmp / "chain.yaml").string(),
                                     "-i",
                                     (tmp / "in").string(),
                                     "-o",
                                     (tmp / name).string(),
                                     "--no-cache",
                                     "--jobs",
                                     "4",
                                     "--threads",
                                     "4",
                                     "--report",
                                     (tmp / (name + ".jsonl")).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_measured(args, tmp / (name + ".log"));
    EXPECT_EQ(r.exit_code, 0) << text_of(tmp / (name + ".log"));
    return r;
  };

  const std::uint64_t budget = 100 * kMB;
  const auto governed = run("governed", {"--max-memory", "100MiB"});
  const auto free_run = run("free", {});
  std::cout << fmt::format("peak RSS: base {} MB, budget {} MB: {} MB, no budget: {} MB\n",
                           base.peak_rss / kMB, budget / kMB, governed.peak_rss / kMB,
                           free_run.peak_rss / kMB);
  EXPECT_LE(governed.peak_rss, budget + base.peak_rss + kSanitizerAllowance);
  // The budget is what kept it down: four images in flight need more.
  EXPECT_GT(free_run.peak_rss, budget + base.peak_rss);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(fs::exists(tmp / "governed" / fmt::format("in_{:02}.jpg", i)));
}

TEST(MemoryBudget, AnImageOverTheBudgetAloneIsStreamedWhenTheChainCanStream) {
  TempDir tmp;
  make_inputs(tmp / "in", 1, cv::Size(3000, 2000));
  write_text(tmp / "chain.yaml", "chain:\n  - gaussian_blur: {sigma: 2}\noutput: {format: png}\n");
  const auto streamed = run_measured(
      {"batch", (tmp / "chain.yaml").string(), "-i", (tmp / "in").string(), "-o", (tmp / "out").string(),
       "--no-cache", "--max-memory", "40MB", "--report", (tmp / "report.jsonl").string()},
      tmp / "streamed.log");
  ASSERT_EQ(streamed.exit_code, 0) << text_of(tmp / "streamed.log");
  const std::string report = text_of(tmp / "report.jsonl");
  EXPECT_NE(report.find("\"strategy\":\"streamed\""), std::string::npos) << report;
  // The same pixels as the in-memory run (PNG is lossless; the blur is exact tile by tile).
  const auto whole = run_cli({"batch", (tmp / "chain.yaml").string(), "-i", (tmp / "in").string(), "-o",
                              (tmp / "whole").string(), "--no-cache"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const Image a = load(tmp / "out" / "in_00.png"), b = load(tmp / "whole" / "in_00.png");
  ASSERT_EQ(a.pixels.size(), b.pixels.size());
  EXPECT_LE(cv::norm(a.pixels, b.pixels, cv::NORM_INF), 1.0);
}

TEST(MemoryBudget, AnImageOverTheBudgetAloneFailsWhenTheChainCannotStream) {
  TempDir tmp;
  make_inputs(tmp / "in", 1, cv::Size(3000, 2000));
  write_text(tmp / "chain.yaml", "chain:\n  - dither: {}\noutput: {format: png}\n");
  const auto r = run_cli({"batch", (tmp / "chain.yaml").string(), "-i", (tmp / "in").string(), "-o",
                          (tmp / "out").string(), "--no-cache", "--max-memory", "50MB", "--report", "-"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("\"error_category\":\"limit\""), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("in_00.jpg"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("memory budget"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp / "out" / "in_00.png"));
}

TEST(MemoryBudget, EstimateGrowsWithTheImageAndTheChain) {
  const ChainFile blur = parse_chain("chain:\n  - gaussian_blur: {sigma: 2}\n");
  const ChainFile point = parse_chain("chain:\n  - grayscale: {}\n");
  const ChainFile shrink = parse_chain(
      "chain:\n  - resize: {width: 300, height: 200, fit: inside}\n  - gaussian_blur: {sigma: 2}\n");
  ImageInfo info;
  info.format = "jpeg";
  info.width = 3000;
  info.height = 2000;
  info.bands = 3;
  const double decoded = 3000.0 * 2000 * 3;
  // At least the decoded image, its output and the filter's float copies; a point step less.
  EXPECT_GE(static_cast<double>(estimate_working_set(blur, info)), decoded * 2);
  EXPECT_LT(estimate_working_set(point, info), estimate_working_set(blur, info));
  // A leading downscale decodes at 1/8 (JPEG shrink-on-load) and filters the small image.
  EXPECT_LT(static_cast<double>(estimate_working_set(shrink, info)), decoded / 4);
  ImageInfo twice = info;
  twice.width *= 2;
  EXPECT_GT(estimate_working_set(blur, twice), estimate_working_set(blur, info));
}

// Every step's output counts: an enlarging resize, borders and a fan-out make the peak, and the
// estimate names the step where it is.
TEST(MemoryBudget, EstimateCoversEveryStepsOutputAndNamesThePeak) {
  using ::testing::AnyOf;
  using ::testing::HasSubstr;
  ImageInfo info;
  info.format = "png";
  info.width = 1000;
  info.height = 1000;
  info.bands = 3;
  const double decoded = 1000.0 * 1000 * 3;
  std::string peak;
  const ChainFile enlarge = parse_chain(
      "chain:\n  - grayscale: {}\n  - resize: {width: 8000, height: 8000, fit: fill}\n  - grayscale: {}\n");
  const auto enlarged = estimate_working_set(enlarge, info, &peak);
  // The 8000² output (192 MB) and more, at the resize or after it.
  EXPECT_GE(static_cast<double>(enlarged), 8000.0 * 8000 * 3);
  EXPECT_THAT(peak, AnyOf(HasSubstr("step 2: resize"), HasSubstr("step 3"), HasSubstr("encoding")));
  const ChainFile borders =
      parse_chain("chain:\n  - border: {size: 2000}\n  - border: {size: 2000}\n  - border: {size: 2000}\n");
  const auto bordered = estimate_working_set(borders, info, &peak);
  EXPECT_GE(static_cast<double>(bordered), 13000.0 * 13000 * 3);  // the third border's output
  EXPECT_THAT(peak, AnyOf(HasSubstr("step 3: border"), HasSubstr("encoding")));
  // A fan-out holds every variant: three palettes, three images after the palette step.
  TempDir tmp;
  write_text(tmp / "p.json", R"({"a": ["#000", "#fff"], "b": ["#f00", "#0f0"], "c": ["#00f", "#ff0"]})");
  const ChainFile fan =
      parse_chain(fmt::format("chain:\n  - palette: {{palettes: \"{}\"}}\n  - gaussian_blur: {{sigma: 2}}\n",
                              (tmp / "p.json").string()));
  EXPECT_GE(static_cast<double>(estimate_working_set(fan, info)), decoded * 3);
  // Decoding is the peak of a chain of point steps on a large file.
  ImageInfo big_file = info;
  big_file.file_bytes = 500'000'000;
  estimate_working_set(parse_chain("chain:\n  - grayscale: {}\n"), big_file, &peak);
  EXPECT_EQ(peak, "decoding");
}

TEST(MemoryBudget, RunRefusesAChainOverTheBudgetThatCannotStreamNamingTheStep) {
  using ::testing::HasSubstr;
  TempDir tmp;
  make_inputs(tmp / "in", 1, cv::Size(1500, 1000));
  write_text(
      tmp / "chain.yaml",
      "chain:\n  - resize: {width: 6000, height: 4000, fit: fill}\n  - dither: {}\noutput: {format: png}\n");
  const auto r = run_cli({"run", (tmp / "chain.yaml").string(), (tmp / "in" / "in_00.jpg").string(),
                          (tmp / "out.png").string(), "--max-memory", "100MB"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("in_00.jpg: needs about"));
  EXPECT_THAT(r.err, HasSubstr("over the memory budget of 100 MB"));
  EXPECT_THAT(r.err, HasSubstr("(step "));
  EXPECT_FALSE(fs::exists(tmp / "out.png"));
}

}  // namespace
}  // namespace imgpipe::test
