#pragma once
// Shared test helpers: where the real photos are, temporary folders, synthetic images,
// image comparisons, and running the real imgpipe binary.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace imgpipe::test {

namespace fs = std::filesystem;

// A photo from ../shared/images (see its SOURCES.md). Fails the test when it is missing.
fs::path photo(const std::string& name);
fs::path source_dir();  // the repository root

// A fresh empty folder under the build tree, removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

// Deterministic synthetic images (seeded noise plus gradients), any channels and depth.
cv::Mat make_image(int width, int height, int channels, int depth = CV_8U, std::uint32_t seed = 1);
// `pixels` (8-bit grey or RGB) with an alpha channel added: opaque in the centre, falling off
// radially to fully transparent corners, so premultiplied paths meet every alpha.
cv::Mat with_radial_alpha(const cv::Mat& pixels);
// A smooth gradient image: low noise, so resampling comparisons are meaningful.
cv::Mat make_gradient(int width, int height, int channels, int depth = CV_8U);

// Largest absolute difference of any sample; mean absolute difference; PSNR in dB
// (infinity when identical), relative to the depth's full scale.
double max_abs_diff(const cv::Mat& a, const cv::Mat& b);
double mean_abs_diff(const cv::Mat& a, const cv::Mat& b);
double psnr(const cv::Mat& a, const cv::Mat& b);
bool identical(const cv::Mat& a, const cv::Mat& b);

// An 8-bit RGB image in OpenCV's float Lab (L 0..100), as shared/baselines/lab_error.py
// measures palette error: CV_32FC3 of the image's size.
cv::Mat opencv_lab(const cv::Mat& rgb);

// Runs `fn`, which must throw Error(config); gives its message ("" and a test failure if not).
template <class F>
std::string config_error(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config) << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected Error(config), got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected Error(config), nothing was thrown";
  return {};
}

// The names in a folder, sorted: to prove that a failed run left nothing behind.
std::vector<std::string> entries(const fs::path& dir);
std::vector<std::uint8_t> read_file(const fs::path& path);
std::string read_text(const fs::path& path);  // "" when the file cannot be read
void write_text(const fs::path& path, const std::string& text);
// Writes pixels as a truecolour (never palette) PNG in `dir`, so grey stays grey in the file.
fs::path write_png(const TempDir& dir, const std::string& name, const cv::Mat& pixels);

// Runs the built imgpipe binary with arguments (shell-quoted here), optional stdin file
// and environment assignments ("NAME=value"). Captures stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
CommandResult run_cli(const std::vector<std::string>& args, const std::string& stdin_file = "",
                      const std::vector<std::string>& env = {});

// The real binary started without a shell, so that its pid is the command's and a signal
// reaches it alone; stdout and stderr go to files. SIGINT and SIGTERM are reset to their
// defaults and unblocked in the child, whatever this process inherited (a background shell
// ignores SIGINT). A child still running when the object goes is killed.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& out, const fs::path& err);
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child();

  bool started() const { return pid_ > 0; }
  bool running() { return started() && !status_ && !poll(); }
  void signal(int sig);

  // Waits until `ready()` holds while the child runs. False when the child ended first.
  template <class F>
  bool wait_until(F&& ready) {
    while (running()) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }

  // The wait status once the child has ended. A child that never ends would hang the suite:
  // after two minutes it is killed (and the test then fails on its status).
  int wait();

 private:
  bool poll();
  int pid_ = -1;
  std::optional<int> status_;
  bool gave_up_ = false;
};

// "exit 2", "killed by signal 9": a wait status for messages.
std::string describe(int status);

// A batch's JSON Lines report: the input records and the summary. Parsed with nlohmann, so a
// line that is not one JSON object, an unknown record type or a second summary fails the test.
struct BatchReport {
  std::vector<nlohmann::json> inputs;
  std::optional<nlohmann::json> summary;
  bool summary_last = false;

  // The records by input path (two records for one input fail the test).
  std::map<std::string, nlohmann::json> by_input() const;
  std::set<std::string> with_status(const std::string& status) const;
};
BatchReport read_report(const fs::path& path);
// How many lines a file holds (0 when it cannot be read).
std::size_t line_count(const fs::path& path);

}  // namespace imgpipe::test
