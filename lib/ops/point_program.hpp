#pragma once
// PointProgram: the per-pixel stages of consecutive point operations, run in one pass.
//
// Two kinds of stage cover brightness, contrast, gamma, levels, saturation and hue:
//   - a tone table per colour channel (one entry per input level, 256 or 65536), and
//   - a 3x3 colour matrix plus offset on RGB, computed in double and rounded.
// Adjacent tables compose exactly (t2[t1[v]]), and matrices run with the same arithmetic
// fused or not, so a fused program gives bit-identical results to running each operation
// on its own. Double precision keeps each stage's rounding where the exact formula puts it
// (in float a stage lands one level off for some samples), which matters because a later
// steep curve (a strong gamma or contrast) turns one level of difference into several.
// Alpha passes through untouched.

#include <array>
#include <cstdint>
#include <functional>
#include <imgpipe/device.hpp>
#include <opencv2/core/mat.hpp>
#include <vector>

namespace imgpipe {

class PointProgram {
 public:
  PointProgram(int channels, int depth);

  int channels() const noexcept { return channels_; }
  int colour_channels() const noexcept {
    return channels_ == 2 || channels_ == 4 ? channels_ - 1 : channels_;
  }
  int levels() const noexcept { return depth_ == CV_16U ? 65536 : 256; }
  bool empty() const noexcept { return stages_.empty(); }

  // Adds a tone curve applied to every colour channel: `curve` maps a value in 0..1 to 0..1
  // (clamped); it is sampled once per level into a table.
  void add_curve(const std::function<double(double)>& curve);
  // Adds out = M * rgb + offset (values in 0..1, M row-major), for three colour channels only.
  void add_matrix(const std::array<double, 9>& m, const std::array<double, 3>& offset = {});
  // Appends another program's stages (same channels and depth).
  void append(const PointProgram& other);

  // Runs the stages over `in` (CV_8U or CV_16U, `channels()` channels) into `out`, which
  // may be `in`, in parallel over rows.
  void run(cv::InputArray in, cv::OutputArray out) const;

  // Whether run_on() can run the program on `device` (opencl or cuda): OpenCL needs double
  // precision for matrix stages (cl_khr_fp64), to round as the CPU does.
  bool runs_on(Device device) const;
  // run() on an image held on a device (the same bits): on OpenCL imgpipe's own kernel through
  // cv::ocl::Kernel, on CUDA the plugin's.
  void run_on(DeviceImage& image) const;

  // One stage: a tone table (`levels()` entries), or, when `table` is empty, the matrix and
  // offset.
  struct Stage {
    std::vector<std::uint16_t> table;  // empty for a matrix stage
    std::array<double, 9> matrix{};
    std::array<double, 3> offset{};
  };
  // The stages in the order run() applies them.
  const std::vector<Stage>& stages() const noexcept { return stages_; }

 private:
  template <typename T, int Channels>
  void run_rows(const cv::Mat& in, cv::Mat& out, int row_begin, int row_end) const;
  template <typename T>
  void run_rows(const cv::Mat& in, cv::Mat& out, int row_begin, int row_end) const;

  int channels_;
  int depth_;
  std::vector<Stage> stages_;
};

}  // namespace imgpipe
