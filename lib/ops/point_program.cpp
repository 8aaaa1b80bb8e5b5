#include "point_program.hpp"

#include <algorithm>
#include <cmath>
#include <imgpipe/error.hpp>
#include <opencv2/core.hpp>

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

}  // namespace imgpipe
