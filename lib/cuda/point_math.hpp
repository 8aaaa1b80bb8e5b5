#pragma once
// One pixel of PointProgram::run (lib/ops/point_program.cpp), for the device and for a host
// check: the same stages in the same order with the same double arithmetic and rounding.

#include <cstdint>
#include <vector>

#include "ieee.hpp"
#include "imgpipe_cuda.h"

namespace imgpipe::cuda {

// A stage as the kernel reads it: `table` (levels entries) or, when it is null, the matrix.
struct PointStage {
  const std::uint16_t* table;
  double matrix[9];  // row-major
  double offset[3];
};

// clamp(v, 0, 1) * max + 0.5 truncated, as PointProgram's matrix stage writes a sample.
// std::clamp passes NaN through, and x86-64 converts NaN to the integer 0x80000000, whose low
// bits are 0: a NaN sample becomes 0 here too.
template <typename T>
IMGPIPE_HD inline T matrix_sample(double v, double max) {
  if (v != v) return 0;
  const double clamped = v < 0.0 ? 0.0 : 1.0 < v ? 1.0 : v;
  return static_cast<T>(add(mul(clamped, max), 0.5));
}

// Runs `count` stages on the pixel at `s` into `d` (Channels samples each, alpha last when
// Channels is 2 or 4). `max` is levels - 1 and `inverse_max` 1.0 / max, both in double.
template <typename T, int Channels>
IMGPIPE_HD inline void point_pixel(const T* s, T* d, const PointStage* stages, int count, double max,
                                   double inverse_max) {
  constexpr int colour = Channels == 2 || Channels == 4 ? Channels - 1 : Channels;
  T px[4] = {};
  for (int c = 0; c < Channels; ++c) px[c] = s[c];
  for (int i = 0; i < count; ++i) {
    const PointStage& stage = stages[i];
    if (stage.table) {
      for (int c = 0; c < colour; ++c) px[c] = static_cast<T>(stage.table[px[c]]);
    } else if constexpr (colour == 3) {
      const double r = mul(static_cast<double>(px[0]), inverse_max);
      const double g = mul(static_cast<double>(px[1]), inverse_max);
      const double b = mul(static_cast<double>(px[2]), inverse_max);
      const double* m = stage.matrix;
      for (int k = 0; k < 3; ++k) {
        const double v =
            add(add(add(mul(m[k * 3], r), mul(m[k * 3 + 1], g)), mul(m[k * 3 + 2], b)), stage.offset[k]);
        px[k] = matrix_sample<T>(v, max);
      }
    }
  }
  for (int c = 0; c < Channels; ++c) d[c] = px[c];
}

// The stages with each run of consecutive tables composed into one table (held in `composed`):
// entry v is what the run gives for v with the truncation to T after each table that
// point_pixel() makes, so the composed program gives exactly what the stages give one after
// the other, and a single table stays a single look-up. Host only.
template <typename T>
std::vector<imgpipe_cuda_point_stage> compose_tables(const imgpipe_cuda_point_stage* stages, int count,
                                                     int levels,
                                                     std::vector<std::vector<std::uint16_t>>& composed) {
  std::vector<imgpipe_cuda_point_stage> out;
  for (int i = 0; i < count; ++i) {
    if (!stages[i].table || out.empty() || !out.back().table) {
      out.push_back(stages[i]);
      continue;
    }
    if (out.back().table != (composed.empty() ? nullptr : composed.back().data())) {
      composed.emplace_back(out.back().table, out.back().table + levels);
      out.back().table = composed.back().data();
    }
    for (auto& entry : composed.back()) entry = stages[i].table[static_cast<T>(entry)];
  }
  return out;
}

}  // namespace imgpipe::cuda
