#include "kmeans.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace imgpipe::palette {

namespace {

constexpr std::size_t kChunk = 4096;  // fixed: the reduction order must not depend on threads

struct Sums {
  std::vector<double> L, a, b, w;
  double inertia = 0;
  explicit Sums(std::size_t k) : L(k), a(k), b(k), w(k) {}
};

// One assignment + accumulation pass. Returns per-centre sums and the inertia.
Sums assign_and_sum(const std::vector<WeightedPoint>& points, const std::vector<LabF>& centres) {
  const std::size_t k = centres.size();
  const std::size_t chunks = (points.size() + kChunk - 1) / kChunk;
  std::vector<Sums> partial(chunks, Sums(k));
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, chunks, 1),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t chunk = r.begin(); chunk != r.end(); ++chunk) {
                        Sums& s = partial[chunk];
                        const std::size_t end = std::min(points.size(), (chunk + 1) * kChunk);
                        for (std::size_t i = chunk * kChunk; i < end; ++i) {
                          const auto& p = points[i];
                          const int c = nearest(p.lab, centres);
                          const auto cc = static_cast<std::size_t>(c);
                          s.L[cc] += p.weight * static_cast<double>(p.lab.L);
                          s.a[cc] += p.weight * static_cast<double>(p.lab.a);
                          s.b[cc] += p.weight * static_cast<double>(p.lab.b);
                          s.w[cc] += p.weight;
                          s.inertia += p.weight * static_cast<double>(distance2(p.lab, centres[cc]));
                        }
                      }
                    });
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
std::size_t farthest_point(const std::vector<WeightedPoint>& points, const std::vector<LabF>& centres) {
  std::size_t best = 0;
  float best_d = -1;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const float d =
        distance2(points[i].lab, centres[static_cast<std::size_t>(nearest(points[i].lab, centres))]);
    if (d > best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

std::vector<LabF> seed_plus_plus(const std::vector<WeightedPoint>& points, int k, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  // Uniform draws built from raw 64-bit output: identical on every standard library.
  auto uniform = [&rng] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };
  std::vector<double> cumulative(points.size());
  auto pick = [&](const std::vector<double>& weights) {
    double total = 0;
    for (std::size_t i = 0; i < weights.size(); ++i) cumulative[i] = total += weights[i];
    const double target = uniform() * total;
    return static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), target) -
                                    cumulative.begin());
  };
  std::vector<double> weights(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) weights[i] = points[i].weight;
  std::vector<LabF> centres;
  centres.push_back(points[std::min(pick(weights), points.size() - 1)].lab);
  std::vector<double> d2(points.size(), std::numeric_limits<double>::max());
  while (static_cast<int>(centres.size()) < k) {
    const LabF& last = centres.back();
    for (std::size_t i = 0; i < points.size(); ++i) {
      d2[i] = std::min(d2[i], static_cast<double>(distance2(points[i].lab, last)));
      weights[i] = points[i].weight * d2[i];
    }
    centres.push_back(points[std::min(pick(weights), points.size() - 1)].lab);
  }
  return centres;
}

}  // namespace

KMeansResult refine(const std::vector<WeightedPoint>& points, std::vector<LabF> centres, int max_iterations,
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
        moved = points[farthest_point(points, centres)].lab;  // revive an empty cluster
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

KMeansResult kmeans(const std::vector<WeightedPoint>& points, const KMeansSettings& settings) {
  const int k = std::min<int>(settings.k, static_cast<int>(points.size()));
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int attempt = 0; attempt < std::max(1, settings.attempts); ++attempt) {
    auto seeds = seed_plus_plus(points, k, settings.seed + static_cast<std::uint64_t>(attempt));
    KMeansResult r = refine(points, std::move(seeds), settings.max_iterations, settings.tolerance);
    if (r.inertia < best.inertia) best = std::move(r);
  }
  return best;
}

}  // namespace imgpipe::palette
