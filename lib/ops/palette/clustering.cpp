// cluster(): colour histogram → weighted k-means in Lab → every full-resolution pixel assigned.
// Clustering::apply(): one table look-up per pixel.

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <imgpipe/error.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/palette.hpp>
#include <limits>
#include <mutex>
#include <new>
#include <numeric>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "../../core/channels.hpp"
#include "../../core/zeroed.hpp"
#include "../analysis/complexity.hpp"
#include "effort.hpp"
#include "kmeans.hpp"
#include "lab.hpp"
#include "labels.hpp"

namespace imgpipe {

using palette::LabConverter;
using palette::LabF;
using palette::WeightedPoint;

namespace {

Lab widen(const LabF& lab) noexcept {
  return {static_cast<double>(lab.L), static_cast<double>(lab.a), static_cast<double>(lab.b)};
}

// The 8-bit colour whose Lab is nearest to `lab`, which the centre's pixels are recoloured with:
// the one that adds least to their squared Lab error. Rounding each sRGB channel on its own can
// land a few tenths of a Lab unit further, which on a photo of tight clusters (a mean squared
// error of 4-7) costs 1-2 % more error.
Colour nearest_colour(const Lab& lab) {
  const Colour rounded = lab_to_srgb(lab);
  Colour best = rounded;
  double best_d = lab_distance2(srgb_to_lab(rounded), lab);
  const auto step = [](std::uint8_t v, int d) {
    return static_cast<std::uint8_t>(std::clamp(v + d, 0, 255));
  };
  for (int dr = -1; dr <= 1; ++dr)
    for (int dg = -1; dg <= 1; ++dg)
      for (int db = -1; db <= 1; ++db) {
        const Colour c{step(rounded.r, dr), step(rounded.g, dg), step(rounded.b, db), 255};
        if (const double d = lab_distance2(srgb_to_lab(c), lab); d < best_d) {
          best_d = d;
          best = c;
        }
      }
  return best;
}

constexpr int kBinBits = 6;
constexpr int kBins = 1 << (3 * kBinBits);

inline int bin_of(const std::uint8_t* p) {
  return (p[0] >> (8 - kBinBits)) << (2 * kBinBits) | (p[1] >> (8 - kBinBits)) << kBinBits |
         p[2] >> (8 - kBinBits);
}

// How hard each preset searches. k-means lands in a local optimum that depends on its seeds, and
// on flat or low-contrast photos the optima differ by several per cent: `attempts` k-means++
// runs (each centre the best of `seeding_trials` candidates) on 5-bit bins are cheap, the best
// `finalists` of them are refined on the 6-bit bins, and the winner gets up to
// `exact_iterations` more on the sampled colours themselves (a 6-bit bin is as wide as the
// clusters of a smooth photo, which cost up to 2 % error there). Chosen on 26 photos of 1-15 MP
// (benchmarks/palette_quality.py): at balanced none is more than 0.2 % above exact k-means on
// every pixel at k 10 and at the k it chooses (0.3 % at k 5 and 16 on 10 of them), where 3
// attempts without the last two stages were up to 5 % above.
struct Preset {
  int attempts, finalists, seeding_trials, max_iterations;
  double tolerance;
  int exact_iterations;
  bool exact_lab;
};

Preset preset_for(QualityPreset q) {
  switch (q) {
    case QualityPreset::ultra: return {10, 3, 2, 100, 0.01, 100, true};
    case QualityPreset::high: return {8, 3, 2, 50, 0.05, 50, false};
    case QualityPreset::balanced: return {8, 3, 2, 30, 0.1, 30, false};
    case QualityPreset::fast: return {4, 2, 2, 20, 0.25, 10, false};
    case QualityPreset::draft: return {1, 1, 2, 10, 0.5, 0, false};
  }
  return {8, 3, 2, 30, 0.1, 30, false};
}

// The last refinement stops when no centre moves more than this (Lab units): far below what an
// 8-bit colour can show.
constexpr double kExactTolerance = 0.01;
// The sampled colours are gathered on a grid of at most this many pixels (a 2048x2048 image's
// every 16th pixel, a 512x512 grid): about 30 000 distinct colours in a photo.
constexpr double kExactSamples = 1 << 18;

// The image as 8-bit RGB plus a mask of the pixels to cluster (empty = all).
struct Prepared {
  cv::Mat rgb;   // CV_8UC3
  cv::Mat mask;  // CV_8UC1 or empty
};

Prepared prepare(const Image& image, const cv::Mat& given_mask) {
  if (image.empty()) throw Error(ErrorCategory::config, "palette: the image is empty");
  cv::Mat px = image.pixels;
  if (px.depth() == CV_16U) px.convertTo(px, CV_8U, 1.0 / 257.0);
  px = detail::grey_to_rgb(px);
  Prepared out;
  if (px.channels() == 4) {
    cv::cvtColor(px, out.rgb, cv::COLOR_RGBA2RGB);
    if (given_mask.empty()) {
      cv::Mat alpha;
      cv::extractChannel(px, alpha, 3);
      out.mask = alpha >= 128;
    }
  } else {
    out.rgb = px;
  }
  if (!given_mask.empty()) {
    if (given_mask.size() != image.pixels.size() || given_mask.type() != CV_8UC1)
      throw Error(
          ErrorCategory::config,
          fmt::format("palette: the mask must be an 8-bit single-channel image of the image's size {}x{}, "
                      "got {}x{} with {} channels",
                      image.width(), image.height(), given_mask.cols, given_mask.rows,
                      given_mask.channels()));
    out.mask = given_mask != 0;
  }
  return out;
}

struct Bin {
  std::uint32_t count = 0;
  std::uint32_t r = 0, g = 0, b = 0;
};

// Histogram of the pixels on a grid of `stride` (1 = every pixel). Integer sums make it
// independent of how the rows were split between threads.
using Bins = detail::ZeroedArray<Bin>;

Bins histogram(const Prepared& in, int stride) {
  const auto add_rows = [&](Bins& bins, int row_begin, int row_end) {
    for (int row = row_begin; row < row_end; ++row) {
      const int y = row * stride;
      const std::uint8_t* p = in.rgb.ptr<std::uint8_t>(y);
      const std::uint8_t* m = in.mask.empty() ? nullptr : in.mask.ptr<std::uint8_t>(y);
      for (int x = 0; x < in.rgb.cols; x += stride) {
        if (m && !m[x]) continue;
        const std::uint8_t* q = p + 3 * x;
        Bin& bin = bins[static_cast<std::size_t>(bin_of(q))];
        ++bin.count;
        bin.r += q[0];
        bin.g += q[1];
        bin.b += q[2];
      }
    }
  };
  const int rows = (in.rgb.rows + stride - 1) / stride;
  Bins total(kBins);
  // Up to 16 M samples one pass is quicker than a histogram per thread and their merge (every
  // pixel of a 2048² photo: 9–18 ms in one pass, 12–26 ms on two threads).
  const double samples = static_cast<double>(rows) * in.rgb.cols / stride;
  if (samples <= 1.6e7) {
    add_rows(total, 0, rows);
    return total;
  }
  tbb::combinable<Bins> local([] { return Bins(kBins); });
  tbb::parallel_for(tbb::blocked_range<int>(0, rows, 16),
                    [&](const tbb::blocked_range<int>& r) { add_rows(local.local(), r.begin(), r.end()); });
  local.combine_each([&](const Bins& bins) {
    for (std::size_t i = 0; i < total.size(); ++i) {
      total[i].count += bins[i].count;
      total[i].r += bins[i].r;
      total[i].g += bins[i].g;
      total[i].b += bins[i].b;
    }
  });
  return total;
}

// Bins with pixels as weighted Lab points at their exact mean colour; `coarsen` merges
// 2^(3*coarsen) neighbouring bins first (for cheap k-means++ attempts).
std::vector<WeightedPoint> points_of(std::span<const Bin> bins, int coarsen) {
  const auto& lab = LabConverter::instance();
  std::vector<Bin> merged;
  std::span<const Bin> source = bins;
  if (coarsen > 0) {
    const int bits = kBinBits - coarsen;
    merged.assign(static_cast<std::size_t>(1) << (3 * bits), Bin{});
    for (int i = 0; i < kBins; ++i) {
      const Bin& b = bins[static_cast<std::size_t>(i)];
      if (!b.count) continue;
      const int r = (i >> (2 * kBinBits)) >> coarsen, g = ((i >> kBinBits) & 63) >> coarsen,
                bl = (i & 63) >> coarsen;
      Bin& m = merged[static_cast<std::size_t>(r << (2 * bits) | g << bits | bl)];
      m.count += b.count;
      m.r += b.r;
      m.g += b.g;
      m.b += b.b;
    }
    source = merged;
  }
  std::vector<WeightedPoint> points;
  for (const Bin& b : source) {
    if (!b.count) continue;
    const float n = static_cast<float>(b.count);
    points.push_back(
        {lab.from_mean(static_cast<float>(b.r) / n, static_cast<float>(b.g) / n, static_cast<float>(b.b) / n),
         static_cast<double>(b.count)});
  }
  return points;
}

// The distinct colours of the pixels on a grid of `stride`, each weighted by its count, in
// colour order (a radix sort of the 24-bit colours, 8 bits a pass). The keys and the sort's
// second buffer share one mapping, on a huge page from a 512x512 grid up (detail::map_zeroed):
// in a fresh process its 4 KB pages cost a page fault each, 12 ms for a 2048² image's grid on
// a virtual machine.
std::vector<WeightedPoint> sampled_colours(const Prepared& in, int stride) {
  const auto capacity = static_cast<std::size_t>((in.rgb.rows + stride - 1) / stride) *
                        static_cast<std::size_t>((in.rgb.cols + stride - 1) / stride);
  detail::ZeroedArray<std::uint32_t> buffer(2 * capacity);
  std::uint32_t* keys = buffer.data();
  std::uint32_t* sorted = keys + capacity;
  std::size_t n = 0;
  for (int y = 0; y < in.rgb.rows; y += stride) {
    const std::uint8_t* p = in.rgb.ptr<std::uint8_t>(y);
    const std::uint8_t* m = in.mask.empty() ? nullptr : in.mask.ptr<std::uint8_t>(y);
    for (int x = 0; x < in.rgb.cols; x += stride) {
      if (m && !m[x]) continue;
      const std::uint8_t* q = p + 3 * x;
      keys[n++] = static_cast<std::uint32_t>(q[0]) << 16 | static_cast<std::uint32_t>(q[1]) << 8 | q[2];
    }
  }
  for (int shift = 0; shift < 24; shift += 8) {
    std::array<std::size_t, 257> start{};
    for (std::size_t i = 0; i < n; ++i) ++start[((keys[i] >> shift) & 255) + 1];
    for (std::size_t i = 0; i < 256; ++i) start[i + 1] += start[i];
    for (std::size_t i = 0; i < n; ++i) sorted[start[(keys[i] >> shift) & 255]++] = keys[i];
    std::swap(keys, sorted);
  }
  const auto& lab = LabConverter::instance();
  std::vector<WeightedPoint> points;
  std::size_t distinct = 0;
  for (std::size_t i = 0; i < n; ++i) distinct += i == 0 || keys[i] != keys[i - 1];
  points.reserve(distinct);
  for (std::size_t i = 0; i < n;) {
    std::size_t end = i;
    while (end < n && keys[end] == keys[i]) ++end;
    points.push_back({lab(static_cast<std::uint8_t>(keys[i] >> 16), static_cast<std::uint8_t>(keys[i] >> 8),
                          static_cast<std::uint8_t>(keys[i])),
                      static_cast<double>(end - i)});
    i = end;
  }
  return points;
}

// k-means++ attempts on 5-bit bins, the best `finalists` refined on the 6-bit bins, the winner
// refined on the sampled colours (see Preset).
palette::KMeansResult cluster_points(std::span<const Bin> bins, const std::vector<WeightedPoint>& colours,
                                     int k, const Preset& p, const ClusterOptions& o) {
  const palette::KMeansSettings settings{k,
                                         o.max_iterations > 0 ? o.max_iterations : p.max_iterations,
                                         o.attempts > 0 ? o.attempts : p.attempts,
                                         o.tolerance > 0 ? o.tolerance : p.tolerance,
                                         o.seed,
                                         p.seeding_trials};
  const auto attempts = palette::kmeans_attempts(points_of(bins, 1), settings);
  const auto fine = points_of(bins, 0);
  palette::KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  int iterations = 0;
  for (const auto& attempt : attempts) iterations += attempt.iterations;
  const std::size_t finalists = std::min(static_cast<std::size_t>(p.finalists), attempts.size());
  for (std::size_t i = 0; i < finalists; ++i) {
    auto refined = palette::refine(fine, attempts[i].centres, settings.max_iterations, settings.tolerance);
    iterations += refined.iterations;
    if (refined.inertia < best.inertia) best = std::move(refined);
  }
  // Skipped where a mask leaves fewer sampled colours than centres (a cluster would empty).
  if (p.exact_iterations > 0 && colours.size() >= best.centres.size()) {
    best = palette::refine(colours, std::move(best.centres), p.exact_iterations, kExactTolerance);
    iterations += best.iterations;
  }
  best.iterations = iterations;
  return best;
}

// k from the data: the smallest k in 2..k_max after which another cluster gains less than 10 %
// (k_max from the image's complexity, rule R1).
int choose_k(std::span<const Bin> bins, const Preset& p, const ClusterOptions& o, int k_max) {
  const auto fine = points_of(bins, 1);
  palette::KMeansSettings settings{1, p.max_iterations, 1, p.tolerance, o.seed, p.seeding_trials};
  double previous = palette::kmeans(fine, settings).inertia;
  for (int k = 2; k <= k_max; ++k) {
    settings.k = k;
    const double inertia = palette::kmeans(fine, settings).inertia;
    if (k > 2 && inertia > 0.9 * previous) return k - 1;
    previous = inertia;
  }
  return k_max;
}

// Every pixel's nearest centre (labels in the order of `centres`; kMasked where the mask
// leaves a pixel out), each cluster's share of the pixels, and the labels as palette indices.
struct Assignment {
  cv::Mat labels, indices;
  std::vector<double> fractions;
};

Assignment assign_pixels(const Prepared& in, const std::vector<LabF>& centres, bool exact_lab) {
  Assignment a;
  const auto& converter = LabConverter::instance();
  // Every pixel gets its nearest centre through a colour → cluster table over all 2^24
  // colours, filled on first use: each distinct colour is converted to Lab once, however
  // many pixels share it. The table is keyed by histogram bin then the two low bits of each
  // channel, so a bin's 64 colours share a cache line; it lies on huge pages (16 MB: eight
  // page faults instead of the thousand or more 4 KB pages a photo's colours touch). Entries hold label + 1
  // (0 = not yet known); two threads meeting an empty entry compute the same value, and relaxed atomics make
  // that benign. At ultra colours convert with the exact double-precision formula, otherwise with the
  // table-driven one (within 0.002 Lab units).
  detail::ZeroedArray<std::uint8_t> table(std::size_t{1} << 24);
  std::vector<Lab> exact_centres;
  for (const auto& centre : centres) exact_centres.push_back(widen(centre));
  const auto nearest_colour = [&](const std::uint8_t* p) {
    if (!exact_lab) return palette::nearest(converter(p[0], p[1], p[2]), centres);
    const Lab lab = srgb_to_lab({p[0], p[1], p[2], 255});
    std::size_t best = 0;
    for (std::size_t i = 1; i < exact_centres.size(); ++i)
      if (lab_distance2(lab, exact_centres[i]) < lab_distance2(lab, exact_centres[best])) best = i;
    return static_cast<int>(best);
  };
  const auto lookup = [&](const std::uint8_t* p) {
    const std::size_t key = static_cast<std::size_t>(bin_of(p)) << 6 |
                            static_cast<std::size_t>((p[0] & 3) << 4 | (p[1] & 3) << 2 | (p[2] & 3));
    std::atomic_ref<std::uint8_t> entry(table[key]);
    std::uint8_t label = entry.load(std::memory_order_relaxed);
    if (label == 0) {
      label = static_cast<std::uint8_t>(nearest_colour(p) + 1);
      entry.store(label, std::memory_order_relaxed);
    }
    return static_cast<std::uint8_t>(label - 1);
  };
  a.labels.allocator = large_page_allocator();
  a.labels.create(in.rgb.size(), CV_8UC1);
  const std::size_t kc = centres.size();
  tbb::combinable<std::vector<std::uint64_t>> counts([kc] { return std::vector<std::uint64_t>(kc); });
  tbb::parallel_for(tbb::blocked_range<int>(0, in.rgb.rows, 8), [&](const tbb::blocked_range<int>& r) {
    auto& count = counts.local();
    for (int y = r.begin(); y < r.end(); ++y) {
      const std::uint8_t* p = in.rgb.ptr<std::uint8_t>(y);
      const std::uint8_t* m = in.mask.empty() ? nullptr : in.mask.ptr<std::uint8_t>(y);
      std::uint8_t* out = a.labels.ptr<std::uint8_t>(y);
      for (int x = 0; x < in.rgb.cols; ++x, p += 3) {
        if (m && !m[x]) {
          out[x] = kMasked;
          continue;
        }
        const std::uint8_t label = lookup(p);
        out[x] = label;
        ++count[label];
      }
    }
  });
  std::vector<std::uint64_t> total(kc);
  counts.combine_each([&](const std::vector<std::uint64_t>& v) {
    for (std::size_t i = 0; i < kc; ++i) total[i] += v[i];
  });
  const double n = static_cast<double>(std::accumulate(total.begin(), total.end(), std::uint64_t{0}));
  for (auto t : total) a.fractions.push_back(n > 0 ? static_cast<double>(t) / n : 0.0);
  a.indices = indices_of(a.labels, kc, n < static_cast<double>(a.labels.total()));
  return a;
}

// The analysis strategy and the histogram's sampling grid from the image's long side, by the
// planner's thresholds (ClusterOptions::plan; where they overlap, direct wins as in the
// planner): every pixel below direct_below (direct); a 2x2 grid up to pyramid_above (scaled);
// above that (pyramid) a grid coarse enough to sample about a million pixels. At ultra every
// pixel; a given analysis_stride wins (a chain's palette step gives the planner's).
struct Sampling {
  std::string strategy;
  int stride;
};

Sampling sampling_for(const Image& image, const ClusterOptions& options) {
  const int long_side = std::max(image.width(), image.height());
  const double pixels = static_cast<double>(image.width()) * image.height();
  Sampling s = long_side < options.plan.direct_below ? Sampling{"direct", 1}
               : long_side > options.plan.pyramid_above
                   ? Sampling{"pyramid", std::max(2, static_cast<int>(std::sqrt(pixels / 1.0e6)))}
                   : Sampling{"scaled", 2};
  if (options.quality == QualityPreset::ultra) s.stride = 1;
  if (options.analysis_stride > 0) s.stride = options.analysis_stride;
  return s;
}

}  // namespace

std::string ops::clustering_effort(QualityPreset quality) {
  const Preset p = preset_for(quality);
  std::string text = p.attempts == 1 ? "1 k-means++ start"
                                     : fmt::format("{} k-means++ starts, the best {} refined", p.attempts,
                                                   std::min(p.finalists, p.attempts));
  text += fmt::format(", up to {} iterations (tolerance {} ΔE)", p.max_iterations, p.tolerance);
  text += p.exact_iterations > 0 ? fmt::format(" and {} more on the sampled colours", p.exact_iterations)
                                 : ", no refinement on the sampled colours";
  return text + (p.exact_lab ? "; exact Lab assignment" : "; Lab by table");
}

OpDescriptor::PresetEffects ops::clustering_presets(std::string_view ultra_prefix) {
  // sampling_for()'s grid, in words.
  const std::string grid =
      "; above 800 px every 2nd row and column, above 2000 px a grid of about a million pixels";
  return {.ultra = std::string(ultra_prefix) + clustering_effort(QualityPreset::ultra) + "; every pixel",
          .high = clustering_effort(QualityPreset::high) + grid,
          .balanced = clustering_effort(QualityPreset::balanced) + grid,
          .fast = clustering_effort(QualityPreset::fast) + grid,
          .draft = clustering_effort(QualityPreset::draft) + grid};
}

bool assigns_exact_lab(QualityPreset quality) {
  return preset_for(quality).exact_lab;
}

cv::Mat indices_of(const cv::Mat& labels, std::size_t k, bool any_masked) {
  if (!any_masked) return labels;
  cv::Mat to_index(1, 256, CV_8U), indices;
  for (int v = 0; v < 256; ++v)
    to_index.at<std::uint8_t>(v) = static_cast<std::uint8_t>(v == kMasked ? static_cast<int>(k) : v);
  cv::LUT(labels, to_index, indices);
  return indices;
}

Clustering cluster(const Image& image, const ClusterOptions& options) {
  if (options.k < 0 || options.k > 254)
    throw Error(ErrorCategory::config,
                fmt::format("palette.k: expected 0 (auto) or 1..254, got {}", options.k));
  auto body = [&] {
    const Preset preset = preset_for(options.quality);
    Prepared in = prepare(image, options.mask);
    const double complexity = options.complexity >= 0 ? options.complexity
                              : options.k == 0        ? ops::complexity(image.pixels)
                                                      : -1.0;
    const Sampling sampling = sampling_for(image, options);
    const Bins bins = [&] {
      MaybeScope scope(options.monitor, "histogram");
      return histogram(in, sampling.stride);
    }();
    const auto colours = [&] {
      MaybeScope scope(options.monitor, "sampled colours");
      const double pixels = static_cast<double>(image.width()) * image.height();
      return sampled_colours(
          in, std::max(sampling.stride, static_cast<int>(std::ceil(std::sqrt(pixels / kExactSamples)))));
    }();
    if (const auto all = bins.span();
        std::none_of(all.begin(), all.end(), [](const Bin& b) { return b.count > 0; }))
      throw Error(ErrorCategory::config, "palette: no pixels to cluster (the mask leaves none)");
    palette::KMeansResult result;
    int k_max = 0;
    {
      MaybeScope scope(options.monitor, "k-means");
      k_max = options.k > 0 ? 0 : ops::rules::auto_k_max(complexity);
      const int k = options.k > 0 ? options.k : choose_k(bins.span(), preset, options, k_max);
      result = cluster_points(bins.span(), colours, k, preset, options);
    }
    MaybeScope assignment_scope(options.monitor, "assignment");

    // Lightness order, darkest first: the order palettes are matched in.
    std::vector<LabF> centres = result.centres;
    std::sort(centres.begin(), centres.end(),
              [](const LabF& x, const LabF& y) { return std::tie(x.L, x.a, x.b) < std::tie(y.L, y.a, y.b); });

    Clustering c;
    c.source_ = image;
    c.iterations_ = result.iterations;
    c.strategy_ = sampling.strategy;
    c.analysis_stride_ = sampling.stride;
    c.complexity_ = complexity;
    c.k_max_ = k_max;
    for (const auto& centre : centres) {
      const Lab lab = widen(centre);
      c.centres_lab_.push_back(lab);
      c.centres_rgb_.push_back(nearest_colour(lab));
    }

    const Assignment assigned = assign_pixels(in, centres, preset.exact_lab);
    c.labels_ = assigned.labels;
    c.indices_ = assigned.indices;
    c.fractions_ = assigned.fractions;
    c.encode_cache_ = new_encode_cache();

    return c;
  };
  if (options.threads <= 0) return body();
  tbb::task_arena arena(options.threads);
  return arena.execute(body);
}

Clustering assign(const Image& image, const Clustering& clustering, const ClusterOptions& options) {
  auto body = [&] {
    MaybeScope scope(options.monitor, "assignment");
    const Prepared in = prepare(image, options.mask);
    std::vector<LabF> centres;  // the k-means centres exactly: they were floats before
    for (const Lab& lab : clustering.centres_lab_)
      centres.push_back({static_cast<float>(lab.L), static_cast<float>(lab.a), static_cast<float>(lab.b)});
    Clustering c;
    c.source_ = image;
    c.centres_lab_ = clustering.centres_lab_;
    c.centres_rgb_ = clustering.centres_rgb_;
    c.iterations_ = clustering.iterations_;
    c.strategy_ = clustering.strategy_;
    c.analysis_stride_ = clustering.analysis_stride_;
    c.complexity_ = clustering.complexity_;
    c.k_max_ = clustering.k_max_;
    const Assignment assigned = assign_pixels(in, centres, preset_for(options.quality).exact_lab);
    c.labels_ = assigned.labels;
    c.indices_ = assigned.indices;
    c.fractions_ = assigned.fractions;
    c.encode_cache_ = new_encode_cache();
    return c;
  };
  if (options.threads <= 0) return body();
  tbb::task_arena arena(options.threads);
  return arena.execute(body);
}

double Clustering::mean_lab_error() const {
  std::call_once(*error_once_, [this] {
    const auto& converter = LabConverter::instance();
    std::vector<LabF> centres;
    for (const auto& c : centres_lab_)
      centres.push_back({static_cast<float>(c.L), static_cast<float>(c.a), static_cast<float>(c.b)});
    cv::Mat rgb = prepare(source_, cv::Mat()).rgb;
    // Row sums added in row order: the same value for any number of threads.
    std::vector<double> row_error(static_cast<std::size_t>(rgb.rows));
    std::vector<std::uint64_t> row_count(static_cast<std::size_t>(rgb.rows));
    tbb::parallel_for(tbb::blocked_range<int>(0, rgb.rows, 8), [&](const tbb::blocked_range<int>& r) {
      for (int y = r.begin(); y < r.end(); ++y) {
        double sum = 0;
        std::uint64_t count = 0;
        const std::uint8_t* p = rgb.ptr<std::uint8_t>(y);
        const std::uint8_t* l = labels_.ptr<std::uint8_t>(y);
        for (int x = 0; x < rgb.cols; ++x, p += 3)
          if (l[x] != kMasked) {
            sum += static_cast<double>(palette::distance2(converter(p[0], p[1], p[2]), centres[l[x]]));
            ++count;
          }
        row_error[static_cast<std::size_t>(y)] = sum;
        row_count[static_cast<std::size_t>(y)] = count;
      }
    });
    const auto n = std::accumulate(row_count.begin(), row_count.end(), std::uint64_t{0});
    *mean_lab_error_ =
        n ? std::accumulate(row_error.begin(), row_error.end(), 0.0) / static_cast<double>(n) : 0.0;
  });
  return *mean_lab_error_;
}

}  // namespace imgpipe
