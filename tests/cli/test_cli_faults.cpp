// Faults the real binary must survive, as root: a full disk (tmpfs), a read-only mount,
// twenty SIGKILLs at random moments of one batch (in memory and streamed), and SIGTERM in the
// middle of a write. Whatever happens, an output is complete or absent, no temporary file
// stays, the error names the file, the exit code is the documented one (docs/cli.md), and a
// later `--resume` finishes the batch. Tests that need root or a mount skip, saying why.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using test::Child;
using test::describe;
using test::read_text;
using test::run_cli;
using ::testing::HasSubstr;
using json = nlohmann::json;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Settings from the environment would change what a batch does; the tests mean the same
// inside a job engine's worker.
class CleanEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    for (const char* name :
         {"CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT", "JOB_COMPLETION_INDEX", "IMGPIPE_SHARD_COUNT",
          "SLURM_ARRAY_TASK_ID", "IMGPIPE_THREADS", "IMGPIPE_DEVICE", "IMGPIPE_PRESET", "IMGPIPE_MAX_MEMORY",
          "IMGPIPE_MAX_PIXELS", "IMGPIPE_FORMAT", "IMGPIPE_QUALITY", "IMGPIPE_ON_ERROR",
          "IMGPIPE_PARALLEL_IMAGES"})
      ::unsetenv(name);
  }
};
[[maybe_unused]] const auto* const kCleanEnvironment =
    ::testing::AddGlobalTestEnvironment(new CleanEnvironment);

// ---- Mounts ------------------------------------------------------------------------------

// A tmpfs of `bytes` mounted on `where` (created), unmounted when the object goes. Declare it
// after the TempDir that holds `where`, so that it is unmounted before the folder is removed.
class TmpfsMount {
 public:
  TmpfsMount(fs::path where, std::uint64_t bytes) : where_(std::move(where)) {
    if (::geteuid() != 0) {
      error_ = "not root: mounting a tmpfs needs root (CAP_SYS_ADMIN)";
      return;
    }
    fs::create_directories(where_);
    const std::string options = fmt::format("size={},mode=0755", bytes);
    if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      error_ = fmt::format("cannot mount a tmpfs on {}: {}", where_.string(), std::strerror(errno));
      return;
    }
    mounted_ = true;
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  ~TmpfsMount() {
    // Lazily: a child killed by the test may still be closing its files.
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }  // why it is not mounted
  const fs::path& path() const { return where_; }

  // "" or why it failed.
  std::string remount(unsigned long flags, const std::string& options = "") {
    if (::mount("tmpfs", where_.c_str(), "tmpfs", MS_REMOUNT | flags, options.c_str()) != 0)
      return fmt::format("cannot remount {}: {}", where_.string(), std::strerror(errno));
    return "";
  }

 private:
  fs::path where_;
  bool mounted_ = false;
  std::string error_;
};

// ---- Batches, reports, files -------------------------------------------------------------

constexpr int kInputs = 40;

fs::path write_chain(const test::TempDir& dir, const std::string& text,
                     const std::string& name = "chain.yml") {
  const auto path = dir / name;
  test::write_text(path, text);
  return path;
}

std::vector<std::string> batch(const fs::path& chain, const fs::path& input, const fs::path& output,
                               const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"batch",    chain.string(),  "--input",   input.string(),
                                   "--output", output.string(), "--no-cache"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

using test::line_count;

using test::read_report;

// Every regular file below `root` as a relative path, hidden ones included.
std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(fs::relative(e.path(), root).generic_string());
  return out;
}

bool is_journal(const std::string& name) {
  return name.starts_with(".imgpipe-journal") && name.ends_with(".jsonl");
}

// ".<name>.imgpipe-XXXXXX": the temporary file of a write in progress (include/imgpipe/io.hpp).
bool is_temporary(const std::string& name) {
  static const std::regex temporary(R"(\..+\.imgpipe-[A-Za-z0-9]{6})");
  return std::regex_match(name, temporary);
}

// Decodes with the library's safe default (fail on warnings), so a cut-off file fails.
::testing::AssertionResult decodes(const fs::path& path, std::optional<cv::Size> size = std::nullopt) {
  try {
    const Image image = load(path);
    if (size && (image.width() != size->width || image.height() != size->height))
      return ::testing::AssertionFailure() << path << " is " << image.width() << "x" << image.height();
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << path << " does not decode: " << e.what();
  }
}

// 40 distinct 800x600 JPEGs made once from eight real photos (each in five brightnesses), and
// what a batch over them is expected to write.
class CliFaults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    inputs_ = new test::TempDir;
    const char* const photos[] = {"autumn-2560x1600.jpg",  "baboon.jpg",      "building.jpg",
                                  "butterfly.jpg",         "fruits.jpg",      "rocket.jpg",
                                  "hubble_deep_field.jpg", "starry_night.jpg"};
    SaveOptions options;
    options.format = Format::jpeg;
    options.quality = 92;
    int index = 0;
    for (const char* name : photos) {
      const cv::Mat pixels = load(test::photo(name)).pixels;
      cv::Mat small;
      cv::resize(pixels, small, cv::Size(800, 600), 0, 0, cv::INTER_AREA);
      for (int variant = 0; variant < kInputs / 8; ++variant) {
        cv::Mat shifted;
        small.convertTo(shifted, -1, 1.0, 8.0 * variant - 16.0);
        save(Image(shifted), input_dir() / fmt::format("img{:02}.jpg", index++), options);
      }
    }
  }
  static void TearDownTestSuite() {
    delete inputs_;
    inputs_ = nullptr;
  }
  static fs::path input_dir() { return inputs_->path(); }
  static std::string input(int i) { return (input_dir() / fmt::format("img{:02}.jpg", i)).string(); }
  static std::string output_name(int i) { return fmt::format("img{:02}.jpg", i); }
  static std::set<std::string> all_inputs() {
    std::set<std::string> out;
    for (int i = 0; i < kInputs; ++i) out.insert(input(i));
    return out;
  }
  static std::set<std::string> all_outputs() {
    std::set<std::string> out;
    for (int i = 0; i < kInputs; ++i) out.insert(output_name(i));
    return out;
  }

  // The output tree of a finished batch: the 40 outputs, each whole, and the journal.
  static void expect_complete(const fs::path& out) {
    std::set<std::string> expected = all_outputs();
    expected.insert(".imgpipe-journal.jsonl");
    EXPECT_EQ(files_under(out), expected);
    for (const auto& name : all_outputs()) EXPECT_TRUE(decodes(out / name, cv::Size(800, 600)));
  }

  // Files at output names decode; anything else is the journal or a temporary (none when
  // `temporaries` is false). Gives the temporaries found.
  static std::set<std::string> expect_no_partial_output(const fs::path& out, bool temporaries) {
    std::set<std::string> found;
    for (const auto& rel : files_under(out)) {
      if (all_outputs().count(rel)) {
        EXPECT_TRUE(decodes(out / rel, cv::Size(800, 600)));
      } else if (is_temporary(rel)) {
        EXPECT_TRUE(temporaries) << "temporary file left: " << rel;
        found.insert(rel);
      } else {
        EXPECT_TRUE(is_journal(rel)) << "unexpected file " << rel;
      }
    }
    return found;
  }

  static std::size_t outputs_in(const fs::path& out) {
    const auto files = files_under(out);
    return static_cast<std::size_t>(
        std::count_if(files.begin(), files.end(), [](const auto& f) { return all_outputs().count(f) == 1; }));
  }

  // 20 SIGKILLs at random moments of one batch, then a --resume run to the end.
  static void kill_repeatedly(const std::vector<std::string>& flags, const std::string& strategy);

  // SIGTERM (twice: the second abandons what is in flight) once the first record is out,
  // then --resume.
  static void terminate_then_resume(const std::vector<std::string>& flags, bool twice);

  // A batch into a tmpfs that fills, then --resume once there is space.
  static void fill_the_disk_then_resume(const std::vector<std::string>& flags);

 private:
  static inline test::TempDir* inputs_ = nullptr;
};

const char* const kBlurJpeg = "chain:\n  - gaussian_blur: {sigma: 2}\noutput: {format: jpeg}\n";
// At quality 100 each output is ~420 KB, so a 3 MiB disk fills after a few.
const char* const kSharpenJpeg = "chain:\n  - sharpen: {amount: 1}\noutput: {format: jpeg, quality: 100}\n";
const std::vector<std::string> kInMemory = {"--jobs", "2", "--threads", "2"};
// A budget below one image's working set (~5 MB): every job streams, one at a time.
const std::vector<std::string> kStreamed = {"--jobs", "2", "--threads", "2", "--max-memory", "1MB"};

std::vector<std::string> with(std::vector<std::string> flags, const std::vector<std::string>& more) {
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- Kills -------------------------------------------------------------------------------

void CliFaults::kill_repeatedly(const std::vector<std::string>& flags, const std::string& strategy) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kBlurJpeg);

  // How long this machine takes to start a batch (a --resume run with nothing left to do),
  // to carry one image from decode to write (the summary's mean), and between two images with
  // two in flight.
  const auto calibration = dir / "calibration.jsonl";
  auto start = Clock::now();
  const auto full = run_cli(
      batch(chain, input_dir(), dir / "calibration", with(flags, {"--report", calibration.string()})));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const double full_s = seconds_since(start);
  start = Clock::now();
  const auto idle = run_cli(batch(chain, input_dir(), dir / "calibration", with(flags, {"--resume"})));
  ASSERT_EQ(idle.exit_code, 0) << idle.err;
  const double startup_s = seconds_since(start);
  const auto summary = read_report(calibration).summary;
  ASSERT_TRUE(summary);
  const double latency_s = summary->value("ms_per_image", 0.0) / 1000;
  const double per_image_s = std::max(0.005, (full_s - startup_s) / kInputs);
  // A kill lands at a random moment of a window that starts as this run's start, its first
  // image and the two after. Each run takes up where the last was killed, so the window then
  // follows what the runs got done: wider after a run that finished nothing, narrower after one
  // that finished more than two images. About one image a run: the 20 kills spread over the
  // whole batch, at its start, in decoding, computing and writing, and leave work for the
  // final run, whatever the machine's speed.
  double window_s = startup_s + latency_s + 2 * per_image_s;

  const char* fixed = std::getenv("IMGPIPE_FAULT_SEED");
  const std::uint32_t seed =
      fixed ? static_cast<std::uint32_t>(std::strtoul(fixed, nullptr, 10)) : std::random_device{}();
  std::cout << fmt::format(
      "[ seed     ] {} (IMGPIPE_FAULT_SEED={} repeats it); batch {:.2f} s, start {:.2f} s, one image {:.3f} "
      "s, window {:.2f} s\n",
      seed, seed, full_s, startup_s, latency_s, window_s);
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(fmt::format("IMGPIPE_FAULT_SEED={}", seed));
  std::mt19937 random(seed);
  std::uniform_real_distribution<double> fraction(0.0, 1.0);

  const fs::path out = dir / "out";
  int kills = 0;
  std::set<std::string> temporaries;  // left by kills in the middle of a write
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto delay = std::chrono::duration<double>(fraction(random) * window_s);
    const std::size_t outputs_before = outputs_in(out);
    Child child(batch(chain, input_dir(), out,
                      with(flags, {"--resume", "--report",
                                   (dir / fmt::format("killed-{}.jsonl", attempt)).string()})),
                dir / "stdout", dir / "stderr");
    ASSERT_TRUE(child.started());
    const auto until = Clock::now() + std::chrono::duration_cast<Clock::duration>(delay);
    child.wait_until([&] { return Clock::now() >= until; });
    child.signal(SIGKILL);
    const int status = child.wait();
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++kills;
    } else {
      // The run ended first: then it must have finished the batch.
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << describe(status) << "\n"
                                                                 << read_text(dir / "stderr");
    }
    for (const auto& t : expect_no_partial_output(out, true)) temporaries.insert(t);
    const std::size_t finished = outputs_in(out) - outputs_before;
    if (finished == 0) window_s *= 1.1;
    if (finished > 1) window_s *= 0.75;
  }
  const std::size_t done = outputs_in(out);
  std::cout << fmt::format(
      "[ kills    ] {} of 20 landed; {} of {} outputs then present; {} temporaries left; last window {:.2f} "
      "s\n",
      kills, done, kInputs, temporaries.size(), window_s);
  // How many kills land depends on the machine's timing; that one did is what the test needs.
  ASSERT_GE(kills, 1) << "every run finished before its kill: nothing was tested";

  // The temporaries still there are the kills' (the final run leaves younger ones to a
  // possible live writer): made older than two minutes, as if the kills were long ago, the
  // final --resume must remove them.
  for (const auto& rel : files_under(out))
    if (is_temporary(rel))
      fs::last_write_time(out / rel, fs::file_time_type::clock::now() - std::chrono::minutes(3));

  const auto report_path = dir / "final.jsonl";
  const auto r =
      run_cli(batch(chain, input_dir(), out, with(flags, {"--resume", "--report", report_path.string()})));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  std::set<std::string> named;
  for (const auto& [name, rec] : report.by_input()) {
    named.insert(name);
    EXPECT_TRUE(rec["status"] == "ok" || rec["status"] == "skipped") << rec;
    if (rec["status"] == "ok") {
      EXPECT_EQ(rec.value("strategy", ""), strategy) << rec;
    }
  }
  EXPECT_EQ(named, all_inputs());
  expect_complete(out);
}

TEST_F(CliFaults, TwentyKillsOfAnInMemoryBatchThenResumeCompletesIt) {
  kill_repeatedly(kInMemory, "in-memory");
}

TEST_F(CliFaults, TwentyKillsOfAStreamedBatchThenResumeCompletesIt) {
  kill_repeatedly(kStreamed, "streamed");
}

// ---- SIGTERM -----------------------------------------------------------------------------

void CliFaults::terminate_then_resume(const std::vector<std::string>& flags, bool twice) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kBlurJpeg);
  const fs::path out = dir / "out", report_path = dir / "report.jsonl";
  Child child(batch(chain, input_dir(), out, with(flags, {"--report", report_path.string()})), dir / "stdout",
              dir / "stderr");
  ASSERT_TRUE(child.started());
  const bool in_time = child.wait_until([&] { return line_count(report_path) >= 1; });
  ASSERT_TRUE(in_time) << "the batch ended before it could be stopped: " << describe(child.wait());
  child.signal(SIGTERM);
  if (twice) {
    const bool noticed = child.wait_until(
        [&] { return read_text(dir / "stderr").find("SIGTERM received") != std::string::npos; });
    ASSERT_TRUE(noticed) << "the batch ended before the second signal: " << read_text(dir / "stderr");
    child.signal(SIGTERM);
  }
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << describe(status);
  EXPECT_EQ(WEXITSTATUS(status), 143) << read_text(dir / "stderr");

  // The report names every input; what is ok is written whole, the rest is absent.
  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  EXPECT_EQ((*report.summary)["stopped"], true);
  std::set<std::string> named;
  for (const auto& [name, rec] : report.by_input()) named.insert(name);
  EXPECT_EQ(named, all_inputs());
  const auto ok = report.with_status("ok"), cancelled = report.with_status("cancelled");
  EXPECT_EQ(ok.size() + cancelled.size(), static_cast<std::size_t>(kInputs));
  EXPECT_FALSE(cancelled.empty()) << "the signal came after the last input";
  for (int i = 0; i < kInputs; ++i)
    EXPECT_EQ(fs::exists(out / output_name(i)), ok.count(input(i)) == 1) << output_name(i);
  expect_no_partial_output(out, false);

  const auto resumed_path = dir / "resumed.jsonl";
  const auto r =
      run_cli(batch(chain, input_dir(), out, with(flags, {"--resume", "--report", resumed_path.string()})));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const test::BatchReport resumed = read_report(resumed_path);
  EXPECT_EQ(resumed.with_status("skipped"), ok);
  EXPECT_EQ(resumed.with_status("ok"), cancelled);
  expect_complete(out);
}

TEST_F(CliFaults, SigtermOfAStreamedBatchFinishesInFlightThenResumeCompletes) {
  terminate_then_resume(kStreamed, false);
}

TEST_F(CliFaults, SecondSigtermOfAnInMemoryBatchAbandonsInFlightThenResumeCompletes) {
  terminate_then_resume(kInMemory, true);
}

// A run overwriting an earlier output, stopped while its streamed temporary is being written:
// the earlier output stays as it was, byte for byte, and no temporary is left.
TEST_F(CliFaults, SigtermOfAStreamedRunMidWriteKeepsTheEarlierOutput) {
  test::TempDir dir, out_dir;
  const auto big = dir / "big.jpg";
  {
    cv::Mat large;
    cv::resize(load(test::photo("autumn-2560x1600.jpg")).pixels, large, cv::Size(8000, 5000), 0, 0,
               cv::INTER_LINEAR);
    SaveOptions options;
    options.format = Format::jpeg;
    save(Image(large), big, options);
  }
  const auto chain = write_chain(dir, "chain:\n  - gaussian_blur: {sigma: 12}\n");
  const auto target = out_dir / "out.png";
  fs::copy_file(input_dir() / "img00.jpg", dir / "earlier.jpg");
  ASSERT_EQ(run_cli({"run", chain.string(), (dir / "earlier.jpg").string(), target.string()}).exit_code, 0);
  const auto earlier = test::read_file(target);

  Child child({"run", chain.string(), big.string(), target.string(), "--stream"}, dir / "stdout",
              dir / "stderr");
  ASSERT_TRUE(child.started());
  const bool writing = child.wait_until([&] {
    for (const auto& rel : files_under(out_dir.path()))
      if (is_temporary(rel) && fs::file_size(out_dir / rel) > 0) return true;
    return false;
  });
  ASSERT_TRUE(writing) << "the run ended before its temporary file had data: " << describe(child.wait());
  child.signal(SIGTERM);
  const int status = child.wait();
  ASSERT_TRUE(WIFEXITED(status)) << describe(status);
  EXPECT_EQ(WEXITSTATUS(status), 143) << read_text(dir / "stderr");
  EXPECT_THAT(read_text(dir / "stderr"), HasSubstr("SIGTERM received"));
  EXPECT_EQ(files_under(out_dir.path()), std::set<std::string>{"out.png"});
  EXPECT_EQ(test::read_file(target), earlier) << "the earlier output was replaced";
}

// ---- A full disk -------------------------------------------------------------------------

// 40 outputs of ~420 KB into 3 MiB: the first few are written, every later one fails with
// an io error naming its output and the device's words, and nothing partial stays. With
// space again, --resume writes exactly the failed ones.
void CliFaults::fill_the_disk_then_resume(const std::vector<std::string>& flags) {
  test::TempDir dir;
  TmpfsMount disk(dir / "disk", 3u << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  const auto chain = write_chain(dir, kSharpenJpeg);
  const fs::path out = disk.path() / "out", report_path = dir / "report.jsonl";
  const auto r = run_cli(batch(chain, input_dir(), out,
                               with(flags, {"--on-error", "continue", "--report", report_path.string()})));
  EXPECT_EQ(r.exit_code, 1) << r.err;  // some input failed
  const test::BatchReport report = read_report(report_path);
  ASSERT_TRUE(report.summary);
  const auto ok = report.with_status("ok"), failed = report.with_status("failed");
  EXPECT_EQ(ok.size() + failed.size(), static_cast<std::size_t>(kInputs));
  EXPECT_GE(ok.size(), 1u) << "the first outputs fit";
  EXPECT_GE(failed.size(), 20u) << "most do not";
  EXPECT_EQ((*report.summary)["failed"], failed.size());
  for (int i = 0; i < kInputs; ++i) {
    const fs::path output = out / output_name(i);
    if (!failed.count(input(i))) continue;
    const json rec = report.by_input().at(input(i));
    EXPECT_EQ(rec.value("error_category", ""), "io") << rec;
    EXPECT_THAT(rec.value("error", ""), HasSubstr(output.string()));
    EXPECT_THAT(rec.value("error", ""), HasSubstr("No space left on device"));
    EXPECT_THAT(r.err, HasSubstr("imgpipe: io error: " + output.string()));
    EXPECT_FALSE(fs::exists(output)) << output;
  }
  for (const auto& name : ok) EXPECT_TRUE(decodes(out / fs::path(name).filename(), cv::Size(800, 600)));
  expect_no_partial_output(out, false);

  ASSERT_EQ(disk.remount(0, "size=64m"), "");
  const auto resumed_path = dir / "resumed.jsonl";
  const auto again =
      run_cli(batch(chain, input_dir(), out, with(flags, {"--resume", "--report", resumed_path.string()})));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const test::BatchReport resumed = read_report(resumed_path);
  EXPECT_EQ(resumed.with_status("skipped"), ok);
  EXPECT_EQ(resumed.with_status("ok"), failed);
  expect_complete(out);
}

TEST_F(CliFaults, DiskFullFailsEachInMemoryInputThatDoesNotFitAndResumeFinishes) {
  fill_the_disk_then_resume(kInMemory);
}

TEST_F(CliFaults, DiskFullFailsEachStreamedInputThatDoesNotFitAndResumeFinishes) {
  fill_the_disk_then_resume(kStreamed);
}

// A disk with room for the output but not for the journal's first page: the output is
// written whole, but the journal cannot record it. The input fails with an error that names
// it (not only the journal), and --resume with space does it again.
TEST_F(CliFaults, DiskFullForTheJournalNamesTheInputAndResumeDoesItAgain) {
  test::TempDir dir;
  const auto chain = write_chain(dir, kSharpenJpeg);
  const auto flags = with(kInMemory, {"--include", "img00.jpg"});
  ASSERT_EQ(run_cli(batch(chain, input_dir(), dir / "probe", flags)).exit_code, 0);
  const auto bytes = fs::file_size(dir / "probe" / output_name(0));
  constexpr std::uint64_t kPage = 4096, kDisk = 1u << 20;  // tmpfs counts whole pages
  TmpfsMount disk(dir / "disk", kDisk);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  {
    std::ofstream filler(disk.path() / "filler", std::ios::binary);
    const std::string fill(kDisk - (bytes + kPage - 1) / kPage * kPage, '\0');
    filler.write(fill.data(), static_cast<std::streamsize>(fill.size()));
    ASSERT_TRUE(filler.good());
  }
  const fs::path out = disk.path() / "out", report_path = dir / "report.jsonl";
  const auto r = run_cli(batch(chain, input_dir(), out, with(flags, {"--report", report_path.string()})));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err,
              HasSubstr("imgpipe: io error: " + input(0) + ": written, but not recorded for --resume"));
  EXPECT_THAT(r.err,
              HasSubstr(".imgpipe-journal.jsonl: cannot append to the journal: No space left on device"));
  const test::BatchReport report = read_report(report_path);
  EXPECT_EQ(report.with_status("failed"), std::set<std::string>{input(0)});
  EXPECT_TRUE(decodes(out / output_name(0), cv::Size(800, 600)));
  EXPECT_EQ(files_under(out), (std::set<std::string>{".imgpipe-journal.jsonl", output_name(0)}));

  ASSERT_EQ(disk.remount(0, "size=64m"), "");
  const auto resumed_path = dir / "resumed.jsonl";
  const auto again =
      run_cli(batch(chain, input_dir(), out, with(flags, {"--resume", "--report", resumed_path.string()})));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read_report(resumed_path).with_status("ok"), std::set<std::string>{input(0)});
  EXPECT_TRUE(decodes(out / output_name(0), cv::Size(800, 600)));
  EXPECT_EQ(files_under(out), (std::set<std::string>{".imgpipe-journal.jsonl", output_name(0)}));
}

// The report on a full disk: the images are written, but a report left empty (or cut short)
// must not pass for a batch that did nothing. The batch says so, naming the report, and
// exits 1.
TEST_F(CliFaults, ReportOnAFullDiskFailsTheBatchNamingTheReport) {
  test::TempDir dir;
  TmpfsMount disk(dir / "disk", 1u << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  {
    std::ofstream filler(disk.path() / "filler", std::ios::binary);
    const std::string block(1 << 16, '\0');
    for (int i = 0; i < 32 && filler.good(); ++i)
      filler.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  const auto chain = write_chain(dir, kBlurJpeg);
  const fs::path out = dir / "out", report_path = disk.path() / "report.jsonl";
  const auto r = run_cli(batch(chain, input_dir(), out, with(kInMemory, {"--report", report_path.string()})));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("imgpipe: io error: " + report_path.string() +
                               ": cannot write the report: No space left on device"));
  expect_complete(out);
}

// `run` into a disk with ~100 KB left, for an output of ~400 KB: in memory, with --stream and
// streamed by a memory budget. Each fails with exit 1 and an io error naming the output;
// nothing but the filler is on the disk, and the input is unchanged.
TEST_F(CliFaults, DiskFullRunFailsWithoutPartialOutputInMemoryAndStreamed) {
  test::TempDir dir;
  TmpfsMount disk(dir / "disk", 2u << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  {
    std::ofstream filler(disk.path() / "filler", std::ios::binary);
    const std::string block(1 << 16, '\0');
    for (int i = 0; i < 30; ++i) filler.write(block.data(), static_cast<std::streamsize>(block.size()));
    ASSERT_TRUE(filler.good()) << "the filler did not fit";
  }
  const auto chain = write_chain(dir, kSharpenJpeg);
  const std::string source = input(0);
  const auto before = test::read_file(source);
  const std::vector<std::vector<std::string>> modes = {{}, {"--stream"}, {"--max-memory", "1MB"}};
  for (const auto& mode : modes) {
    const fs::path output = disk.path() / "out.jpg";
    std::vector<std::string> args = {"run", chain.string(), source, output.string()};
    args.insert(args.end(), mode.begin(), mode.end());
    const auto r = run_cli(args);
    const std::string label = mode.empty() ? "in memory" : mode.front();
    EXPECT_EQ(r.exit_code, 1) << label << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("imgpipe: io error: " + output.string())) << label;
    EXPECT_THAT(r.err, HasSubstr("No space left on device")) << label;
    EXPECT_EQ(files_under(disk.path()), std::set<std::string>{"filler"}) << label;
  }
  EXPECT_EQ(test::read_file(source), before);
}

// ---- A read-only mount -------------------------------------------------------------------

// Root ignores permission bits, not a read-only mount. A batch is refused before any work
// (exit 2), whether the output folder exists or must be created; `run`, in memory or
// streamed, fails as an output that cannot be written (exit 1). Each error names the path.
TEST_F(CliFaults, ReadOnlyMountIsRefusedNamingThePathAndNothingIsWritten) {
  test::TempDir dir;
  TmpfsMount disk(dir / "disk", 1u << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.error();
  fs::create_directory(disk.path() / "existing");
  if (const auto error = disk.remount(MS_RDONLY); !error.empty()) GTEST_SKIP() << error;
  const auto chain = write_chain(dir, kBlurJpeg);

  for (const fs::path& output : {disk.path() / "existing", disk.path() / "new"}) {
    const auto report_path = dir / "report.jsonl";
    const auto r = run_cli(batch(chain, input_dir(), output, {"--report", report_path.string()}));
    EXPECT_EQ(r.exit_code, 2) << output << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("imgpipe: io error: " + output.string()));
    EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
    EXPECT_EQ(read_text(report_path), "") << "no record: nothing started";
  }
  for (const std::vector<std::string>& mode :
       {std::vector<std::string>{}, std::vector<std::string>{"--stream"}}) {
    const fs::path output = disk.path() / "existing" / "out.jpg";
    std::vector<std::string> args = {"run", chain.string(), input(0), output.string()};
    args.insert(args.end(), mode.begin(), mode.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr("imgpipe: io error: " + output.string()));
    EXPECT_THAT(r.err, HasSubstr("Read-only file system"));
  }
  std::set<std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(disk.path()))
    entries.insert(fs::relative(e.path(), disk.path()).generic_string());
  EXPECT_EQ(entries, std::set<std::string>{"existing"});
}

}  // namespace
