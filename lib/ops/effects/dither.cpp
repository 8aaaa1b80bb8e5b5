// dither: error diffusion (Floyd–Steinberg, Atkinson, Jarvis–Judice–Ninke, Sierra) or ordered
// Bayer dithering to grey levels or to a palette. See include/imgpipe/kernels/dither.hpp for
// the exact arithmetic.
//
// Error diffusion runs as a wavefront: rows are claimed in order by a few TBB tasks, and the
// task on row y waits (spinning, then yielding) until row y - 1 has published enough progress.
// Each error buffer has exactly one writer (row y writes the buffer "from the row above" of
// row y + 1 and the buffer "from two rows above" of row y + 2), and every cell of it is added
// to in that writer's scan order, so the float sums — and therefore every decision — are the
// same whatever the schedule.

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/dither.hpp>
#include <imgpipe/palette.hpp>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <vector>

#include "../device_ops.hpp"
#include "../palette/lab.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"
#include "ordered_dither.hpp"

namespace imgpipe::kernels {

cv::Mat bayer_matrix(int n) {
  if (n < 1 || n > 256 || (n & (n - 1)) != 0)
    throw Error(ErrorCategory::config,
                fmt::format("bayer_matrix: size must be a power of two 1..256, got {}", n));
  cv::Mat m(1, 1, CV_32SC1, cv::Scalar(0));
  for (int size = 1; size < n; size *= 2) {
    cv::Mat next(2 * size, 2 * size, CV_32SC1);
    const int offsets[2][2] = {{0, 2}, {3, 1}};
    for (int qy = 0; qy < 2; ++qy)
      for (int qx = 0; qx < 2; ++qx) {
        cv::Mat quadrant = next(cv::Rect(qx * size, qy * size, size, size));
        m.convertTo(quadrant, CV_32S, 4, offsets[qy][qx]);
      }
    m = next;
  }
  return m;
}

namespace {

double srgb_decode(double encoded) {
  return encoded <= 0.04045 ? encoded / 12.92 : std::pow((encoded + 0.055) / 1.055, 2.4);
}

// An error-diffusion kernel for left-to-right scanning: weights of the next two pixels of the
// row, and of dx = -2..2 on the next row and the row after. Every kernel is written over the
// full 5-wide rows (unused taps weigh 0) so that the inner loops have a fixed length.
struct DiffusionKernel {
  float ahead1 = 0, ahead2 = 0;
  std::array<float, 5> below1{}, below2{};
  int reach = 0;  // largest |dx| of any non-zero tap
};

DiffusionKernel diffusion_kernel(DitherMethod method) {
  DiffusionKernel k;
  auto taps = [](std::initializer_list<std::pair<int, int>> list, float divisor) {
    std::array<float, 5> out{};
    for (auto [dx, w] : list) out[static_cast<std::size_t>(dx + 2)] = static_cast<float>(w) / divisor;
    return out;
  };
  switch (method) {
    case DitherMethod::floyd_steinberg:
      k.ahead1 = 7.0f / 16;
      k.below1 = taps({{-1, 3}, {0, 5}, {1, 1}}, 16);
      k.reach = 1;
      break;
    case DitherMethod::atkinson:
      k.ahead1 = k.ahead2 = 1.0f / 8;
      k.below1 = taps({{-1, 1}, {0, 1}, {1, 1}}, 8);
      k.below2 = taps({{0, 1}}, 8);
      k.reach = 2;
      break;
    case DitherMethod::jarvis_judice_ninke:
      k.ahead1 = 7.0f / 48;
      k.ahead2 = 5.0f / 48;
      k.below1 = taps({{-2, 3}, {-1, 5}, {0, 7}, {1, 5}, {2, 3}}, 48);
      k.below2 = taps({{-2, 1}, {-1, 3}, {0, 5}, {1, 3}, {2, 1}}, 48);
      k.reach = 2;
      break;
    case DitherMethod::sierra:
      k.ahead1 = 5.0f / 32;
      k.ahead2 = 3.0f / 32;
      k.below1 = taps({{-2, 2}, {-1, 4}, {0, 5}, {1, 4}, {2, 2}}, 32);
      k.below2 = taps({{-1, 2}, {0, 3}, {1, 2}}, 32);
      k.reach = 2;
      break;
    default: break;
  }
  return k;
}

int bayer_size(DitherMethod method) {
  switch (method) {
    case DitherMethod::bayer2: return 2;
    case DitherMethod::bayer4: return 4;
    case DitherMethod::bayer8: return 8;
    default: return 0;
  }
}

constexpr int kPad = 2;     // error buffers extend this far past both image edges
constexpr int kChunk = 64;  // pixels between progress updates (a power of two)

// Everything one dithering call needs, shared read-only by the rows (except the colour cache,
// whose racing writers all store the same value).
struct Plan {
  int channels = 1;  // 1: grey levels, 3: palette
  bool linear = false;
  std::array<float, 256> base{};  // 8-bit sample → working value

  // levels
  std::vector<std::uint8_t> level_value;  // output sample of each level
  std::vector<float> level_work;          // its working value
  std::vector<float> level_threshold;     // decision thresholds between adjacent levels

  // palette
  std::vector<Colour> palette;
  std::vector<palette::LabF> palette_lab;
  std::vector<std::array<float, 3>> palette_work;
  std::vector<float> code_threshold;  // linear: decoded midpoints between 8-bit codes
  // Large palettes: 2^24 RGB → palette index + 1 (0 = not known yet); racing writers store the
  // same value.
  std::unique_ptr<std::atomic<std::uint8_t>[]> nearest;
  float spread = 0;  // ordered palette dithering

  int level_index(float v) const {
    if (level_threshold.size() == 1) return v >= level_threshold[0] ? 1 : 0;
    return static_cast<int>(std::upper_bound(level_threshold.begin(), level_threshold.end(), v) -
                            level_threshold.begin());
  }
  int code(float v) const {
    if (linear)
      return static_cast<int>(std::upper_bound(code_threshold.begin(), code_threshold.end(), v) -
                              code_threshold.begin());
    return static_cast<int>(std::clamp(v, 0.0f, 255.0f) + 0.5f);
  }
  int palette_index(const float* v) const {
    const int r = code(v[0]), g = code(v[1]), b = code(v[2]);
    if (!nearest) return nearest_colour(r, g, b);
    auto& slot = nearest[static_cast<std::size_t>((r << 16) | (g << 8) | b)];
    const int cached = slot.load(std::memory_order_relaxed);
    if (cached != 0) return cached - 1;
    const int best = nearest_colour(r, g, b);
    slot.store(static_cast<std::uint8_t>(best + 1), std::memory_order_relaxed);
    return best;
  }
  int nearest_colour(int r, int g, int b) const {
    const palette::LabF lab = palette::LabConverter::instance()(
        static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b));
    int best = 0;
    float best_distance = palette::distance2(lab, palette_lab[0]);
    for (std::size_t i = 1; i < palette_lab.size(); ++i) {
      const float d = palette::distance2(lab, palette_lab[i]);
      if (d < best_distance) best_distance = d, best = static_cast<int>(i);
    }
    return best;
  }
};

Plan make_plan(const DitherOptions& options) {
  Plan plan;
  plan.linear = options.linear;
  for (int v = 0; v < 256; ++v)
    plan.base[static_cast<std::size_t>(v)] =
        options.linear ? static_cast<float>(srgb_decode(v / 255.0)) : static_cast<float>(v);
  auto work = [&](double srgb8) {  // a (possibly fractional) 8-bit sRGB value as a working value
    return static_cast<float>(options.linear ? srgb_decode(srgb8 / 255.0) : srgb8);
  };
  if (options.palette.empty()) {
    if (options.levels < 2 || options.levels > 256)
      throw Error(ErrorCategory::config,
                  fmt::format("dither: levels must be 2..256, got {}", options.levels));
    const int n = options.levels;
    for (int i = 0; i < n; ++i) {
      const auto value = static_cast<std::uint8_t>(std::lround(i * 255.0 / (n - 1)));
      plan.level_value.push_back(value);
      plan.level_work.push_back(work(value));
    }
    for (int i = 0; i + 1 < n; ++i)
      plan.level_threshold.push_back(work((plan.level_value[static_cast<std::size_t>(i)] +
                                           plan.level_value[static_cast<std::size_t>(i) + 1]) /
                                          2.0));
    return plan;
  }
  if (options.palette.size() > 255)
    throw Error(ErrorCategory::config,
                fmt::format("dither: a palette has at most 255 colours, got {}", options.palette.size()));
  plan.channels = 3;
  plan.palette = options.palette;
  for (const Colour& c : plan.palette) {
    const Lab lab = srgb_to_lab(c);
    plan.palette_lab.push_back(
        {static_cast<float>(lab.L), static_cast<float>(lab.a), static_cast<float>(lab.b)});
    plan.palette_work.push_back({work(c.r), work(c.g), work(c.b)});
  }
  if (options.linear)
    for (int code = 0; code < 255; ++code) plan.code_threshold.push_back(work(code + 0.5));
  // Beyond a few colours the search costs more than a cache miss in a 16 MB table.
  if (plan.palette.size() > 16) plan.nearest.reset(new std::atomic<std::uint8_t>[std::size_t{1} << 24]());
  const int m =
      std::max(2, static_cast<int>(std::lround(std::cbrt(static_cast<double>(plan.palette.size())))));
  plan.spread = options.linear ? 1.0f / static_cast<float>(m - 1) : 255.0f / static_cast<float>(m - 1);
  return plan;
}

// Ordered dithering's thresholds: (M + 0.5) / n^2 of bayer_matrix(n), in float.
cv::Mat ordered_thresholds(int n) {
  cv::Mat thresholds;
  bayer_matrix(n).convertTo(thresholds, CV_32F, 1.0 / (n * n), 0.5 / (n * n));
  return thresholds;
}

// Writes the decision for working value(s) v to out and the remaining error to error.
template <int C>
inline void quantise(const Plan& plan, const float* v, std::uint8_t* out, float* error) {
  if constexpr (C == 1) {
    const int k = plan.level_index(v[0]);
    out[0] = plan.level_value[static_cast<std::size_t>(k)];
    error[0] = v[0] - plan.level_work[static_cast<std::size_t>(k)];
  } else {
    const auto p = static_cast<std::size_t>(plan.palette_index(v));
    const Colour& c = plan.palette[p];
    out[0] = c.r, out[1] = c.g, out[2] = c.b;
    for (int i = 0; i < 3; ++i) error[i] = v[i] - plan.palette_work[p][static_cast<std::size_t>(i)];
  }
}

// A cache line each, so that a row publishing its progress does not disturb its neighbours.
struct alignas(64) RowProgress {
  std::atomic<int> done{0};  // pixels of the row finished, in its own scan order
};

// Error diffusion over the rows. Row y reads from1[y % slots] (written by row y - 1) and
// from2[y % slots] (written by row y - 2), and clears and writes from1[(y + 1) % slots] and
// from2[(y + 2) % slots].
struct Diffusion {
  const Plan& plan;
  const DiffusionKernel& kernel;
  const cv::Mat& colour;  // CV_8UC(C)
  cv::Mat& out;           // CV_8UC(C)
  bool serpentine;
  int slots;
  std::vector<std::vector<float>> from1, from2;
  std::unique_ptr<RowProgress[]> progress;
  bool synchronised;  // false: rows run in order on one thread, no waiting needed

  Diffusion(const Plan& p, const DiffusionKernel& k, const cv::Mat& c, cv::Mat& o, bool serp, int ring,
            bool sync)
      : plan(p), kernel(k), colour(c), out(o), serpentine(serp), slots(ring), synchronised(sync) {
    const auto size = static_cast<std::size_t>((c.cols + 2 * kPad) * p.channels);
    from1.assign(static_cast<std::size_t>(slots), std::vector<float>(size, 0.0f));
    from2.assign(static_cast<std::size_t>(slots), std::vector<float>(size, 0.0f));
    if (synchronised) progress.reset(new RowProgress[static_cast<std::size_t>(c.rows)]);
  }

  bool right_to_left(int y) const { return serpentine && (y & 1) != 0; }

  static void wait_for(const std::atomic<int>& counter, int needed) {
    for (int spins = 0; counter.load(std::memory_order_acquire) < needed; ++spins)
      if (spins > 64) std::this_thread::yield();
  }

  // How many pixels row y - 1 must have finished before row y may take pixel x: every pixel
  // within reach + 1 of x, counted in row y - 1's own scan order.
  int needed_above(int y, int x) const {
    const int width = colour.cols, margin = kernel.reach + 1;
    const int lo = std::max(0, x - margin), hi = std::min(width - 1, x + margin);
    return right_to_left(y - 1) ? width - lo : hi + 1;
  }

  template <int C>
  void row(int y) {
    const int width = colour.cols;
    const auto s = static_cast<std::size_t>(slots);
    const auto uy = static_cast<std::size_t>(y);
    if (synchronised && y + 2 - slots >= 0) wait_for(progress[uy + 2 - s].done, width);
    const float* in1 = from1[uy % s].data();
    const float* in2 = from2[uy % s].data();
    float* out1 = from1[(uy + 1) % s].data();
    float* out2 = from2[(uy + 2) % s].data();
    std::fill(out1, out1 + from1[0].size(), 0.0f);
    std::fill(out2, out2 + from2[0].size(), 0.0f);

    const bool rtl = right_to_left(y);
    const int step = rtl ? -1 : 1;
    const std::uint8_t* src = colour.ptr<std::uint8_t>(y);
    std::uint8_t* dst = out.ptr<std::uint8_t>(y);
    std::atomic<int>* mine = synchronised ? &progress[uy].done : nullptr;
    const std::atomic<int>* above = synchronised && y > 0 ? &progress[uy - 1].done : nullptr;
    int seen_above = 0;
    float ahead1[C] = {}, ahead2[C] = {};
    for (int i = 0; i < width; ++i) {
      const int x = rtl ? width - 1 - i : i;
      if (above && (i & (kChunk - 1)) == 0) {
        // needed_above is monotonic in x, so the chunk's largest need is at one of its ends.
        const int last = rtl ? std::max(0, x - kChunk + 1) : std::min(width - 1, x + kChunk - 1);
        const int need = std::max(needed_above(y, x), needed_above(y, last));
        if (need > seen_above) {
          wait_for(*above, need);
          seen_above = above->load(std::memory_order_acquire);
        }
      }
      const std::size_t at = static_cast<std::size_t>(x + kPad) * C;
      float v[C], error[C];
      for (int c = 0; c < C; ++c)
        v[c] = plan.base[src[x * C + c]] +
               (in2[at + static_cast<std::size_t>(c)] + in1[at + static_cast<std::size_t>(c)]) + ahead1[c];
      quantise<C>(plan, v, dst + x * C, error);
      for (int c = 0; c < C; ++c) {
        ahead1[c] = ahead2[c] + error[c] * kernel.ahead1;
        ahead2[c] = error[c] * kernel.ahead2;
        for (int d = 0; d < 5; ++d) {
          const auto at_d =
              static_cast<std::size_t>(x + step * (d - 2) + kPad) * C + static_cast<std::size_t>(c);
          out1[at_d] += error[c] * kernel.below1[static_cast<std::size_t>(d)];
          out2[at_d] += error[c] * kernel.below2[static_cast<std::size_t>(d)];
        }
      }
      if (mine && (i & (kChunk - 1)) == kChunk - 1) mine->store(i + 1, std::memory_order_release);
    }
    if (mine) mine->store(width, std::memory_order_release);
  }

  template <int C>
  void run(int workers) {
    const int rows = colour.rows;
    if (!synchronised) {
      for (int y = 0; y < rows; ++y) row<C>(y);
      return;
    }
    // Rows are claimed in increasing order and a task only claims a row after finishing its
    // previous one, so the oldest unfinished row never waits: no deadlock whatever the
    // number of threads that actually run the tasks.
    std::atomic<int> next_row{0};
    tbb::parallel_for(
        tbb::blocked_range<int>(0, workers, 1),
        [&](const tbb::blocked_range<int>&) {
          for (int y = next_row.fetch_add(1); y < rows; y = next_row.fetch_add(1)) row<C>(y);
        },
        tbb::simple_partitioner());
  }
};

// Ordered dithering of one row.
template <int C>
void ordered_row(const Plan& plan, const cv::Mat& thresholds, const cv::Mat& colour, cv::Mat& out, int y) {
  const int n = thresholds.rows;
  const float* t = thresholds.ptr<float>(y % n);
  const std::uint8_t* src = colour.ptr<std::uint8_t>(y);
  std::uint8_t* dst = out.ptr<std::uint8_t>(y);
  const int levels = static_cast<int>(plan.level_work.size());
  for (int x = 0; x < colour.cols; ++x) {
    const float threshold = t[x % n];
    if constexpr (C == 1) {
      const float v = plan.base[src[x]];
      // The level at or below v, and how far v is on the way to the next one.
      const auto below = std::upper_bound(plan.level_work.begin(), plan.level_work.end(), v);
      int k = std::max(0, static_cast<int>(below - plan.level_work.begin()) - 1);
      if (k + 1 < levels) {
        const auto uk = static_cast<std::size_t>(k);
        const float fraction = (v - plan.level_work[uk]) / (plan.level_work[uk + 1] - plan.level_work[uk]);
        if (fraction > threshold) ++k;
      }
      dst[x] = plan.level_value[static_cast<std::size_t>(k)];
    } else {
      float v[3], error[3];
      for (int c = 0; c < 3; ++c) v[c] = plan.base[src[x * 3 + c]] + (threshold - 0.5f) * plan.spread;
      quantise<3>(plan, v, dst + x * 3, error);
    }
  }
}

// The input as 8-bit colour for the plan (grey for levels, RGB for a palette) and its alpha.
void prepare(cv::InputArray src, const Plan& plan, cv::Mat& colour, cv::Mat& alpha) {
  cv::Mat input = src.getMat();
  if (input.depth() == CV_16U) {
    cv::Mat reduced;
    input.convertTo(reduced, CV_8U, 1.0 / 257.0);
    input = reduced;
  } else if (input.depth() != CV_8U) {
    throw Error(ErrorCategory::unsupported, "dither: the input must be 8- or 16-bit");
  }
  const int channels = input.channels();
  if (channels < 1 || channels > 4)
    throw Error(ErrorCategory::unsupported, fmt::format("dither: cannot dither {} channels", channels));
  const bool has_alpha = channels == 2 || channels == 4;
  cv::Mat col;
  if (has_alpha) {
    std::vector<cv::Mat> planes;
    cv::split(input, planes);
    alpha = planes.back();
    planes.pop_back();
    cv::merge(planes, col);
  } else {
    alpha.release();
    col = input;
  }
  const int have = col.channels();
  if (plan.channels == 1 && have == 3)
    cv::cvtColor(col, colour, cv::COLOR_RGB2GRAY);
  else if (plan.channels == 3 && have == 1)
    cv::cvtColor(col, colour, cv::COLOR_GRAY2RGB);
  else
    colour = col.isContinuous() ? col : col.clone();
}

void dither_impl(cv::InputArray src, cv::OutputArray dst, const DitherOptions& options, bool sequential) {
  const Plan plan = make_plan(options);
  cv::Mat colour, alpha;
  prepare(src, plan, colour, alpha);
  cv::Mat out(colour.size(), CV_8UC(plan.channels));
  const int rows = colour.rows;
  if (const int n = bayer_size(options.method); n > 0) {
    const cv::Mat thresholds = ordered_thresholds(n);
    auto body = [&](int y) {
      if (plan.channels == 1)
        ordered_row<1>(plan, thresholds, colour, out, y);
      else
        ordered_row<3>(plan, thresholds, colour, out, y);
    };
    if (sequential || options.threads == 1) {
      for (int y = 0; y < rows; ++y) body(y);
    } else {
      tbb::parallel_for(tbb::blocked_range<int>(0, rows, 8), [&](const tbb::blocked_range<int>& r) {
        for (int y = r.begin(); y < r.end(); ++y) body(y);
      });
    }
  } else {
    const DiffusionKernel kernel = diffusion_kernel(options.method);
    // More tasks than threads is safe (see Diffusion::run), merely useless.
    int workers = options.threads > 0 ? options.threads : tbb::this_task_arena::max_concurrency();
    workers = std::min(workers, rows);
    // Serpentine rows cannot overlap (see the header): one thread does them all.
    const bool synchronised = !sequential && workers > 1 && !options.serpentine;
    // A row writes two rows ahead and may run while `workers - 1` older rows are in flight.
    const int ring = synchronised ? workers + 3 : 3;
    Diffusion diffusion(plan, kernel, colour, out, options.serpentine, ring, synchronised);
    if (plan.channels == 1)
      diffusion.run<1>(workers);
    else
      diffusion.run<3>(workers);
  }
  if (alpha.empty()) {
    dst.assign(out);
    return;
  }
  std::vector<cv::Mat> planes;
  cv::split(out, planes);
  planes.push_back(alpha);
  cv::Mat merged;
  cv::merge(planes, merged);
  dst.assign(merged);
}

// What OrderedDitherTables::plan points into.
struct OrderedDitherStorage {
  Plan plan;
  cv::Mat thresholds;                      // CV_32F, n x n, continuous
  std::vector<std::uint8_t> palette_rgba;  // plan.palette as RGBA bytes
  std::vector<float> palette_lab;          // plan.palette_lab as L, a, b floats
};

}  // namespace

OrderedDitherTables ordered_dither_tables(const DitherOptions& options) {
  const int n = bayer_size(options.method);
  if (n == 0)
    throw Error(ErrorCategory::internal, "dither: the CUDA tables are for an ordered (bayer) method");
  auto storage = std::make_shared<OrderedDitherStorage>();
  storage->plan = make_plan(options);
  storage->plan.nearest.reset();  // a CPU-side cache of the nearest colours, not a table
  storage->thresholds = ordered_thresholds(n);
  const Plan& plan = storage->plan;
  for (const Colour& c : plan.palette)
    storage->palette_rgba.insert(storage->palette_rgba.end(), {c.r, c.g, c.b, c.a});
  for (const palette::LabF& lab : plan.palette_lab)
    storage->palette_lab.insert(storage->palette_lab.end(), {lab.L, lab.a, lab.b});

  OrderedDitherTables out;
  imgpipe_cuda_ordered_dither& t = out.plan;
  t.thresholds = storage->thresholds.ptr<float>();
  t.n = n;
  t.base = plan.base.data();
  if (plan.channels == 1) {
    t.level_values = plan.level_value.data();
    t.level_work = plan.level_work.data();
    t.levels = static_cast<int>(plan.level_value.size());
  } else {
    t.palette = storage->palette_rgba.data();
    t.palette_lab = storage->palette_lab.data();
    t.palette_size = static_cast<int>(plan.palette.size());
    t.spread = plan.spread;
    t.code_thresholds = plan.linear ? plan.code_threshold.data() : nullptr;
  }
  const auto& converter = palette::LabConverter::instance();
  t.lab = {converter.linear_table(), converter.f_table()};
  out.storage = std::move(storage);
  return out;
}

void dither(cv::InputArray src, cv::OutputArray dst, const DitherOptions& options) {
  dither_impl(src, dst, options, false);
}

void dither_sequential(cv::InputArray src, cv::OutputArray dst, const DitherOptions& options) {
  dither_impl(src, dst, options, true);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

kernels::DitherMethod parse_method(const std::string& name) {
  using M = kernels::DitherMethod;
  if (name == "atkinson") return M::atkinson;
  if (name == "jarvis_judice_ninke") return M::jarvis_judice_ninke;
  if (name == "sierra") return M::sierra;
  if (name == "bayer2") return M::bayer2;
  if (name == "bayer4") return M::bayer4;
  if (name == "bayer8") return M::bayer8;
  return M::floyd_steinberg;
}

class Dither final : public Operation {
 public:
  explicit Dither(const Params& p) {
    options_.method = parse_method(p.text("method"));
    if (p.has("palette")) options_.palette = parse_palette_list(p.text("palette")).colours;
    if (auto levels = p.optional_integer("levels")) options_.levels = static_cast<int>(*levels);
    options_.serpentine = p.boolean("serpentine");
    options_.linear = p.boolean("linear");
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::dither(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  // CUDA: the ordered (Bayer) methods, with the tables of the CPU's own plan. Error diffusion
  // is sequential along the scan order and stays on the CPU.
  bool runs_on(Device device, int channels, int depth, QualityPreset) const override {
    return device == Device::cuda && ordered() && channels >= 1 && channels <= 4 &&
           (depth == CV_8U || depth == CV_16U);
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    const kernels::OrderedDitherTables tables = kernels::ordered_dither_tables(options_);
    const int alpha = image.channels() == 2 || image.channels() == 4 ? 1 : 0;
    const int colour = options_.palette.empty() ? 1 : 3;
    on_cuda(image, image.size(), colour + alpha, CV_8U, "dither",
            [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
              return api.dither_ordered(context, in, out, &tables.plan);
            });
  }

 private:
  bool ordered() const { return kernels::bayer_size(options_.method) > 0; }

  kernels::DitherOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(dither) {
  registry.add(OpDescriptor{
      .name = "dither",
      .family = "effects",
      .summary =
          "Reduce to a few grey levels or to a palette by error diffusion or ordered (Bayer) dithering; "
          "the output is 8-bit, alpha is kept.",
      .footprint = Footprint::global,
      .params =
          {
              spec::choice(
                  "method", "floyd_steinberg",
                  {"floyd_steinberg", "atkinson", "jarvis_judice_ninke", "sierra", "bayer2", "bayer4",
                   "bayer8"},
                  "Error diffusion kernel (sierra is the 3-row Sierra) or ordered Bayer matrix size."),
              spec::text(
                  "palette", {},
                  "Target colours, e.g. \"#000,#f80,#fff\" (nearest in CIE Lab); the output is RGB(A). "
                  "Without it the output is grey levels."),
              spec::integer(
                  "levels", {}, 2, 256,
                  "Grey levels when no palette is given (default 2: black and white); the output is "
                  "grey(+alpha)."),
              spec::boolean("serpentine", true, "Error diffusion: scan odd rows right to left."),
              spec::boolean("linear", false,
                            "Measure and diffuse the error in linear light; decisions stay in sRGB."),
          },
      .examples =
          {
              {{"method", "floyd_steinberg"}, {"levels", 2}},
              {{"method", "atkinson"}, {"palette", "#000,#f00,#0f0,#00f,#fff"}},
              {{"method", "bayer8"}, {"levels", 4}},
          },
      .create = [](const Params& p) { return std::make_unique<Dither>(p); },
      .check = [](const Params& p) -> std::string {
        if (p.has("palette") && p.has("levels")) return "give palette or levels, not both";
        if (p.has("palette")) {
          try {
            const auto colours = parse_palette_list(p.text("palette")).colours;
            if (colours.size() > 255)
              return fmt::format("palette: at most 255 colours, got {}", colours.size());
          } catch (const Error& e) {
            return fmt::format("palette: {}", e.what());
          }
        }
        return "";
      },
  });
}

}  // namespace imgpipe::ops
