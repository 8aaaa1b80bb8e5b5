// `imgpipe batch` through the real binary: nested folders with broken files, symbolic link
// loops, plans refused before any work, resume after a kill, shards from flags and job
// engines' variables, the result cache, SIGINT and SIGTERM, time limits, dry runs,
// on_error: stop, and an output folder inside the input folder.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace imgpipe;
using test::Child;
using test::describe;
using test::read_text;
using test::run_cli;
using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

namespace {

namespace fs = std::filesystem;

// Variables that would change what a batch does (its shard, its settings) are removed once,
// before any test, so that the tests mean the same inside a job engine's worker.
class CleanEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const char* name : {"CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT",    "JOB_COMPLETION_INDEX",
                             "IMGPIPE_SHARD_COUNT",  "SLURM_ARRAY_TASK_ID",     "SLURM_ARRAY_TASK_MIN",
                             "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT",  "SLURM_ARRAY_TASK_STEP",
                             "IMGPIPE_THREADS",      "IMGPIPE_DEVICE",          "IMGPIPE_PRESET",
                             "IMGPIPE_MAX_MEMORY",   "IMGPIPE_MAX_PIXELS",      "IMGPIPE_MAX_FILE_SIZE",
                             "IMGPIPE_TILE_SIZE",    "IMGPIPE_PARALLEL_IMAGES", "IMGPIPE_FORMAT",
                             "IMGPIPE_QUALITY",      "IMGPIPE_ON_ERROR"})
      ::unsetenv(name);
  }
};
[[maybe_unused]] const auto* const kCleanEnvironment =
    ::testing::AddGlobalTestEnvironment(new CleanEnvironment);

fs::path write_chain(const test::TempDir& dir, const std::string& text,
                     const std::string& name = "chain.yml") {
  const auto path = dir / name;
  test::write_text(path, text);
  return path;
}

using test::line_count;

using test::read_report;

// Every regular file below `root`, as relative paths with '/'; `hidden` says whether names
// starting with '.' (the journal, temporary files) are listed.
std::set<std::string> files_under(const fs::path& root, bool hidden = false) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    if (!hidden && name.front() == '.') continue;
    out.insert(fs::relative(e.path(), root).generic_string());
  }
  return out;
}

// The arguments of one batch; `extra` comes last.
std::vector<std::string> batch(const fs::path& chain, const std::vector<fs::path>& inputs,
                               const fs::path& output, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"batch", chain.string()};
  for (const auto& input : inputs) {
    args.push_back("--input");
    args.push_back(input.string());
  }
  args.push_back("--output");
  args.push_back(output.string());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// ---- Images ------------------------------------------------------------------------------

void save_as(const cv::Mat& pixels, const fs::path& path, Format format) {
  SaveOptions options;
  options.format = format;
  options.allow_indexed = false;
  save(Image(pixels), path, options);
}

// A distinct small picture per seed.
void write_small(const fs::path& path, std::uint32_t seed, int width = 24, int height = 16) {
  fs::create_directories(path.parent_path());
  save_as(test::make_image(width, height, 3, CV_8U, seed), path,
          path.extension() == ".jpg" ? Format::jpeg : Format::png);
}

// The size "fit inside" a box must give, computed here: the largest scale that fits, each
// side rounded to the nearest pixel (coffee.png, 600x400, gives 64x43; building.jpg 64x44).
cv::Size fit_inside(int width, int height, int box_width, int box_height) {
  const double scale =
      std::min(static_cast<double>(box_width) / width, static_cast<double>(box_height) / height);
  return {static_cast<int>(std::lround(width * scale)), static_cast<int>(std::lround(height * scale))};
}

// Loads with the library's safe default (fail on warnings), so a cut-off file fails.
::testing::AssertionResult decodes(const fs::path& path, std::optional<cv::Size> size = std::nullopt) {
  try {
    const Image image = load(path);
    if (size && (image.width() != size->width || image.height() != size->height))
      return ::testing::AssertionFailure() << path << " is " << image.width() << "x" << image.height()
                                           << ", expected " << size->width << "x" << size->height;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << path << " does not decode: " << e.what();
  }
}

}  // namespace

// ---- 1. A nested tree with broken files --------------------------------------------------

TEST(CliBatch, NestedTreeWithBrokenFilesContinues) {
  test::TempDir dir;
  const fs::path in = dir / "in", out = dir / "out";
  fs::create_directories(in / "l1" / "l2" / "l3");
  // Good files at every level, as relpath → the size their 64x64 "inside" fit must have.
  std::map<std::string, cv::Size> good;
  auto copy_photo = [&](const std::string& name, const std::string& rel) {
    fs::copy_file(test::photo(name), in / rel);
    const ImageInfo info = probe(in / rel);
    good[rel] = fit_inside(info.width, info.height, 64, 64);
  };
  copy_photo("baboon.jpg", "l1/baboon.jpg");     // 512x512 → 64x64
  copy_photo("fruits.jpg", "l1/l2/fruits.jpg");  // 512x480 → 64x60
  copy_photo("coffee.png", "l1/l2/l3/coffee.png");
  copy_photo("building.jpg", "l1/l2/l3/building.jpg");
  save_as(test::make_image(128, 32, 3, CV_8U, 7), in / "top.png", Format::png);
  good["top.png"] = {64, 16};
  save_as(test::make_image(40, 80, 4, CV_8U, 8), in / "l1" / "l2" / "l3" / "deep.png", Format::png);
  good["l1/l2/l3/deep.png"] = {32, 64};
  // Broken files beside them.
  fs::copy_file(test::photo("truncated.jpg"), in / "l1" / "truncated.jpg");
  test::write_text(in / "l1" / "l2" / "x.jpg", "this is a text file, not a JPEG\n");
  test::write_text(in / "l1" / "l2" / "l3" / "y.png", "");
  const std::set<std::string> broken = {"l1/truncated.jpg", "l1/l2/x.jpg", "l1/l2/l3/y.png"};

  const auto chain = write_chain(dir, R"(chain:
  - resize: {width: 64, height: 64, fit: inside}
output: {format: png}
on_error: continue
)");
  const auto report_path = dir / "report.jsonl";
  const auto r = run_cli(batch(chain, {in}, out, {"--no-cache", "--report", report_path.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Processed 9 images, 3 errors"));

  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  EXPECT_TRUE(report.summary_last);
  EXPECT_EQ((*report.summary)["ok"], 6);
  EXPECT_EQ((*report.summary)["failed"], 3);
  const auto records = report.by_input();
  EXPECT_EQ(records.size(), good.size() + broken.size());
  for (const auto& rel : broken) {
    const std::string input = (in / rel).string();
    ASSERT_EQ(records.count(input), 1u) << input;
    const json& rec = records.at(input);
    EXPECT_EQ(rec["status"], "failed") << rec;
    // A corrupt, cut-off or empty file is a decode error (error.hpp).
    EXPECT_EQ(rec.value("error_category", ""), "decode") << rec;
    EXPECT_THAT(rec.value("error", ""), HasSubstr(input));
    EXPECT_THAT(r.err, HasSubstr(input));
    EXPECT_FALSE(fs::exists(out / fs::path(rel).replace_extension(".png"))) << rel;
  }
  std::set<std::string> expected_files;
  for (const auto& [rel, size] : good) {
    const std::string input = (in / rel).string();
    ASSERT_EQ(records.count(input), 1u) << input;
    const json& rec = records.at(input);
    EXPECT_EQ(rec["status"], "ok") << rec;
    EXPECT_FALSE(rec.contains("error_category")) << rec;
    const fs::path output = out / fs::path(rel).replace_extension(".png");
    EXPECT_EQ(rec["outputs"], json::array({output.string()})) << rec;
    EXPECT_TRUE(decodes(output, size));
    EXPECT_EQ(read_text(output).substr(0, 8), "\x89PNG\r\n\x1a\n") << output;
    expected_files.insert(fs::path(rel).replace_extension(".png").generic_string());
  }
  // The mirrored tree and nothing else (the journal is hidden).
  EXPECT_EQ(files_under(out), expected_files);
}

// ---- 2. Symbolic links -------------------------------------------------------------------

TEST(CliBatch, SymlinkLoopIsEnteredOnceAndLinksNeedTheFlag) {
  test::TempDir dir;
  const fs::path in = dir / "in", elsewhere = dir / "elsewhere";
  write_small(in / "a.png", 1);
  write_small(in / "dir" / "b.png", 2);
  write_small(in / "dir" / "sub" / "c.png", 3);
  write_small(elsewhere / "far.png", 4);
  fs::create_directory_symlink("..", in / "dir" / "loop");         // dir/loop → in
  fs::create_directory_symlink(".", in / "dir" / "sub" / "self");  // sub/self → sub
  fs::create_directory_symlink(elsewhere, in / "outside");         // a folder outside the tree
  fs::create_symlink(in / "a.png", in / "z-alias.png");            // a second name for a.png
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: png}\n");

  // Each real file → how many records name it.
  auto run = [&](const std::string& name, bool follow) {
    const auto report_path = dir / (name + ".jsonl");
    std::vector<std::string> extra = {"--no-cache", "--report", report_path.string()};
    if (follow) extra.push_back("--follow-symlinks");
    const auto r = run_cli(batch(chain, {in}, dir / name, extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, int> seen;
    for (const auto& rec : read_report(report_path).inputs) {
      EXPECT_EQ(rec["status"], "ok") << rec;
      ++seen[fs::canonical(rec.at("input").get<std::string>()).string()];
    }
    return seen;
  };
  const std::string a = fs::canonical(in / "a.png").string(),
                    b = fs::canonical(in / "dir" / "b.png").string(),
                    c = fs::canonical(in / "dir" / "sub" / "c.png").string(),
                    far = fs::canonical(elsewhere / "far.png").string();

  const auto followed = run("followed", true);
  EXPECT_EQ(followed, (std::map<std::string, int>{{a, 1}, {b, 1}, {c, 1}, {far, 1}}));
  EXPECT_EQ(files_under(dir / "followed"),
            (std::set<std::string>{"a.png", "dir/b.png", "dir/sub/c.png", "outside/far.png"}));

  const auto plain = run("plain", false);
  EXPECT_EQ(plain, (std::map<std::string, int>{{a, 1}, {b, 1}, {c, 1}}));
  EXPECT_EQ(files_under(dir / "plain"), (std::set<std::string>{"a.png", "dir/b.png", "dir/sub/c.png"}));
}

// ---- 3. Output folders that cannot be used -----------------------------------------------

TEST(CliBatch, OutputFolderUnderAFileIsRefusedBeforeAnyWork) {
  test::TempDir dir;
  write_small(dir / "in" / "a.png", 1);
  write_small(dir / "in" / "b.png", 2);
  test::write_text(dir / "file", "a regular file\n");
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");
  const auto report_path = dir / "report.jsonl";
  const auto r = run_cli(
      batch(chain, {dir / "in"}, dir / "file" / "out", {"--no-cache", "--report", report_path.string()}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr((dir / "file" / "out").string()));
  EXPECT_THAT(r.err, Not(HasSubstr("Processed")));
  EXPECT_EQ(read_text(report_path), "");  // no record: nothing started
  EXPECT_EQ(read_text(dir / "file"), "a regular file\n");
  EXPECT_EQ(files_under(dir.path(), true),
            (std::set<std::string>{"chain.yml", "file", "in/a.png", "in/b.png"}));
}

TEST(CliBatch, ReadOnlyOutputFolderIsRefusedBeforeAnyWork) {
  if (::geteuid() == 0) GTEST_SKIP() << "running as root: permission bits do not stop root from writing";
  test::TempDir dir;
  write_small(dir / "in" / "a.png", 1);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");
  const fs::path locked = dir / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  // The folder itself (cannot write in it) and a folder below it (cannot create it).
  for (const fs::path& output : {locked, locked / "out"}) {
    const auto report_path = dir / "report.jsonl";
    const auto r =
        run_cli(batch(chain, {dir / "in"}, output, {"--no-cache", "--report", report_path.string()}));
    EXPECT_EQ(r.exit_code, 2) << output << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(output.string()));
    EXPECT_EQ(read_text(report_path), "") << output;
  }
  EXPECT_TRUE(fs::is_empty(locked));
  fs::permissions(locked, fs::perms::owner_all);  // so that the folder can be removed
}

// ---- 4. Plans refused: collisions and escapes --------------------------------------------

TEST(CliBatch, TwoInputsToOneOutputAreRefused) {
  test::TempDir dir;
  const fs::path in = dir / "in", out = dir / "out";
  write_small(in / "a" / "x.jpg", 1);
  write_small(in / "b" / "x.jpg", 2);
  write_small(in / "c.jpg", 3);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");
  const auto r = run_cli(batch(chain, {in}, out, {"--no-cache", "--output-template", "{stem}.{ext}"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr((in / "a" / "x.jpg").string()));
  EXPECT_THAT(r.err, HasSubstr((in / "b" / "x.jpg").string()));
  EXPECT_TRUE(files_under(out, true).empty());
  // With the folder in the name they no longer collide.
  const auto fixed =
      run_cli(batch(chain, {in}, out, {"--no-cache", "--output-template", "{dir}/{stem}.{ext}"}));
  EXPECT_EQ(fixed.exit_code, 0) << fixed.err;
  EXPECT_EQ(files_under(out), (std::set<std::string>{"a/x.jpg", "b/x.jpg", "c.jpg"}));
}

TEST(CliBatch, TemplateLeavingTheOutputFolderIsRefused) {
  test::TempDir dir;
  const fs::path out = dir / "box" / "out";
  write_small(dir / "in" / "a.png", 1);
  write_small(dir / "in" / "sub" / "b.png", 2);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");
  for (const std::string tmpl : {"../{stem}.{ext}", "{dir}/../../{stem}.{ext}"}) {
    const auto r = run_cli(batch(chain, {dir / "in"}, out, {"--no-cache", "--output-template", tmpl}));
    EXPECT_EQ(r.exit_code, 2) << tmpl << ": " << r.err;
    EXPECT_THAT(r.err, Not(HasSubstr("Processed"))) << tmpl;
  }
  EXPECT_EQ(files_under(dir.path(), true), (std::set<std::string>{"chain.yml", "in/a.png", "in/sub/b.png"}));
}

// ---- Heavy batches: kill, resume, SIGINT, SIGTERM ----------------------------------------

// 30 distinct 600x400 inputs, PNG and JPEG, made once for the suite. A Gaussian blur with a
// wide kernel and a WebP encode make the batch last a few seconds on two threads, long enough
// to be interrupted in the middle.
class CliBatchHeavy : public ::testing::Test {
 protected:
  static constexpr int kInputs = 30;
  static void SetUpTestSuite() {
    inputs_ = new test::TempDir;
    for (int i = 0; i < kInputs; ++i)
      save_as(test::make_image(600, 400, 3, CV_8U, static_cast<std::uint32_t>(100 + i)),
              input_dir() / fmt::format("img{:02}.{}", i, i % 2 ? "png" : "jpg"),
              i % 2 ? Format::png : Format::jpeg);
  }
  static void TearDownTestSuite() {
    delete inputs_;
    inputs_ = nullptr;
  }
  static fs::path input_dir() { return inputs_->path(); }
  static std::string input(int i) {
    return (input_dir() / fmt::format("img{:02}.{}", i, i % 2 ? "png" : "jpg")).string();
  }
  static std::string output_name(int i) { return fmt::format("img{:02}.webp", i); }
  static std::set<std::string> all_inputs() {
    std::set<std::string> out;
    for (int i = 0; i < kInputs; ++i) out.insert(input(i));
    return out;
  }
  static fs::path heavy_chain(const test::TempDir& dir) {
    return write_chain(
        dir, "chain:\n  - gaussian_blur: {sigma: 3}\n  - sharpen: {amount: 1}\noutput: {format: webp}\n");
  }
  static std::vector<std::string> heavy_flags(const fs::path& report) {
    return {"--no-cache", "--jobs", "2", "--threads", "2", "--report", report.string()};
  }

  // SIGINT or SIGTERM once the first record is out: the batch finishes what is in flight,
  // reports the rest as cancelled and ends with the signal's code.
  // With `twice`, the second signal abandons the images in flight too.
  static void interrupt(int sig, int expected_exit, bool twice = false) {
    test::TempDir dir;
    const fs::path out = dir / "out", report_path = dir / "report.jsonl";
    Child child(batch(heavy_chain(dir), {input_dir()}, out, heavy_flags(report_path)), dir / "stdout",
                dir / "stderr");
    ASSERT_TRUE(child.started());
    const bool in_time = child.wait_until([&] { return line_count(report_path) >= 1; });
    ASSERT_TRUE(in_time) << "the batch ended before it could be interrupted: " << describe(child.wait())
                         << "\n"
                         << read_text(dir / "stderr");
    child.signal(sig);
    if (twice) {
      // The first must have been taken (its message printed) before the second is sent.
      const bool noticed =
          child.wait_until([&] { return read_text(dir / "stderr").find(" received") != std::string::npos; });
      ASSERT_TRUE(noticed) << "the batch ended before the second signal: " << read_text(dir / "stderr");
      child.signal(sig);
    }
    const int status = child.wait();
    ASSERT_TRUE(WIFEXITED(status)) << describe(status) << "\n" << read_text(dir / "stderr");
    EXPECT_EQ(WEXITSTATUS(status), expected_exit) << read_text(dir / "stderr");
    EXPECT_THAT(read_text(dir / "stderr"), HasSubstr(sig == SIGINT ? "SIGINT received" : "SIGTERM received"));

    const test::BatchReport report = read_report(report_path);
    ASSERT_TRUE(report.summary);
    EXPECT_TRUE(report.summary_last);
    EXPECT_EQ((*report.summary)["stopped"], true);
    const auto records = report.by_input();
    std::set<std::string> named;
    for (const auto& [name, rec] : records) named.insert(name);
    EXPECT_EQ(named, all_inputs());
    const auto ok = report.with_status("ok"), cancelled = report.with_status("cancelled");
    EXPECT_EQ(ok.size() + cancelled.size(), static_cast<std::size_t>(kInputs));
    EXPECT_FALSE(cancelled.empty()) << "the signal came after the last input";
    EXPECT_EQ((*report.summary)["ok"], ok.size());
    EXPECT_EQ((*report.summary)["cancelled"], cancelled.size());
    for (int i = 0; i < kInputs; ++i) {
      const fs::path output = out / output_name(i);
      if (ok.count(input(i))) {
        EXPECT_TRUE(decodes(output, cv::Size(600, 400)));
      }
      if (cancelled.count(input(i))) {
        EXPECT_FALSE(fs::exists(output)) << output;
        EXPECT_EQ(records.at(input(i)).value("error_category", ""), "cancelled");
      }
    }
    // Every file at an output name is a whole image.
    for (const auto& rel : files_under(out)) EXPECT_TRUE(decodes(out / rel)) << rel;
  }

 private:
  static inline test::TempDir* inputs_ = nullptr;
};

TEST_F(CliBatchHeavy, KilledBatchResumes) {
  test::TempDir dir;
  const fs::path out = dir / "out", journal = out / ".imgpipe-journal.jsonl";
  const auto chain = heavy_chain(dir);

  std::set<std::string> journaled;  // inputs (relative) the killed run finished
  {
    Child child(batch(chain, {input_dir()}, out, heavy_flags(dir / "first.jsonl")), dir / "stdout",
                dir / "stderr");
    ASSERT_TRUE(child.started());
    const bool in_time = child.wait_until([&] { return line_count(journal) >= 3; });
    ASSERT_TRUE(in_time) << "the batch ended before it could be killed: " << describe(child.wait()) << "\n"
                         << read_text(dir / "stderr");
    child.signal(SIGKILL);
    const int status = child.wait();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe(status);
    std::istringstream lines(read_text(journal));
    std::string line;
    while (std::getline(lines, line)) {
      const json j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) journaled.insert(j.at("input").get<std::string>());
    }
  }
  ASSERT_GE(journaled.size(), 3u);
  ASSERT_LT(journaled.size(), static_cast<std::size_t>(kInputs)) << "the kill came after the last input";
  // Whatever the kill interrupted, nothing at an output name is a partial file.
  for (const auto& rel : files_under(out)) EXPECT_TRUE(decodes(out / rel)) << rel;

  const auto report_path = dir / "resumed.jsonl";
  auto flags = heavy_flags(report_path);
  flags.push_back("--resume");
  const auto r = run_cli(batch(chain, {input_dir()}, out, flags));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  const auto skipped = report.with_status("skipped"), ok = report.with_status("ok");
  std::set<std::string> expected_skipped;
  for (const auto& rel : journaled) expected_skipped.insert((input_dir() / rel).string());
  EXPECT_EQ(skipped, expected_skipped);
  EXPECT_EQ(skipped.size() + ok.size(), static_cast<std::size_t>(kInputs));
  EXPECT_EQ(report.by_input().size(), static_cast<std::size_t>(kInputs));
  for (const auto& rec : report.inputs)
    if (rec["status"] == "skipped") {
      EXPECT_EQ(rec["strategy"], "resume") << rec;
    }

  std::set<std::string> expected_outputs;
  for (int i = 0; i < kInputs; ++i) {
    expected_outputs.insert(output_name(i));
    EXPECT_TRUE(decodes(out / output_name(i), cv::Size(600, 400)));
  }
  EXPECT_EQ(files_under(out), expected_outputs);
  // Hidden files: the journal, and temporary files of writes the kill cut short (younger than
  // two minutes, so the resumed run leaves them to a possible live writer). None of them is
  // at an output's name.
  const std::regex temporary(R"(\.(.+)\.imgpipe-[A-Za-z0-9]{6})");
  for (const auto& rel : files_under(out, true)) {
    if (expected_outputs.count(rel) || rel == ".imgpipe-journal.jsonl") continue;
    std::smatch match;
    EXPECT_TRUE(std::regex_match(rel, match, temporary)) << "unexpected file " << rel;
  }
}

TEST_F(CliBatchHeavy, SigintFinishesInFlightAndExits130) {
  interrupt(SIGINT, 130);
}

TEST_F(CliBatchHeavy, SigtermFinishesInFlightAndExits143) {
  interrupt(SIGTERM, 143);
}

TEST_F(CliBatchHeavy, SecondSigintAbandonsInFlightAndExits130) {
  interrupt(SIGINT, 130, true);
}

// ---- 6. Shards ---------------------------------------------------------------------------

TEST(CliBatch, ShardsFromFlagsAndJobEnginesAreDisjointAndComplete) {
  test::TempDir dir;
  const fs::path in = dir / "in";
  std::set<std::string> all;
  for (int i = 0; i < 12; ++i) {
    const std::string rel = fmt::format("{}/p{:02}.png", i % 3 == 0 ? "x" : "y/z", i);
    write_small(in / rel, static_cast<std::uint32_t>(i + 1), 8, 8);
    all.insert((in / rel).string());
  }
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");
  int runs = 0;
  // The inputs one shard's run processed, from its report; its outputs are checked too.
  auto shard_run = [&](const std::vector<std::string>& flags, const std::vector<std::string>& env) {
    const std::string name = fmt::format("run{}", runs++);
    const auto report_path = dir / (name + ".jsonl");
    std::vector<std::string> extra = {"--no-cache", "--report", report_path.string()};
    extra.insert(extra.end(), flags.begin(), flags.end());
    const auto r = run_cli(batch(chain, {in}, dir / name, extra), "", env);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.err;
    std::set<std::string> done;
    for (const auto& rec : read_report(report_path).inputs) {
      EXPECT_EQ(rec["status"], "ok") << rec;
      done.insert(rec.at("input").get<std::string>());
    }
    EXPECT_EQ(files_under(dir / name).size(), done.size()) << name;
    return done;
  };
  auto expect_partition = [&](const std::vector<std::set<std::string>>& shards, const std::string& how) {
    std::set<std::string> joined;
    std::size_t total = 0;
    for (const auto& shard : shards) {
      EXPECT_FALSE(shard.empty()) << how << ": an empty shard (12 inputs over 3 shards)";
      joined.insert(shard.begin(), shard.end());
      total += shard.size();
    }
    EXPECT_EQ(joined, all) << how;
    EXPECT_EQ(total, all.size()) << how << ": shards overlap";
  };

  std::vector<std::set<std::string>> by_flag;
  for (int i = 0; i < 3; ++i) by_flag.push_back(shard_run({"--shard", fmt::format("{}/3", i)}, {}));
  expect_partition(by_flag, "--shard");

  std::vector<std::set<std::string>> cloud_run, kubernetes, kubernetes_flag, slurm;
  for (int i = 0; i < 3; ++i) {
    cloud_run.push_back(shard_run({}, {fmt::format("CLOUD_RUN_TASK_INDEX={}", i), "CLOUD_RUN_TASK_COUNT=3"}));
    kubernetes.push_back(shard_run({}, {fmt::format("JOB_COMPLETION_INDEX={}", i), "IMGPIPE_SHARD_COUNT=3"}));
    kubernetes_flag.push_back(shard_run({"--shard-count", "3"}, {fmt::format("JOB_COMPLETION_INDEX={}", i)}));
    // Slurm array 1-5:2: ids 1, 3, 5 are shards 0, 1, 2.
    slurm.push_back(shard_run({}, {fmt::format("SLURM_ARRAY_TASK_ID={}", 1 + 2 * i), "SLURM_ARRAY_TASK_MIN=1",
                                   "SLURM_ARRAY_TASK_STEP=2", "SLURM_ARRAY_TASK_COUNT=3"}));
  }
  EXPECT_EQ(cloud_run, by_flag);
  EXPECT_EQ(kubernetes, by_flag);
  EXPECT_EQ(kubernetes_flag, by_flag);
  EXPECT_EQ(slurm, by_flag);

  // The flag wins over the environment.
  EXPECT_EQ(shard_run({"--shard", "2/3"}, {"CLOUD_RUN_TASK_INDEX=0", "CLOUD_RUN_TASK_COUNT=3"}), by_flag[2]);

  // What cannot be a shard stops the batch before it starts.
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> refused = {
      {{}, {"JOB_COMPLETION_INDEX=1"}},
      {{"--shard", "3/3"}, {}},
      {{"--shard", "x"}, {}},
      {{"--shard", "-1/3"}, {}},
      {{}, {"CLOUD_RUN_TASK_INDEX=1"}},
      {{},
       {"SLURM_ARRAY_TASK_ID=2", "SLURM_ARRAY_TASK_MIN=1", "SLURM_ARRAY_TASK_STEP=2",
        "SLURM_ARRAY_TASK_COUNT=3"}},
  };
  for (const auto& [flags, env] : refused) {
    const fs::path out = dir / "refused";
    std::vector<std::string> extra = {"--no-cache"};
    extra.insert(extra.end(), flags.begin(), flags.end());
    const auto r = run_cli(batch(chain, {in}, out, extra), "", env);
    EXPECT_EQ(r.exit_code, 2) << fmt::format("{} {}: {}", fmt::join(flags, " "), fmt::join(env, " "), r.err);
    EXPECT_TRUE(files_under(out).empty());
  }
}

// ---- 7. The result cache -----------------------------------------------------------------

TEST(CliBatch, CacheHitsOnlyForTheSameInputChainAndSettings) {
  test::TempDir dir;
  const fs::path in = dir / "in", cache = dir / "cache";
  const std::vector<std::string> names = {"a.png", "b.jpg", "sub/c.png", "sub/d.png"};
  for (std::size_t i = 0; i < names.size(); ++i)
    write_small(in / names[i], static_cast<std::uint32_t>(i + 1), 48, 32);
  const auto blur2 =
      write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 2}\noutput: {format: webp}\n", "blur2.yml");
  const auto blur3 =
      write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 3}\noutput: {format: webp}\n", "blur3.yml");
  int runs = 0;
  // Input → whether it came from the cache; every record must be ok and its output decode.
  auto run = [&](const fs::path& chain, const std::vector<std::string>& flags = {}) {
    const std::string name = fmt::format("out{}", runs++);
    const auto report_path = dir / (name + ".jsonl");
    std::vector<std::string> extra = {"--cache", cache.string(), "--report", report_path.string()};
    extra.insert(extra.end(), flags.begin(), flags.end());
    const auto r = run_cli(batch(chain, {in}, dir / name, extra));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, bool> hits;
    for (const auto& rec : read_report(report_path).inputs) {
      EXPECT_EQ(rec["status"], "ok") << rec;
      const bool hit = rec.at("cache_hit").get<bool>();
      EXPECT_EQ(rec["strategy"], hit ? "cache" : "in-memory") << rec;
      hits[fs::relative(rec.at("input").get<std::string>(), in).generic_string()] = hit;
    }
    for (const auto& rel : names)
      EXPECT_TRUE(decodes(dir / name / fs::path(rel).replace_extension(".webp"), cv::Size(48, 32)));
    return hits;
  };
  auto all_of = [&](bool hit) {
    std::map<std::string, bool> out;
    for (const auto& rel : names) out[rel] = hit;
    return out;
  };

  EXPECT_EQ(run(blur2), all_of(false));  // out0
  EXPECT_TRUE(fs::exists(cache));
  EXPECT_EQ(run(blur2), all_of(true));  // out1: a fresh folder, every output from the cache
  EXPECT_EQ(files_under(dir / "out0"), files_under(dir / "out1"));
  for (const auto& rel : files_under(dir / "out0"))
    EXPECT_EQ(test::read_file(dir / "out0" / rel), test::read_file(dir / "out1" / rel)) << rel;

  // A damaged entry (its last byte, in the encoded output, flipped) is a miss, never output.
  for (const auto& rel : files_under(cache)) {
    if (fs::path(rel).extension() != ".entry") continue;
    std::fstream entry(cache / rel, std::ios::in | std::ios::out | std::ios::binary);
    entry.seekg(-1, std::ios::end);
    const char last = static_cast<char>(entry.get());
    entry.seekp(-1, std::ios::end);
    entry.put(static_cast<char>(last ^ 0x5a));
  }
  EXPECT_EQ(run(blur2), all_of(false));  // out2
  for (const auto& rel : files_under(dir / "out0"))
    EXPECT_EQ(test::read_file(dir / "out0" / rel), test::read_file(dir / "out2" / rel)) << rel;

  EXPECT_EQ(run(blur3), all_of(false));                       // another sigma
  EXPECT_EQ(run(blur2, {"--quality", "50"}), all_of(false));  // another output quality
  write_small(in / "sub/c.png", 99, 48, 32);                  // new bytes for one input
  auto one_changed = all_of(true);
  one_changed["sub/c.png"] = false;
  EXPECT_EQ(run(blur2), one_changed);
}

// The cache key must hold the format each output is written in. Without output.format
// that format comes from the template or the input, yet the key is made from the chain
// file's output settings alone: a second run whose template asks for PNG gets the first
// run's JPEG bytes under a .png name (lib/batch/engine.cpp, `output_text`).
TEST(CliBatch, CacheKeyFollowsTheFormatTheTemplateChooses) {
  test::TempDir dir;
  const fs::path in = dir / "in", cache = dir / "cache";
  write_small(in / "a.jpg", 1, 48, 32);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\n");  // no output.format
  auto r = run_cli(batch(chain, {in}, dir / "jpeg", {"--cache", cache.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(probe(dir / "jpeg" / "a.jpg").format, "jpeg");
  r = run_cli(
      batch(chain, {in}, dir / "png", {"--cache", cache.string(), "--output-template", "{relpath}.png"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_text(dir / "png" / "a.png").substr(0, 8), "\x89PNG\r\n\x1a\n");
  EXPECT_EQ(probe(dir / "png" / "a.png").format, "png");
}

// ---- 9. Time limit -----------------------------------------------------------------------

TEST(CliBatch, TimeoutFailsTheInputWithCategoryTimeout) {
  test::TempDir dir;
  const auto big = dir / "in" / "big.png";
  fs::create_directories(big.parent_path());
  save_as(test::make_gradient(3000, 3000, 3), big, Format::png);
  const auto chain = write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 5}\noutput: {format: png}\n");
  const auto report_path = dir / "report.jsonl";
  const auto r = run_cli(batch(chain, {dir / "in"}, dir / "out",
                               {"--no-cache", "--timeout", "0.001", "--report", report_path.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const test::BatchReport report = read_report(report_path);
  ASSERT_EQ(report.inputs.size(), 1u);
  EXPECT_EQ(report.inputs[0]["status"], "failed");
  EXPECT_EQ(report.inputs[0].value("error_category", ""), "timeout") << report.inputs[0];
  EXPECT_TRUE(files_under(dir / "out").empty());
}

// ---- 10. Dry run -------------------------------------------------------------------------

TEST(CliBatch, DryRunListsThePlanAndWritesNothing) {
  test::TempDir dir;
  const fs::path in = dir / "in", out = dir / "out";
  const std::vector<std::string> names = {"a.png", "b.jpg", "deep/er/c.png"};
  for (std::size_t i = 0; i < names.size(); ++i)
    write_small(in / names[i], static_cast<std::uint32_t>(i + 1));
  test::write_text(in / "notes.txt", "not an image\n");
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: webp}\n");
  const auto report_path = dir / "report.jsonl";
  const auto r =
      run_cli(batch(chain, {in}, out, {"--no-cache", "--dry-run", "--report", report_path.string()}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string expected;
  for (const auto& rel : names)
    expected +=
        (in / rel).string() + " -> " + (out / fs::path(rel).replace_extension(".webp")).string() + "\n";
  EXPECT_EQ(r.out, expected);
  EXPECT_TRUE(files_under(out, true).empty());
  EXPECT_FALSE(fs::exists(report_path) && !read_text(report_path).empty());
}

// ---- 11. on_error: stop ------------------------------------------------------------------

TEST(CliBatch, OnErrorStopIsTheDefaultAndCancelsTheRest) {
  test::TempDir dir;
  const fs::path in = dir / "in", out = dir / "out";
  write_small(in / "a.png", 1);
  write_small(in / "b.png", 2);
  test::write_text(in / "c.jpg", "not a JPEG\n");
  write_small(in / "d.png", 3);
  write_small(in / "e.png", 4);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: png}\n");
  const auto report_path = dir / "report.jsonl";
  // One image at a time, so which inputs come after the broken one is not a race.
  const auto r =
      run_cli(batch(chain, {in}, out, {"--no-cache", "--jobs", "1", "--report", report_path.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  EXPECT_EQ((*report.summary)["stopped"], true);
  std::vector<std::pair<std::string, std::string>> statuses;
  for (const auto& rec : report.inputs)
    statuses.emplace_back(fs::path(rec.at("input").get<std::string>()).filename().string(), rec.at("status"));
  EXPECT_EQ(statuses, (std::vector<std::pair<std::string, std::string>>{{"a.png", "ok"},
                                                                        {"b.png", "ok"},
                                                                        {"c.jpg", "failed"},
                                                                        {"d.png", "cancelled"},
                                                                        {"e.png", "cancelled"}}));
  EXPECT_EQ(files_under(out), (std::set<std::string>{"a.png", "b.png"}));

  // The flag turns it into continue.
  const auto cont = run_cli(batch(chain, {in}, dir / "out2", {"--no-cache", "--on-error", "continue"}));
  EXPECT_EQ(cont.exit_code, 1) << cont.err;
  EXPECT_EQ(files_under(dir / "out2"), (std::set<std::string>{"a.png", "b.png", "d.png", "e.png"}));
}

// ---- 12. Output folder inside the input folder -------------------------------------------

TEST(CliBatch, OutputFolderInsideTheInputIsNotTakenAsInput) {
  test::TempDir dir;
  const fs::path in = dir / "in";
  write_small(in / "a.png", 1);
  write_small(in / "sub" / "b.png", 2);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: png}\n");
  const std::set<std::string> inputs = {(in / "a.png").string(), (in / "sub" / "b.png").string()};
  // The same folder spelled three ways: a rerun must recognise it whatever the spelling.
  const std::vector<fs::path> spellings = {in / "out", in / "sub" / ".." / "out", fs::relative(in / "out")};
  for (std::size_t run = 0; run < spellings.size(); ++run) {
    const auto report_path = dir / fmt::format("report{}.jsonl", run);
    const auto r =
        run_cli(batch(chain, {in}, spellings[run], {"--no-cache", "--report", report_path.string()}));
    EXPECT_EQ(r.exit_code, 0) << spellings[run] << ": " << r.err;
    std::set<std::string> done;
    for (const auto& rec : read_report(report_path).inputs) done.insert(rec.at("input").get<std::string>());
    EXPECT_EQ(done, inputs) << spellings[run];
    EXPECT_EQ(files_under(in / "out"), (std::set<std::string>{"a.png", "sub/b.png"})) << spellings[run];
  }
}

// An output folder that is the input folder itself (outputs beside the inputs, in another
// format) is skipped as "the output folder", so nothing is found and the batch succeeds
// having done nothing. It must either be refused before any work (exit 2) or process the
// inputs; a silent success with no work is neither.
TEST(CliBatch, OutputFolderThatIsTheInputFolderIsRefused) {
  test::TempDir dir;
  const fs::path in = dir / "in";
  write_small(in / "a.jpg", 1);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: webp}\n");
  const auto r = run_cli(batch(chain, {in}, in, {"--no-cache"}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(in.string()));
  EXPECT_THAT(r.err, HasSubstr("output folder is an input folder"));
  EXPECT_FALSE(fs::exists(in / "a.webp"));
}

namespace {

// The planner's choice for analysis steps reaches the report: a 1200-pixel photo is between
// the direct and pyramid thresholds, so palette clusters a reduced copy; a 600-pixel one runs
// direct.
TEST(CliBatch, ReportNamesThePlannersStrategyForAnalysisSteps) {
  test::TempDir dir;
  const fs::path in = dir / "in";
  fs::create_directories(in);
  const Image photo = load(test::photo("shell-5120x2880.jpg"));
  for (const auto& [name, width] : {std::pair{"large", 1200}, std::pair{"small", 600}}) {
    cv::Mat pixels;
    cv::resize(photo.pixels, pixels, cv::Size(width, width * 9 / 16), 0, 0, cv::INTER_AREA);
    save_as(pixels, in / (std::string(name) + ".png"), Format::png);
  }
  const auto chain = write_chain(dir, "chain:\n  - palette: {colors: '#000000,#ffffff,#ff0000', name: bw}\n");
  const auto report_path = dir / "report.jsonl";
  const auto r = run_cli(batch(chain, {in}, dir / "out", {"--no-cache", "--report", report_path.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto records = read_report(report_path).by_input();
  const auto strategy = [&](const char* name) {
    return records.at((in / (std::string(name) + ".png")).string()).at("strategy").get<std::string>();
  };
  EXPECT_THAT(strategy("large"), testing::StartsWith("in-memory; step 1: palette: scaled"));
  EXPECT_THAT(strategy("small"), testing::StartsWith("in-memory; step 1: palette: direct"));
}

}  // namespace

namespace {

// Shards sharing an output folder each keep their own journal (no file has two writers), and
// a resumed run reads them all. The report's folder is created.
TEST(CliBatch, ShardJournalsAreSeparateAndResumeReadsThemAll) {
  test::TempDir dir;
  const fs::path in = dir / "in", out = dir / "out";
  for (std::uint32_t i = 0; i < 8; ++i) write_small(in / fmt::format("p{}.png", i), i + 1);
  const auto chain = write_chain(dir, "chain:\n  - grayscale\noutput: {format: png}\non_error: continue\n");
  for (int shard = 0; shard < 2; ++shard) {
    const auto r = run_cli(batch(chain, {in}, out, {"--no-cache", "--shard", fmt::format("{}/2", shard)}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(fs::exists(out / fmt::format(".imgpipe-journal-{}of2.jsonl", shard)));
  }
  EXPECT_FALSE(fs::exists(out / ".imgpipe-journal.jsonl"));
  const auto report_path = dir / "reports" / "nested" / "all.jsonl";
  const auto r =
      run_cli(batch(chain, {in}, out, {"--no-cache", "--resume", "--report", report_path.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = read_report(report_path);
  EXPECT_EQ(report.with_status("skipped").size(), 8u);
  EXPECT_TRUE(report.with_status("ok").empty());
}

}  // namespace
