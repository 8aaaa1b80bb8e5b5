#include "kmeans.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <random>

namespace imgpipe::palette {

namespace {

constexpr std::size_t kChunk = 4096;  // fixed: the reduction order must not depend on threads
// Points whose nearest centre is searched together: centres in the outer loop and points in
// the inner one, so that the compiler vectorises the distances and the running minimum.
constexpr std::size_t kBlock = 256;
// A pass with fewer point-centre distances than this runs on the calling thread: it is a few
// hundred microseconds of work, and a palette's k-means makes a few hundred passes, where
// handing each to the worker threads cost more than it saved.
constexpr std::size_t kSerialPairs = std::size_t{1} << 20;

// The points as columns, so that the distances from one centre to many points vectorise.
struct Columns {
  std::vector<float> L, a, b;
  std::vector<double> weight;

  explicit Columns(const std::vector<WeightedPoint>& points) {
    L.reserve(points.size());
    a.reserve(points.size());
    b.reserve(points.size());
    weight.reserve(points.size());
    for (const auto& p : points) {
      L.push_back(p.lab.L);
      a.push_back(p.lab.a);
      b.push_back(p.lab.b);
      weight.push_back(p.weight);
    }
  }
  std::size_t size() const { return L.size(); }
  LabF lab(std::size_t i) const { return {L[i], a[i], b[i]}; }
};

// distance2(point, centre) for points [begin, begin + count) into `out`.
void distances(const Columns& p, std::size_t begin, std::size_t count, const LabF& centre, float* out) {
  const float* L = p.L.data() + begin;
  const float* A = p.a.data() + begin;
  const float* B = p.b.data() + begin;
  for (std::size_t i = 0; i < count; ++i) {
    const float dl = L[i] - centre.L, da = A[i] - centre.a, db = B[i] - centre.b;
    out[i] = dl * dl + da * da + db * db;
  }
}

// The nearest centre of each point in [begin, begin + count), count <= kBlock, and its squared
// distance: the same choice as nearest() (the lowest index among equals). The choice is written
// with masks rather than a branch so that the loop vectorises.
void nearest_block(const Columns& p, std::size_t begin, std::size_t count, const std::vector<LabF>& centres,
                   float* __restrict best_d, int* __restrict best_c) {
  const float* __restrict L = p.L.data() + begin;
  const float* __restrict A = p.a.data() + begin;
  const float* __restrict B = p.b.data() + begin;
  distances(p, begin, count, centres[0], best_d);
  std::fill_n(best_c, count, 0);
  for (std::size_t c = 1; c < centres.size(); ++c) {
    const LabF q = centres[c];
    const int index = static_cast<int>(c);
    for (std::size_t i = 0; i < count; ++i) {
      const float dl = L[i] - q.L, da = A[i] - q.a, db = B[i] - q.b;
      const float d = dl * dl + da * da + db * db;
      const int closer = -static_cast<int>(d < best_d[i]);  // all ones where closer
      best_c[i] = (index & closer) | (best_c[i] & ~closer);
      best_d[i] = d < best_d[i] ? d : best_d[i];
    }
  }
}

struct Sums {
  std::vector<double> L, a, b, w;
  double inertia = 0;
  explicit Sums(std::size_t k) : L(k), a(k), b(k), w(k) {}
};

// One assignment + accumulation pass. Returns per-centre sums and the inertia.
Sums assign_and_sum(const Columns& points, const std::vector<LabF>& centres) {
  const std::size_t k = centres.size();
  const std::size_t chunks = (points.size() + kChunk - 1) / kChunk;
  std::vector<Sums> partial(chunks, Sums(k));
  const auto sum_chunk = [&](std::size_t chunk) {
    Sums& s = partial[chunk];
    std::array<float, kBlock> best_d;
    std::array<int, kBlock> best_c;
    const std::size_t end = std::min(points.size(), (chunk + 1) * kChunk);
    for (std::size_t block = chunk * kChunk; block < end; block += kBlock) {
      const std::size_t count = std::min(kBlock, end - block);
      nearest_block(points, block, count, centres, best_d.data(), best_c.data());
      for (std::size_t i = 0; i < count; ++i) {
        const auto c = static_cast<std::size_t>(best_c[i]);
        const double w = points.weight[block + i];
        s.L[c] += w * static_cast<double>(points.L[block + i]);
        s.a[c] += w * static_cast<double>(points.a[block + i]);
        s.b[c] += w * static_cast<double>(points.b[block + i]);
        s.w[c] += w;
        s.inertia += w * static_cast<double>(best_d[i]);
      }
    }
  };
  if (points.size() * k < kSerialPairs) {
    for (std::size_t chunk = 0; chunk < chunks; ++chunk) sum_chunk(chunk);
  } else {
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks, 1),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t chunk = r.begin(); chunk != r.end(); ++chunk) sum_chunk(chunk);
                      });
  }
  Sums total(k);
  for (const auto& s : partial) {
    for (std::size_t c = 0; c < k; ++c) {
      total.L[c] += s.L[c];
      total.a[c] += s.a[c];
      total.b[c] += s.b[c];
      total.w[c] += s.w[c];
    }
    total.inertia += s.inertia;
  }
  return total;
}

// The point farthest from its nearest centre: where an emptied cluster restarts.
std::size_t farthest_point(const Columns& points, const std::vector<LabF>& centres) {
  std::size_t best = 0;
  float best_d = -1;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const LabF p = points.lab(i);
    const float d = distance2(p, centres[static_cast<std::size_t>(nearest(p, centres))]);
    if (d > best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

std::vector<LabF> seed_plus_plus(const Columns& points, int k, std::uint64_t seed, int trials) {
  std::mt19937_64 rng(seed);
  // Uniform draws built from raw 64-bit output: identical on every standard library.
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  const std::size_t n = points.size();
  std::vector<double> cumulative(n);
  // Sets up draws with probability proportional to `weights`; draw() then gives an index.
  double total = 0;
  const auto prepare = [&](const std::vector<double>& weights) {
    total = 0;
    for (std::size_t i = 0; i < n; ++i) cumulative[i] = total += weights[i];
  };
  const auto draw = [&] {
    const double target = uniform() * total;
    const auto i = static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), target) -
                                            cumulative.begin());
    return std::min(i, n - 1);
  };
  std::vector<double> weights(points.weight);
  prepare(weights);
  std::vector<LabF> centres = {points.lab(draw())};
  // d2: each point's squared distance to its nearest centre so far.
  std::vector<double> d2(n), candidate(n), chosen(n);
  std::vector<float> to_centre(n);
  const auto distances_to = [&](const LabF& centre) {
    for (std::size_t begin = 0; begin < n; begin += kBlock)
      distances(points, begin, std::min(kBlock, n - begin), centre, to_centre.data() + begin);
  };
  distances_to(centres.back());
  for (std::size_t i = 0; i < n; ++i) d2[i] = static_cast<double>(to_centre[i]);
  while (static_cast<int>(centres.size()) < k) {
    for (std::size_t i = 0; i < n; ++i) weights[i] = points.weight[i] * d2[i];
    prepare(weights);
    double best_inertia = std::numeric_limits<double>::infinity();
    std::size_t best = 0;
    for (int trial = 0; trial < std::max(1, trials); ++trial) {
      const std::size_t index = draw();
      distances_to(points.lab(index));
      double inertia = 0;
      for (std::size_t i = 0; i < n; ++i) {
        candidate[i] = std::min(d2[i], static_cast<double>(to_centre[i]));
        inertia += points.weight[i] * candidate[i];
      }
      if (inertia < best_inertia) {
        best_inertia = inertia;
        best = index;
        chosen.swap(candidate);
      }
    }
    centres.push_back(points.lab(best));
    d2.swap(chosen);
  }
  return centres;
}

KMeansResult refine_columns(const Columns& points, std::vector<LabF> centres, int max_iterations,
                            double tolerance) {
  KMeansResult result;
  const double tolerance2 = tolerance * tolerance;
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    Sums s = assign_and_sum(points, centres);
    result.iterations = iteration + 1;
    double largest_shift2 = 0;
    for (std::size_t c = 0; c < centres.size(); ++c) {
      LabF moved = centres[c];
      if (s.w[c] > 0) {
        moved = {static_cast<float>(s.L[c] / s.w[c]), static_cast<float>(s.a[c] / s.w[c]),
                 static_cast<float>(s.b[c] / s.w[c])};
      } else {
        moved = points.lab(farthest_point(points, centres));  // revive an empty cluster
      }
      largest_shift2 = std::max(largest_shift2, static_cast<double>(distance2(moved, centres[c])));
      centres[c] = moved;
    }
    if (largest_shift2 <= tolerance2) break;
  }
  result.inertia = assign_and_sum(points, centres).inertia;
  result.centres = std::move(centres);
  return result;
}

}  // namespace

KMeansResult refine(const std::vector<WeightedPoint>& points, std::vector<LabF> centres, int max_iterations,
                    double tolerance) {
  return refine_columns(Columns(points), std::move(centres), max_iterations, tolerance);
}

std::vector<KMeansResult> kmeans_attempts(const std::vector<WeightedPoint>& points,
                                          const KMeansSettings& settings) {
  const int k = std::min<int>(settings.k, static_cast<int>(points.size()));
  if (k <= 0) return {KMeansResult{}};
  const Columns columns(points);
  std::vector<KMeansResult> results;
  for (int attempt = 0; attempt < std::max(1, settings.attempts); ++attempt) {
    auto seeds = seed_plus_plus(columns, k, settings.seed + static_cast<std::uint64_t>(attempt),
                                settings.seeding_trials);
    results.push_back(refine_columns(columns, std::move(seeds), settings.max_iterations, settings.tolerance));
  }
  std::stable_sort(results.begin(), results.end(),
                   [](const KMeansResult& x, const KMeansResult& y) { return x.inertia < y.inertia; });
  return results;
}

KMeansResult kmeans(const std::vector<WeightedPoint>& points, const KMeansSettings& settings) {
  return std::move(kmeans_attempts(points, settings).front());
}

}  // namespace imgpipe::palette
