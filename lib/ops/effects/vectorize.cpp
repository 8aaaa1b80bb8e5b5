// vectorize: palette clustering → per-cluster contours (holes kept) → simplified, optionally
// smoothed outlines as SVG. In a chain the step gives the raster of the regions it traces,
// so later steps still get an image; the SVG itself is written by `imgpipe vectorize`.

#include <fmt/format.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/vectorize.hpp>
#include <numeric>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "../palette/effort.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

constexpr std::uint8_t kLeftOut = 255;  // label of pixels the clustering left out

using Ring = std::vector<cv::Point>;

// One <path>: an outer outline and its holes, through the centres of the edge pixels.
struct Region {
  int cluster = 0;
  double pixels = 0;        // about how many pixels it covers: what the larger-first order sorts by
  std::vector<Ring> rings;  // [0] outer, then holes
};

// Pick's theorem on the centre polygon: interior + boundary points ≈ the pixel count, also
// for one-pixel-wide regions whose polygon has no area.
double pixel_estimate(const Ring& ring) {
  return std::abs(cv::contourArea(ring)) + 0.5 * cv::arcLength(ring, true) + 1.0;
}

// The regions of a binary mask, all given to `cluster`.
std::vector<Region> trace_mask(const cv::Mat& mask, int cluster) {
  std::vector<Ring> contours;
  std::vector<cv::Vec4i> hierarchy;
  // Two levels: outer outlines, and the holes of each (a region inside a hole is again an
  // outer outline).
  cv::findContours(mask, contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_SIMPLE);
  std::vector<Region> out;
  for (std::size_t i = 0; i < contours.size(); ++i) {
    if (hierarchy[i][3] >= 0) continue;
    Region region;
    region.cluster = cluster;
    region.pixels = pixel_estimate(contours[i]);
    region.rings.push_back(std::move(contours[i]));
    for (int h = hierarchy[i][2]; h >= 0; h = hierarchy[static_cast<std::size_t>(h)][0]) {
      auto& hole = contours[static_cast<std::size_t>(h)];
      region.pixels -= std::abs(cv::contourArea(hole));
      region.rings.push_back(std::move(hole));
    }
    out.push_back(std::move(region));
  }
  return out;
}

std::vector<Region> trace(const cv::Mat& labels, int clusters) {
  std::vector<std::vector<Region>> per_cluster(static_cast<std::size_t>(clusters));
  tbb::parallel_for(0, clusters, [&](int c) {
    cv::Mat mask;
    cv::compare(labels, cv::Scalar(c), mask, cv::CMP_EQ);
    per_cluster[static_cast<std::size_t>(c)] = trace_mask(mask, c);
  });
  std::vector<Region> all;
  for (auto& regions : per_cluster)
    for (auto& r : regions) all.push_back(std::move(r));
  return all;
}

// The rings simplified with `tolerance`; with `drop_degenerate`, outlines that collapse to
// fewer than 3 points are left out (a collapsed outer outline drops its region: empty).
std::vector<Ring> simplify(const Region& region, double tolerance, bool drop_degenerate) {
  std::vector<Ring> out;
  for (std::size_t i = 0; i < region.rings.size(); ++i) {
    Ring ring;
    if (tolerance > 0)
      cv::approxPolyDP(region.rings[i], ring, tolerance, true);
    else
      ring = region.rings[i];
    if (ring.size() < 3) {
      // Small rings collapse into lines that would paint over their neighbours' edges: kept
      // as traced, unless the budget needs them gone.
      if (!drop_degenerate) {
        ring = region.rings[i];
      } else {
        if (i == 0) return {};
        continue;
      }
    }
    out.push_back(std::move(ring));
  }
  return out;
}

// Path commands a ring is written with (append_ring): a polygon's M and Ls, one per point; a
// smooth ring's M and one C per point.
std::size_t ring_nodes(const Ring& ring, bool smooth) {
  if (ring.size() < 3) return 4;  // written as a thin quadrilateral
  return ring.size() + (smooth ? 1 : 0);
}

std::size_t count_nodes(const std::vector<Ring>& rings, bool smooth) {
  std::size_t n = 0;
  for (const auto& ring : rings) n += ring_nodes(ring, smooth);
  return n;
}

std::size_t count_nodes(const std::vector<std::vector<Ring>>& simplified, bool smooth) {
  std::size_t n = 0;
  for (const auto& rings : simplified) n += count_nodes(rings, smooth);
  return n;
}

std::vector<std::vector<Ring>> simplify_all(const std::vector<Region>& regions, double tolerance,
                                            bool drop_degenerate) {
  std::vector<std::vector<Ring>> out(regions.size());
  tbb::parallel_for(std::size_t{0}, regions.size(),
                    [&](std::size_t i) { out[i] = simplify(regions[i], tolerance, drop_degenerate); });
  return out;
}

// Appends a coordinate rounded to 1/100 px, without trailing zeros.
void append_number(std::string& out, double v) {
  const long long hundredths = std::llround(v * 100.0);
  if (hundredths % 100 == 0) {
    fmt::format_to(std::back_inserter(out), "{}", hundredths / 100);
    return;
  }
  fmt::format_to(std::back_inserter(out), "{:.2f}", static_cast<double>(hundredths) / 100.0);
  while (out.back() == '0') out.pop_back();
}

void append_point(std::string& out, cv::Point2d p) {
  append_number(out, p.x);
  out += ' ';
  append_number(out, p.y);
}

// Whether the outline turns by more than 60 degrees at `p`: a corner that smoothing keeps.
bool is_corner(cv::Point2d before, cv::Point2d p, cv::Point2d after) {
  const cv::Point2d in = p - before, out = after - p;
  const double lengths = std::sqrt(in.ddot(in) * out.ddot(out));
  return lengths > 0 && in.ddot(out) < 0.5 * lengths;
}

// A closed ring as path commands: straight segments, or Catmull-Rom segments written as
// cubic Béziers (control points p1 + (p2 - p0) / 6 and p2 - (p3 - p1) / 6). At corners the
// tangent follows the segment itself, so a rectangle stays a rectangle instead of rounding
// into a blob.
void append_ring(std::string& out, const Ring& ring, bool smooth) {
  const std::size_t n = ring.size();
  if (n < 3) {
    // A dot or a one-pixel-wide line has no area and mitred strokes draw nothing for it:
    // written as a quadrilateral 0.02 px wide around it, which the stroke widens to the pixels.
    const cv::Point2d p(ring.front()), q(ring.back());
    cv::Point2d along = q - p;
    const double length = std::sqrt(along.ddot(along));
    along = length > 0 ? along * (0.01 / length) : cv::Point2d(0.01, 0);
    const cv::Point2d across(-along.y, along.x);
    const cv::Point2d corners[] = {p - along - across, q + along - across, q + along + across,
                                   p - along + across};
    for (std::size_t i = 0; i < 4; ++i) {
      out += i == 0 ? 'M' : 'L';
      append_point(out, corners[i]);
    }
    out += 'Z';
    return;
  }
  out += 'M';
  append_point(out, ring[0]);
  if (!smooth) {
    for (std::size_t i = 1; i < n; ++i) {
      out += 'L';
      append_point(out, ring[i]);
    }
  } else {
    const auto at = [&](std::size_t i) { return cv::Point2d(ring[i % n]); };
    for (std::size_t i = 0; i < n; ++i) {
      const cv::Point2d p0 = at(i + n - 1), p1 = at(i), p2 = at(i + 1), p3 = at(i + 2);
      const cv::Point2d c1 = is_corner(p0, p1, p2) ? p1 + (p2 - p1) / 3.0 : p1 + (p2 - p0) / 6.0;
      const cv::Point2d c2 = is_corner(p1, p2, p3) ? p2 - (p2 - p1) / 3.0 : p2 - (p3 - p1) / 6.0;
      out += 'C';
      append_point(out, c1);
      out += ' ';
      append_point(out, c2);
      out += ' ';
      append_point(out, p2);
    }
  }
  out += 'Z';
}

std::string hex(const Colour& c) {
  return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b);
}

}  // namespace

cv::Mat region_labels(const Clustering& clustering, int min_area) {
  cv::Mat labels = clustering.labels().clone();
  if (min_area <= 1 || labels.empty()) return labels;
  // Pixels of too-small 8-connected regions, cluster by cluster (disjoint pixels, so the
  // clusters can collect them in parallel). Only the bounding boxes of small regions are
  // visited, not the whole image once per cluster.
  const int width = labels.cols;
  std::vector<std::vector<int>> per_cluster(static_cast<std::size_t>(clustering.k()));
  tbb::parallel_for(0, clustering.k(), [&](int c) {
    cv::Mat mask, components, stats, centroids;
    cv::compare(labels, cv::Scalar(c), mask, cv::CMP_EQ);
    const int n = cv::connectedComponentsWithStats(mask, components, stats, centroids, 8, CV_32S);
    auto& out = per_cluster[static_cast<std::size_t>(c)];
    for (int i = 1; i < n; ++i) {
      if (stats.at<int>(i, cv::CC_STAT_AREA) >= min_area) continue;
      const cv::Rect box(stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                         stats.at<int>(i, cv::CC_STAT_WIDTH), stats.at<int>(i, cv::CC_STAT_HEIGHT));
      for (int y = box.y; y < box.y + box.height; ++y) {
        const int* component = components.ptr<int>(y);
        for (int x = box.x; x < box.x + box.width; ++x)
          if (component[x] == i) out.push_back(y * width + x);
      }
    }
  });
  std::vector<int> pending;
  for (const auto& pixels : per_cluster) pending.insert(pending.end(), pixels.begin(), pixels.end());
  if (pending.empty()) return labels;
  // Filled from the edges inwards: in each round every small-region pixel next to a settled
  // pixel takes the most common label among its settled 8-neighbours (the smallest on a tie),
  // all of a round at once so the scan order does not matter. Left-out pixels neither give
  // nor take; a speck surrounded only by them keeps its label.
  constexpr std::uint8_t kPending = 254;  // above any cluster label (k <= 254 means labels < 254)
  for (int i : pending) labels.at<std::uint8_t>(i / width, i % width) = kPending;
  const std::vector<std::uint8_t> original = [&] {
    std::vector<std::uint8_t> v;
    const cv::Mat& source = clustering.labels();
    for (int i : pending) v.push_back(source.at<std::uint8_t>(i / width, i % width));
    return v;
  }();
  std::vector<std::size_t> open(pending.size());
  std::iota(open.begin(), open.end(), std::size_t{0});
  while (!open.empty()) {
    std::vector<std::size_t> still_open;
    std::vector<std::pair<int, std::uint8_t>> settle;
    for (std::size_t j : open) {
      const int i = pending[j], y = i / width, x = i % width;
      std::array<std::uint8_t, 8> near{};
      int count = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          const int ny = y + dy, nx = x + dx;
          if ((dy == 0 && dx == 0) || ny < 0 || nx < 0 || ny >= labels.rows || nx >= width) continue;
          const std::uint8_t l = labels.at<std::uint8_t>(ny, nx);
          if (l < kPending) near[static_cast<std::size_t>(count++)] = l;
        }
      int best = -1, best_votes = 0;
      for (int a = 0; a < count; ++a) {
        const std::uint8_t l = near[static_cast<std::size_t>(a)];
        const auto votes = static_cast<int>(std::count(near.begin(), near.begin() + count, l));
        if (votes > best_votes || (votes == best_votes && l < best)) best = l, best_votes = votes;
      }
      if (best < 0)
        still_open.push_back(j);
      else
        settle.emplace_back(i, static_cast<std::uint8_t>(best));
    }
    if (settle.empty()) {
      for (std::size_t j : still_open)
        labels.at<std::uint8_t>(pending[j] / width, pending[j] % width) = original[j];
      break;
    }
    for (const auto& [i, l] : settle) labels.at<std::uint8_t>(i / width, i % width) = l;
    open = std::move(still_open);
  }
  return labels;
}

// The SVG of a clustering whose region labels (region_labels) are known already.
std::string trace_svg(const Clustering& clustering, const cv::Mat& labels, const VectorizeOptions& options) {
  if (options.tolerance < 0 || !std::isfinite(options.tolerance))
    throw Error(ErrorCategory::config,
                fmt::format("vectorize.tolerance: expected a number >= 0, got {}", options.tolerance));
  if (options.max_nodes < 0)
    throw Error(
        ErrorCategory::config,
        fmt::format("vectorize.max_nodes: expected 0 (no budget) or more, got {}", options.max_nodes));
  const int width = labels.cols, height = labels.rows;
  std::vector<Region> regions = trace(labels, clustering.k());

  // Clusters by pixel count, most frequent first: the background's colour and the group order.
  std::vector<double> cluster_pixels(static_cast<std::size_t>(clustering.k()), 0.0);
  for (const auto& r : regions) cluster_pixels[static_cast<std::size_t>(r.cluster)] += r.pixels;
  std::vector<int> order(static_cast<std::size_t>(clustering.k()));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return cluster_pixels[static_cast<std::size_t>(a)] > cluster_pixels[static_cast<std::size_t>(b)];
  });
  // The background: the most frequent colour under everything, so that where simplified
  // outlines part no gap shows. A rectangle when every pixel is drawn, else (some are left
  // out) the outline of the drawn pixels, as the first paths of that colour.
  const bool any_left_out = cv::countNonZero(labels == kLeftOut) > 0;
  if (any_left_out && !order.empty()) {
    const double first = static_cast<double>(labels.total()) + 1;
    for (auto& r : trace_mask(labels != kLeftOut, order.front())) {
      r.pixels += first;  // before every region
      regions.push_back(std::move(r));
    }
  }
  std::stable_sort(regions.begin(), regions.end(),
                   [](const Region& a, const Region& b) { return a.pixels > b.pixels; });

  // Simplify, raising the tolerance until the node budget holds; outlines that collapse are
  // dropped only then, so that without a budget even one-pixel regions are drawn.
  const bool budget = options.max_nodes > 0;
  const auto max_nodes = static_cast<std::size_t>(options.max_nodes);
  double tolerance = options.tolerance;
  auto simplified = simplify_all(regions, tolerance, false);
  if (budget && count_nodes(simplified, options.smooth) > max_nodes) {
    const double cap = std::max(width, height);
    do {
      tolerance = std::max(0.5, tolerance * 1.25);
      simplified = simplify_all(regions, tolerance, true);
    } while (count_nodes(simplified, options.smooth) > max_nodes && tolerance < cap);
    // Still too many: keep the largest regions that fit.
    std::size_t used = 0;
    for (auto& rings : simplified) {
      const std::size_t n = count_nodes(rings, options.smooth);
      if (used + n > max_nodes)
        rings.clear();
      else
        used += n;
    }
  }

  std::string svg;
  svg.reserve(count_nodes(simplified, options.smooth) * (options.smooth ? 30 : 10) + 1024);
  fmt::format_to(std::back_inserter(svg),
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{0}\" height=\"{1}\" "
                 "viewBox=\"0 0 {0} {1}\">\n",
                 width, height);
  if (!order.empty() && !any_left_out)
    fmt::format_to(std::back_inserter(svg), "<rect width=\"{}\" height=\"{}\" fill=\"{}\"/>\n", width, height,
                   hex(clustering.centres_rgb()[static_cast<std::size_t>(order.front())]));
  // Outlines run through pixel centres (hence the half-pixel translation); the stroke of
  // the fill colour reaches the remaining half pixel out to the pixel edges. Mitred joins
  // keep square corners square; the limit of 1.5 bevels joins sharper than about 84 degrees
  // rather than let them spike out.
  for (int c : order) {
    const std::string colour = hex(clustering.centres_rgb()[static_cast<std::size_t>(c)]);
    bool open = false;
    for (std::size_t i = 0; i < regions.size(); ++i) {
      if (regions[i].cluster != c || simplified[i].empty()) continue;
      if (!open) {
        fmt::format_to(std::back_inserter(svg),
                       "<g fill=\"{0}\" stroke=\"{0}\" stroke-width=\"1\" stroke-linejoin=\"miter\" "
                       "stroke-miterlimit=\"1.5\" "
                       "fill-rule=\"evenodd\" transform=\"translate(0.5 0.5)\">\n",
                       colour);
        open = true;
      }
      svg += "<path d=\"";
      for (const auto& ring : simplified[i]) append_ring(svg, ring, options.smooth);
      svg += "\"/>\n";
    }
    if (open) svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

std::string vectorize(const Clustering& clustering, const VectorizeOptions& options) {
  return trace_svg(clustering, region_labels(clustering, options.min_area), options);
}

std::string vectorize(const Image& image, const VectorizeOptions& options) {
  if (options.colors < 0 || options.colors > 254)
    throw Error(ErrorCategory::config,
                fmt::format("vectorize.colors: expected 0 (auto) or 1..254, got {}", options.colors));
  ClusterOptions c;
  c.k = options.colors;
  c.seed = options.seed;
  c.quality = options.quality;
  return vectorize(cluster(image, c), options);
}

std::string vectorize(cv::InputArray pixels, const VectorizeOptions& options) {
  return vectorize(Image(pixels.getMat()), options);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

// The regions as pixels, in the input's channels and depth: each pixel its region's cluster
// centre (grey input gets the centre's Rec. 601 luma), alpha and left-out pixels as they were.
cv::Mat region_raster(const Image& input, const Clustering& clustering, const cv::Mat& labels) {
  const cv::Mat& src = input.pixels;
  const int cn = src.channels(), colour = input.colour_channels();
  const bool wide = src.depth() == CV_16U;
  std::vector<std::array<int, 3>> table;
  for (const auto& c : clustering.centres_rgb()) {
    std::array<int, 3> v{c.r, c.g, c.b};
    if (colour == 1) v[0] = static_cast<int>(std::lround(0.299 * c.r + 0.587 * c.g + 0.114 * c.b));
    if (wide)
      for (int& x : v) x *= 257;
    table.push_back(v);
  }
  cv::Mat out = src.clone();
  tbb::parallel_for(0, src.rows, [&](int y) {
    const std::uint8_t* l = labels.ptr<std::uint8_t>(y);
    const auto paint = [&](auto* d) {
      for (int x = 0; x < src.cols; ++x, d += cn) {
        if (l[x] == 255) continue;
        const auto& v = table[l[x]];
        for (int i = 0; i < colour; ++i)
          d[i] = static_cast<std::remove_pointer_t<decltype(d)>>(v[static_cast<std::size_t>(i)]);
      }
    };
    if (wide)
      paint(out.ptr<std::uint16_t>(y));
    else
      paint(out.ptr<std::uint8_t>(y));
  });
  return out;
}

// The traced regions of one clustering, written as SVG only when an output asks for it.
class TracedRegions final : public VectorGraphics {
 public:
  TracedRegions(std::shared_ptr<const Clustering> clustering, cv::Mat labels,
                const kernels::VectorizeOptions& options)
      : clustering_(std::move(clustering)), labels_(std::move(labels)), options_(options) {}
  std::string svg() const override { return kernels::trace_svg(*clustering_, labels_, options_); }

 private:
  std::shared_ptr<const Clustering> clustering_;
  cv::Mat labels_;
  kernels::VectorizeOptions options_;
};

class Vectorize final : public Operation {
 public:
  explicit Vectorize(const Params& p) {
    options_.colors = static_cast<int>(p.integer("colors"));
    options_.min_area = static_cast<int>(p.integer("min_area"));
    options_.seed = static_cast<std::uint64_t>(p.integer("seed"));
    options_.tolerance = p.number("tolerance");
    options_.smooth = p.boolean("smooth");
    options_.max_nodes = static_cast<int>(p.integer("max_nodes"));
  }

  // The pixels are the regions' colours; the SVG output format writes their outlines.
  Image apply(const Image& input, const Context& context) const override {
    ClusterOptions c;
    c.k = options_.colors;
    c.seed = options_.seed;
    c.quality = context.quality;
    c.monitor = context.monitor;
    auto clustering = std::make_shared<const Clustering>(cluster(input, c));
    cv::Mat labels = kernels::region_labels(*clustering, options_.min_area);
    Image out = input.with_pixels(region_raster(input, *clustering, labels));
    out.vector = std::make_shared<TracedRegions>(std::move(clustering), std::move(labels), options_);
    return out;
  }

  bool makes_vector_graphics() const override { return true; }

 private:
  kernels::VectorizeOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(vectorize) {
  registry.add(OpDescriptor{
      .name = "vectorize",
      .family = "effects",
      .summary = "Flat colour regions as `imgpipe vectorize` traces them into SVG: each pixel its cluster's "
                 "colour, specks merged into their neighbours.",
      .footprint = Footprint::global,
      .params =
          {
              spec::integer_or_auto(
                  "colors", 16, 0, 254,
                  "Number of colours (palette clusters); auto (or 0) picks from the image: 2 up "
                  "to 4 + 12 x its complexity, at most 16 (docs/quality.md)."),
              spec::integer(
                  "min_area", 4, 0, 100000000,
                  "Regions smaller than this many pixels take the colour of the nearest larger region."),
              spec::integer("seed", 12345, 0, 2147483647,
                            "Seed of the k-means++ initialisation; the same seed gives the same output."),
              spec::number("tolerance", 1.0, 0.0, 1.0e6,
                           "SVG output: outline simplification distance in pixels (0 keeps every corner)."),
              spec::boolean("smooth", false,
                            "SVG output: curves (cubic Béziers) instead of straight segments."),
              spec::integer("max_nodes", 0, 0, 2147483647,
                            "SVG output: most outline points in the file (0 = no limit)."),
          },
      .examples = {{{"colors", 8}}, {{"colors", 16}, {"min_area", 20}}},
      // The clustering's settings in words, from its own table (palette/effort.hpp).
      .presets = clustering_presets(),
      .create = [](const Params& p) { return std::make_unique<Vectorize>(p); },
  });
}

}  // namespace imgpipe::ops
