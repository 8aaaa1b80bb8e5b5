#pragma once
// Weighted k-means in Lab over histogram bins: k-means++ seeding from a fixed seed, Lloyd
// iterations with an early stop on centre shift. Reductions run over fixed chunks summed in
// chunk order, so the result does not depend on the number of threads.

#include <cstdint>
#include <vector>

#include "lab.hpp"

namespace imgpipe::palette {

struct WeightedPoint {
  LabF lab;
  double weight;
};

struct KMeansResult {
  std::vector<LabF> centres;
  double inertia = 0;  // sum of weight * squared distance to the nearest centre
  int iterations = 0;
};

struct KMeansSettings {
  int k = 10;
  int max_iterations = 30;
  int attempts = 3;
  double tolerance = 0.1;  // Lab units
  std::uint64_t seed = 12345;
  // Candidates drawn for each k-means++ centre after the first; the one that lowers the
  // inertia most is kept ("greedy k-means++", as scikit-learn seeds with 2 + ln k). 1 = plain
  // k-means++. Fewer seeds start in a poor local optimum, for the cost of one distance pass
  // per candidate, which is small beside the Lloyd iterations.
  int seeding_trials = 1;
};

// Each of `attempts` runs, seeded by k-means++ (attempt i uses seed + i) and refined by Lloyd
// iterations; ordered by inertia, lowest first (ties in attempt order).
std::vector<KMeansResult> kmeans_attempts(const std::vector<WeightedPoint>& points,
                                          const KMeansSettings& settings);
// The best of kmeans_attempts().
KMeansResult kmeans(const std::vector<WeightedPoint>& points, const KMeansSettings& settings);
// Lloyd iterations from given centres.
KMeansResult refine(const std::vector<WeightedPoint>& points, std::vector<LabF> centres, int max_iterations,
                    double tolerance);
// Index of the nearest centre.
inline int nearest(const LabF& p, const std::vector<LabF>& centres) noexcept {
  int best = 0;
  float best_d = distance2(p, centres[0]);
  for (std::size_t c = 1; c < centres.size(); ++c) {
    const float d = distance2(p, centres[c]);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(c);
    }
  }
  return best;
}

}  // namespace imgpipe::palette
