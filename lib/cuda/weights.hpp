#pragma once
// The host-side weights of the filter and resampling kernels: Gaussian kernels and resampling
// taps, computed with the
// formulas of the OpenCV 4.6 functions the CPU kernels call (cv::getGaussianKernel,
// cv::GaussianBlur's fixed-point kernels, cv::resize's INTER_AREA and INTER_LINEAR tables) and
// of ops::AreaTable (lib/ops/geometry/area.cpp), so that the device sums the same weights.

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <vector>

namespace imgpipe::gpu {

// ops::gaussian_radius: ceil(3 sigma), at least 1.
inline int gaussian_radius(double sigma) {
  return std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
}

// cv::getGaussianKernel's exact kernel (getGaussianKernelBitExact) for n = 2 radius + 1 taps:
// OpenCV computes it in soft double; IEEE double does the same operations in the same order.
inline std::vector<double> gaussian_kernel(int radius, double sigma) {
  const int n = 2 * radius + 1;
  const double scale = -0.125 / (sigma * sigma);  // x runs over twice the offsets
  std::vector<double> values(static_cast<std::size_t>(radius));
  double sum = 0;
  for (int i = 0, x = 1 - n; i < radius; ++i, x += 2) {
    values[static_cast<std::size_t>(i)] = std::exp(static_cast<double>(x * x) * scale);
    sum += values[static_cast<std::size_t>(i)];
  }
  sum = sum * 2 + 1;
  const double normalise = 1 / sum;
  std::vector<double> kernel(static_cast<std::size_t>(n));
  for (int i = 0; i < radius; ++i)
    kernel[static_cast<std::size_t>(i)] = kernel[static_cast<std::size_t>(n - 1 - i)] =
        values[static_cast<std::size_t>(i)] * normalise;
  kernel[static_cast<std::size_t>(radius)] = normalise;
  return kernel;
}

// The CV_32F kernel sepFilter2D filters float images with.
inline std::vector<float> gaussian_kernel_float(int radius, double sigma) {
  const std::vector<double> exact = gaussian_kernel(radius, sigma);
  return {exact.begin(), exact.end()};
}

// cv::GaussianBlur's fixed-point kernel for 8-bit (8 fraction bits) and 16-bit (16) images:
// rounded with the error carried on (getGaussianKernelFixedPoint_ED), the centre taking what
// makes the sum exactly one.
inline std::vector<std::uint32_t> gaussian_kernel_fixed(int radius, double sigma, int fraction_bits) {
  const std::vector<double> exact = gaussian_kernel(radius, sigma);
  const auto one = static_cast<std::int64_t>(1) << fraction_bits;
  std::vector<std::uint32_t> kernel(exact.size());
  double error = 0;
  std::int64_t sum = 0;
  for (int i = 0; i < radius; ++i) {
    const double adjusted = exact[static_cast<std::size_t>(i)] * static_cast<double>(one) + error;
    const auto rounded = static_cast<std::int64_t>(std::nearbyint(adjusted));  // half to even
    error = adjusted - static_cast<double>(rounded);
    kernel[static_cast<std::size_t>(i)] = kernel[exact.size() - 1 - static_cast<std::size_t>(i)] =
        static_cast<std::uint32_t>(rounded);
    sum += rounded;
  }
  kernel[static_cast<std::size_t>(radius)] = static_cast<std::uint32_t>(one - 2 * sum);
  return kernel;
}

// Taps of a separable resampling: output i reads sources[first[i] .. first[i + 1]) with the
// matching weights, in the order the CPU sums them.
struct Taps {
  std::vector<int> first, source;
  std::vector<float> weight;

  void add(int from, float w) {
    source.push_back(from);
    weight.push_back(w);
  }
};

// cv::resize's INTER_AREA table (computeResizeAreaTab) for scale = source / target as OpenCV
// computes it (1 / (target / source), which is not always the exact quotient).
inline Taps area_taps(int source_size, int target_size, double scale) {
  Taps taps;
  for (int d = 0; d < target_size; ++d) {
    taps.first.push_back(static_cast<int>(taps.source.size()));
    const double from = d * scale, to = from + scale;
    const double cell = std::min(scale, source_size - from);
    int start = static_cast<int>(std::ceil(from)), end = static_cast<int>(std::floor(to));
    end = std::min(end, source_size - 1);
    start = std::min(start, end);
    if (start - from > 1e-3) taps.add(start - 1, static_cast<float>((start - from) / cell));
    for (int s = start; s < end; ++s) taps.add(s, static_cast<float>(1.0 / cell));
    if (to - end > 1e-3) taps.add(end, static_cast<float>(std::min(std::min(to - end, 1.0), cell) / cell));
  }
  taps.first.push_back(static_cast<int>(taps.source.size()));
  return taps;
}

// ops::AreaTable (lib/ops/geometry/area.cpp), the 8-bit fixed-point area kernel's weights: every
// output reads `width` inputs from `start`, with 14-bit weights summing to exactly 1 << 14.
struct FixedAreaTable {
  int width = 0;
  std::vector<int> start;
  std::vector<std::int16_t> weights;  // width per output
};

inline FixedAreaTable fixed_area_table(int source_size, int target_size) {
  constexpr int kOne = 1 << 14;
  const double scale = static_cast<double>(source_size) / target_size;
  Taps taps;
  int width = 0;
  for (int d = 0; d < target_size; ++d) {
    const int first = static_cast<int>(taps.source.size());
    taps.first.push_back(first);
    const double from = d * scale, to = from + scale;
    const double cell = std::min(scale, source_size - from);
    int start = static_cast<int>(std::ceil(from)), end = static_cast<int>(std::floor(to));
    end = std::min(end, source_size - 1);
    start = std::min(start, end);
    if (start - from > 1e-3) taps.add(start - 1, static_cast<float>((start - from) / cell));
    for (int s = start; s < end; ++s) taps.add(s, static_cast<float>(1.0 / cell));
    if (to - end > 1e-3) taps.add(end, static_cast<float>(std::min(std::min(to - end, 1.0), cell) / cell));
    width = std::max(width, static_cast<int>(taps.source.size()) - first);
  }
  taps.first.push_back(static_cast<int>(taps.source.size()));

  FixedAreaTable table;
  table.width = width = std::min(width, source_size);
  table.weights.assign(static_cast<std::size_t>(target_size * width), 0);
  for (int d = 0; d < target_size; ++d) {
    const int begin = taps.first[static_cast<std::size_t>(d)],
              end = taps.first[static_cast<std::size_t>(d + 1)];
    const int start = std::clamp(taps.source[static_cast<std::size_t>(begin)], 0, source_size - width);
    table.start.push_back(start);
    std::int16_t* w = &table.weights[static_cast<std::size_t>(d * width)];
    int sum = 0, largest = 0;
    for (int t = begin; t < end; ++t) {
      const int k = taps.source[static_cast<std::size_t>(t)] - start;
      w[k] = static_cast<std::int16_t>(std::lround(taps.weight[static_cast<std::size_t>(t)] * kOne));
      sum += w[k];
      if (w[k] > w[largest]) largest = k;
    }
    w[largest] = static_cast<std::int16_t>(w[largest] + kOne - sum);  // rounding left over
  }
  return table;
}

// One output column (or row) of cv::resize's INTER_LINEAR: the left (top) source and the two
// weights; `single` where OpenCV reads only the left source (past xmax).
struct LinearTap {
  int source;
  float weight0, weight1;
  int single;
};

// The INTER_LINEAR table of cv::resize (resize.cpp), or the bilinear stand-in it uses for
// INTER_AREA when one side grows (`area_mode`). Columns are clamped as OpenCV clamps them; rows
// keep their source index and are clamped when read (`clamp_source`), with their weights.
inline std::vector<LinearTap> linear_taps(int source_size, int target_size, bool area_mode,
                                          bool clamp_source) {
  const double inverse_scale = static_cast<double>(target_size) / source_size;
  const double scale = 1.0 / inverse_scale;
  std::vector<LinearTap> taps(static_cast<std::size_t>(target_size));
  int xmax = target_size;
  for (int d = 0; d < target_size; ++d) {
    int s;
    float f;
    if (!area_mode) {
      f = static_cast<float>((d + 0.5) * scale - 0.5);
      s = static_cast<int>(std::floor(f));
      f -= static_cast<float>(s);
    } else {
      s = static_cast<int>(std::floor(d * scale));
      f = static_cast<float>((d + 1) - (s + 1) * inverse_scale);
      f = f <= 0 ? 0.f : f - std::floor(f);
    }
    if (clamp_source) {
      if (s < 0) f = 0, s = 0;
      if (s + 1 >= source_size) {
        xmax = std::min(xmax, d);
        if (s >= source_size - 1) f = 0, s = source_size - 1;
      }
    }
    taps[static_cast<std::size_t>(d)] = {s, 1.f - f, f, 0};
  }
  if (clamp_source)
    for (int d = xmax; d < target_size; ++d) taps[static_cast<std::size_t>(d)].single = 1;
  return taps;
}

// cv::resize's choice between its area kernels and its bilinear one, from the scales as it
// computes them.
struct ResizeScales {
  double x, y;  // source / target
  int integer_x, integer_y;
  bool whole;  // is_area_fast: both scales whole numbers

  ResizeScales(int source_width, int source_height, int target_width, int target_height) {
    x = 1.0 / (static_cast<double>(target_width) / source_width);
    y = 1.0 / (static_cast<double>(target_height) / source_height);
    integer_x = static_cast<int>(std::nearbyint(x));
    integer_y = static_cast<int>(std::nearbyint(y));
    whole = std::abs(x - integer_x) < DBL_EPSILON && std::abs(y - integer_y) < DBL_EPSILON;
  }
};

}  // namespace imgpipe::gpu
