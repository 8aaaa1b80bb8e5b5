#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "test_support.hpp"

extern char** environ;

namespace imgpipe::test {

fs::path photo(const std::string& name) {
  fs::path p = fs::path(IMGPIPE_SHARED_IMAGES) / name;
  if (!fs::exists(p)) ADD_FAILURE() << "test photo missing: " << p;
  return p;
}

fs::path source_dir() {
  return IMGPIPE_SOURCE_DIR;
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::path(IMGPIPE_BINARY_DIR) / "test-tmp" /
          (std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

cv::Mat make_image(int width, int height, int channels, int depth, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const double max = depth == CV_16U ? 65535.0 : 255.0;
  std::uniform_real_distribution<double> noise(-0.15, 0.15);
  cv::Mat out(height, width, CV_MAKETYPE(depth, channels));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        double base = (c % 3 == 0)   ? static_cast<double>(x) / std::max(1, width - 1)
                      : (c % 3 == 1) ? static_cast<double>(y) / std::max(1, height - 1)
                                     : 0.5 + 0.5 * std::sin((x + y) * 0.05);
        double v = std::clamp(base + noise(rng), 0.0, 1.0) * max;
        if (depth == CV_16U)
          out.ptr<std::uint16_t>(y)[x * channels + c] = static_cast<std::uint16_t>(std::lround(v));
        else
          out.ptr<std::uint8_t>(y)[x * channels + c] = static_cast<std::uint8_t>(std::lround(v));
      }
  return out;
}

cv::Mat with_radial_alpha(const cv::Mat& pixels) {
  cv::Mat alpha(pixels.size(), CV_8U);
  for (int y = 0; y < alpha.rows; ++y)
    for (int x = 0; x < alpha.cols; ++x) {
      const double dx = (x - alpha.cols / 2.0) / alpha.cols, dy = (y - alpha.rows / 2.0) / alpha.rows;
      alpha.at<std::uint8_t>(y, x) = cv::saturate_cast<std::uint8_t>(400 * (0.5 - std::hypot(dx, dy)));
    }
  cv::Mat out;
  cv::merge(std::vector<cv::Mat>{pixels, alpha}, out);
  return out;
}

cv::Mat make_gradient(int width, int height, int channels, int depth) {
  const double max = depth == CV_16U ? 65535.0 : 255.0;
  cv::Mat out(height, width, CV_MAKETYPE(depth, channels));
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c) {
        double fx = static_cast<double>(x) / std::max(1, width - 1);
        double fy = static_cast<double>(y) / std::max(1, height - 1);
        double v = c == 0 ? fx : c == 1 ? fy : c == 2 ? 0.5 * (fx + fy) : 0.25 + 0.75 * fx;
        if (depth == CV_16U)
          out.ptr<std::uint16_t>(y)[x * channels + c] = static_cast<std::uint16_t>(std::lround(v * max));
        else
          out.ptr<std::uint8_t>(y)[x * channels + c] = static_cast<std::uint8_t>(std::lround(v * max));
      }
  return out;
}

double max_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return std::numeric_limits<double>::infinity();
  return cv::norm(a, b, cv::NORM_INF);
}

cv::Mat opencv_lab(const cv::Mat& rgb) {
  cv::Mat f, lab;
  rgb.convertTo(f, CV_32F, 1.0 / 255.0);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return std::numeric_limits<double>::infinity();
  return cv::norm(a, b, cv::NORM_L1) /
         static_cast<double>(a.total() * static_cast<std::size_t>(a.channels()));
}

double psnr(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return 0;
  const double max = a.depth() == CV_16U ? 65535.0 : 255.0;
  const double l2 = cv::norm(a, b, cv::NORM_L2SQR) /
                    static_cast<double>(a.total() * static_cast<std::size_t>(a.channels()));
  return l2 == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(max * max / l2);
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::uint8_t> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

fs::path write_png(const TempDir& dir, const std::string& name, const cv::Mat& pixels) {
  SaveOptions png;
  png.format = Format::png;
  png.allow_indexed = false;
  const auto path = dir / name;
  save(Image(pixels), path, png);
  return path;
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

CommandResult run_cli(const std::vector<std::string>& args, const std::string& stdin_file,
                      const std::vector<std::string>& env) {
  TempDir scratch;
  std::string command = "env";
  for (const auto& e : env) command += " " + quote(e);
  command += " " + quote(IMGPIPE_CLI);
  for (const auto& a : args) command += " " + quote(a);
  command += " < " + (stdin_file.empty() ? std::string("/dev/null") : quote(stdin_file));
  command += " > " + quote((scratch / "out").string()) + " 2> " + quote((scratch / "err").string());
  int status = std::system(command.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(scratch / "out");
  r.err = slurp(scratch / "err");
  return r;
}

Child::Child(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
  std::vector<std::string> argv_text = {IMGPIPE_CLI};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, IMGPIPE_CLI, &actions, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    ADD_FAILURE() << "posix_spawn " << IMGPIPE_CLI << ": " << std::strerror(error);
    return;
  }
  pid_ = pid;
}

Child::~Child() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Child::signal(int sig) {
  ::kill(pid_, sig);
}

int Child::wait() {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (!status_ && !poll()) {
    if (!gave_up_ && std::chrono::steady_clock::now() > give_up) {
      ADD_FAILURE() << "imgpipe did not end; killed";
      ::kill(pid_, SIGKILL);
      gave_up_ = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return *status_;
}

bool Child::poll() {
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  status_ = status;
  return true;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string describe(int status) {
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return "unknown";
}

std::map<std::string, nlohmann::json> BatchReport::by_input() const {
  std::map<std::string, nlohmann::json> out;
  for (const auto& r : inputs) {
    const auto name = r.at("input").get<std::string>();
    EXPECT_EQ(out.count(name), 0u) << "two records for " << name;
    out[name] = r;
  }
  return out;
}

std::set<std::string> BatchReport::with_status(const std::string& status) const {
  std::set<std::string> out;
  for (const auto& r : inputs)
    if (r.at("status") == status) out.insert(r.at("input").get<std::string>());
  return out;
}

std::size_t line_count(const fs::path& path) {
  const std::string text = read_text(path);
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

BatchReport read_report(const fs::path& path) {
  BatchReport report;
  std::istringstream lines(read_text(path));
  std::string line;
  while (std::getline(lines, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ADD_FAILURE() << path << ": not a JSON object: " << line;
      continue;
    }
    report.summary_last = false;
    if (j.value("type", "") == "input") {
      report.inputs.push_back(j);
    } else if (j.value("type", "") == "summary") {
      EXPECT_FALSE(report.summary) << path << ": two summaries";
      report.summary = j;
      report.summary_last = true;
    } else {
      ADD_FAILURE() << path << ": unknown record type: " << line;
    }
  }
  return report;
}

}  // namespace imgpipe::test
