#include "point_program.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/error.hpp>
#include <opencv2/core.hpp>
#include <opencv2/core/ocl.hpp>

#include "device_ops.hpp"

namespace imgpipe {

PointProgram::PointProgram(int channels, int depth) : channels_(channels), depth_(depth) {
  if (depth != CV_8U && depth != CV_16U)
    throw Error(ErrorCategory::unsupported, "point operations need 8- or 16-bit pixels");
}

void PointProgram::add_curve(const std::function<double(double)>& curve) {
  const int n = levels();
  const double max = n - 1;
  Stage stage;
  stage.table.resize(static_cast<std::size_t>(n));
  for (int v = 0; v < n; ++v) {
    double y = std::clamp(curve(v / max), 0.0, 1.0);
    stage.table[static_cast<std::size_t>(v)] = static_cast<std::uint16_t>(std::lround(y * max));
  }
  // Compose with a preceding table: exactly what running the two one after the other does.
  if (!stages_.empty() && !stages_.back().table.empty()) {
    auto& previous = stages_.back().table;
    for (auto& entry : previous) entry = stage.table[entry];
    return;
  }
  stages_.push_back(std::move(stage));
}

void PointProgram::add_matrix(const std::array<double, 9>& m, const std::array<double, 3>& offset) {
  if (colour_channels() != 3)
    throw Error(ErrorCategory::internal, "a colour matrix needs three colour channels");
  Stage stage;
  stage.matrix = m;
  stage.offset = offset;
  stages_.push_back(stage);
}

void PointProgram::append(const PointProgram& other) {
  for (const auto& stage : other.stages_) {
    if (!stage.table.empty() && !stages_.empty() && !stages_.back().table.empty()) {
      for (auto& entry : stages_.back().table) entry = stage.table[entry];
    } else {
      stages_.push_back(stage);
    }
  }
}

// The channel count is a template parameter so that the per-pixel loops unroll (a run-time
// count cost a memcpy call per pixel).
template <typename T, int Channels>
void PointProgram::run_rows(const cv::Mat& in, cv::Mat& out, int row_begin, int row_end) const {
  constexpr int colour = Channels == 2 || Channels == 4 ? Channels - 1 : Channels;
  if (stages_.size() == 1 && !stages_.front().table.empty()) {
    // One table (consecutive tone curves compose into one): a look-up per colour sample.
    const std::uint16_t* table = stages_.front().table.data();
    for (int y = row_begin; y < row_end; ++y) {
      const T* s = in.ptr<T>(y);
      T* d = out.ptr<T>(y);
      for (int x = 0; x < in.cols; ++x, s += Channels, d += Channels) {
        for (int c = 0; c < colour; ++c) d[c] = static_cast<T>(table[s[c]]);
        if constexpr (colour != Channels) d[colour] = s[colour];
      }
    }
    return;
  }
  const double max = levels() - 1;
  const double inverse_max = 1.0 / max;
  for (int y = row_begin; y < row_end; ++y) {
    const T* src = in.ptr<T>(y);
    T* dst = out.ptr<T>(y);
    for (int x = 0; x < in.cols; ++x) {
      const T* s = src + x * Channels;
      T* d = dst + x * Channels;
      std::array<T, 4> px{};
      for (int c = 0; c < Channels; ++c) px[static_cast<std::size_t>(c)] = s[c];
      for (const auto& stage : stages_) {
        if (!stage.table.empty()) {
          for (int c = 0; c < colour; ++c)
            px[static_cast<std::size_t>(c)] = static_cast<T>(stage.table[px[static_cast<std::size_t>(c)]]);
        } else {
          const double r = px[0] * inverse_max, g = px[1] * inverse_max, b = px[2] * inverse_max;
          const auto& m = stage.matrix;
          for (std::size_t k = 0; k < 3; ++k) {
            const double v = m[k * 3] * r + m[k * 3 + 1] * g + m[k * 3 + 2] * b + stage.offset[k];
            // Round half up; v is clamped to [0, 1], so this is lround without its call.
            px[k] = static_cast<T>(std::clamp(v, 0.0, 1.0) * max + 0.5);
          }
        }
      }
      for (int c = 0; c < Channels; ++c) d[c] = px[static_cast<std::size_t>(c)];
    }
  }
}

template <typename T>
void PointProgram::run_rows(const cv::Mat& in, cv::Mat& out, int row_begin, int row_end) const {
  switch (channels_) {
    case 1: return run_rows<T, 1>(in, out, row_begin, row_end);
    case 2: return run_rows<T, 2>(in, out, row_begin, row_end);
    case 3: return run_rows<T, 3>(in, out, row_begin, row_end);
    default: return run_rows<T, 4>(in, out, row_begin, row_end);
  }
}

void PointProgram::run(cv::InputArray in, cv::OutputArray out) const {
  if (in.channels() != channels_ || in.depth() != depth_)
    throw Error(ErrorCategory::internal, "point program run on an image of another type");
  const cv::Mat src = in.getMat();
  out.create(src.size(), src.type());
  // Each pixel is read whole before it is written, so `out` may share `in`'s pixels.
  cv::Mat dst = out.getMat();
  const auto rows = [&](const cv::Range& range) {
    if (depth_ == CV_8U)
      run_rows<std::uint8_t>(src, dst, range.start, range.end);
    else
      run_rows<std::uint16_t>(src, dst, range.start, range.end);
  };
  // Below ~64 K pixels handing rows to other threads costs more than the pass itself.
  constexpr double kPixelsPerStripe = 65536;
  const double pixels = static_cast<double>(src.total());
  if (pixels < 2 * kPixelsPerStripe)
    rows(cv::Range(0, src.rows));
  else
    cv::parallel_for_(cv::Range(0, src.rows), rows, pixels / kPixelsPerStripe);
}

namespace {

// PointProgram::run_rows per pixel, in OpenCL C. T, CN (channels), COLOUR (colour channels) and
// LEVELS come as -D options; MATRIX when a stage is a matrix (it needs double precision).
// FP_CONTRACT OFF: no fused multiply-add, so each product and sum rounds as the CPU's does.
constexpr const char* kPointProgramSource = R"CL(
#ifdef MATRIX
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF
__kernel void point_program(__global const uchar* src, int src_step, int src_offset,
                            __global uchar* dst, int dst_step, int dst_offset, int rows, int cols,
                            __global const ushort* tables, __global const int* kinds, int stages
#ifdef MATRIX
                            , __global const double* matrices, double max_value
#endif
                            ) {
  const int x = get_global_id(0), y = get_global_id(1);
  if (x >= cols || y >= rows) return;
  __global const T* s = (__global const T*)(src + src_offset + y * src_step) + x * CN;
  __global T* d = (__global T*)(dst + dst_offset + y * dst_step) + x * CN;
  uint px[4];
  for (int c = 0; c < CN; ++c) px[c] = s[c];
  int table = 0, matrix = 0;
  for (int k = 0; k < stages; ++k) {
    if (kinds[k] == 0) {
      __global const ushort* t = tables + (size_t)table * LEVELS;
      for (int c = 0; c < COLOUR; ++c) px[c] = t[px[c]];
      ++table;
    } else {
#ifdef MATRIX
      __global const double* m = matrices + matrix * 12;
      const double inverse_max = 1.0 / max_value;
      const double r = px[0] * inverse_max, g = px[1] * inverse_max, b = px[2] * inverse_max;
      for (int i = 0; i < 3; ++i) {
        const double v = m[i * 3] * r + m[i * 3 + 1] * g + m[i * 3 + 2] * b + m[9 + i];
        px[i] = (uint)(clamp(v, 0.0, 1.0) * max_value + 0.5);
      }
#endif
      ++matrix;
    }
  }
  for (int c = 0; c < CN; ++c) d[c] = (T)px[c];
}
)CL";

}  // namespace

bool PointProgram::runs_on(Device device) const {
  if (device == Device::cuda) return true;
  if (device != Device::opencl) return false;
  const bool matrix =
      std::any_of(stages_.begin(), stages_.end(), [](const Stage& s) { return s.table.empty(); });
  return !matrix || cv::ocl::Device::getDefault().doubleFPConfig() != 0;
}

void PointProgram::run_on(DeviceImage& image) const {
  if (image.channels() != channels_ || image.depth() != depth_)
    throw Error(ErrorCategory::internal, "point program run on an image of another type");
  if (image.device == Device::cuda) {
    std::vector<imgpipe_cuda_point_stage> stages;
    for (const Stage& stage : stages_) {
      imgpipe_cuda_point_stage& s = stages.emplace_back();
      s.table = stage.table.empty() ? nullptr : stage.table.data();
      std::copy(stage.matrix.begin(), stage.matrix.end(), s.matrix);
      std::copy(stage.offset.begin(), stage.offset.end(), s.offset);
    }
    return ops::on_cuda_same(
        image, "point program", [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
          return api.point_program(context, in, out, stages.data(), static_cast<int>(stages.size()));
        });
  }
  std::vector<std::uint16_t> tables;
  std::vector<double> matrices;
  std::vector<int> kinds;
  for (const Stage& stage : stages_) {
    kinds.push_back(stage.table.empty() ? 1 : 0);
    if (!stage.table.empty()) {
      tables.insert(tables.end(), stage.table.begin(), stage.table.end());
    } else {
      matrices.insert(matrices.end(), stage.matrix.begin(), stage.matrix.end());
      matrices.insert(matrices.end(), stage.offset.begin(), stage.offset.end());
    }
  }
  const bool matrix = !matrices.empty();
  // OpenCL takes no empty buffer.
  tables.resize(std::max<std::size_t>(tables.size(), 1));
  matrices.resize(std::max<std::size_t>(matrices.size(), 1));
  kinds.resize(std::max<std::size_t>(kinds.size(), 1));
  static const cv::ocl::ProgramSource source(kPointProgramSource);
  const std::string options =
      fmt::format("-D T={} -D CN={} -D COLOUR={} -D LEVELS={}{}", depth_ == CV_16U ? "ushort" : "uchar",
                  channels_, colour_channels(), levels(), matrix ? " -D MATRIX" : "");
  cv::UMat table_buffer, kind_buffer, matrix_buffer, out(image.size(), image.umat.type());
  cv::Mat(1, static_cast<int>(tables.size()), CV_16U, tables.data()).copyTo(table_buffer);
  cv::Mat(1, static_cast<int>(kinds.size()), CV_32S, kinds.data()).copyTo(kind_buffer);
  cv::Mat(1, static_cast<int>(matrices.size()), CV_64F, matrices.data()).copyTo(matrix_buffer);
  const auto tables_arg = cv::ocl::KernelArg::PtrReadOnly(table_buffer);
  const auto kinds_arg = cv::ocl::KernelArg::PtrReadOnly(kind_buffer);
  const int stages = static_cast<int>(stages_.size());
  if (matrix)
    ops::run_opencl_kernel("point_program", source, options, image.umat, out, tables_arg, kinds_arg, stages,
                           cv::ocl::KernelArg::PtrReadOnly(matrix_buffer), static_cast<double>(levels() - 1));
  else
    ops::run_opencl_kernel("point_program", source, options, image.umat, out, tables_arg, kinds_arg, stages);
  image.umat = std::move(out);
}

}  // namespace imgpipe
