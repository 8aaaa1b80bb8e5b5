// Applying a palette to a clustering: a colour per cluster, then one look-up per pixel.

#include <fmt/format.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <imgpipe/error.hpp>
#include <imgpipe/palette.hpp>
#include <numeric>
#include <opencv2/core.hpp>

#include "../../core/channels.hpp"
#include "labels.hpp"

namespace imgpipe {

namespace {

// Rec. 709 luma of 8-bit values, in 8-bit units.
inline int luma(int r, int g, int b) {
  return (54 * r + 183 * g + 19 * b + 128) >> 8;
}

}  // namespace

std::vector<Colour> Clustering::colour_table(const Palette& palette, const ApplyOptions& options) const {
  if (palette.colours.empty())
    throw Error(ErrorCategory::config, fmt::format("palette '{}': has no colours", palette.name));
  const std::size_t k = centres_lab_.size(), p = palette.colours.size();
  std::vector<Colour> table(k);
  switch (options.mapping) {
    case ApplyOptions::Mapping::lightness: {
      // Palette colours by L*, darkest first, matched to the clusters' lightness ranks (the
      // clusters are already in that order). With fewer colours than clusters, neighbouring
      // ranks share a colour (rank r → r*P/K); with more, the ranks spread over the whole
      // range so the darkest and lightest colours are both used.
      std::vector<std::size_t> order(p);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return srgb_to_lab(palette.colours[x]).L < srgb_to_lab(palette.colours[y]).L;
      });
      for (std::size_t r = 0; r < k; ++r) {
        std::size_t rank = p <= k ? r * p / k : (k == 1 ? 0 : (r * (p - 1) + (k - 1) / 2) / (k - 1));
        table[r] = palette.colours[order[rank]];
      }
      break;
    }
    case ApplyOptions::Mapping::nearest:
      for (std::size_t c = 0; c < k; ++c) {
        std::size_t best = 0;
        for (std::size_t i = 1; i < p; ++i)
          if (lab_distance2(centres_lab_[c], srgb_to_lab(palette.colours[i])) <
              lab_distance2(centres_lab_[c], srgb_to_lab(palette.colours[best])))
            best = i;
        table[c] = palette.colours[best];
      }
      break;
    case ApplyOptions::Mapping::explicit_map:
      if (options.explicit_map.size() != k)
        throw Error(ErrorCategory::config,
                    fmt::format("palette '{}': the explicit map has {} entries for {} clusters", palette.name,
                                options.explicit_map.size(), k));
      for (std::size_t c = 0; c < k; ++c) {
        const int index = options.explicit_map[c];
        if (index < 0 || static_cast<std::size_t>(index) >= p)
          throw Error(ErrorCategory::config, fmt::format("palette '{}': map entry {} is {}, expected 0..{}",
                                                         palette.name, c, index, p - 1));
        table[c] = palette.colours[static_cast<std::size_t>(index)];
      }
      break;
  }
  return table;
}

Image Clustering::apply(const Palette& palette, const ApplyOptions& options) const {
  const std::vector<Colour> table = colour_table(palette, options);
  const cv::Mat& labels = labels_;
  cv::Mat source = source_.pixels;
  if (source.depth() == CV_16U) source.convertTo(source, CV_8U, 1.0 / 257.0);
  source = detail::grey_to_rgb(source);
  const bool any_masked = indices_.data != labels_.data;  // see cluster(): a copy only when masked
  const bool alpha = applied_has_alpha(source.channels(), any_masked, options);
  const int cn = alpha ? 4 : 3;
  cv::Mat out(labels.size(), CV_8UC(cn));
  std::vector<int> centre_luma;
  for (const auto& c : centres_rgb_) centre_luma.push_back(luma(c.r, c.g, c.b));
  tbb::parallel_for(tbb::blocked_range<int>(0, labels.rows, 16), [&](const tbb::blocked_range<int>& r) {
    for (int y = r.begin(); y < r.end(); ++y) {
      const std::uint8_t* l = labels.ptr<std::uint8_t>(y);
      const std::uint8_t* s = source.ptr<std::uint8_t>(y);
      std::uint8_t* d = out.ptr<std::uint8_t>(y);
      const int scn = source.channels();
      for (int x = 0; x < labels.cols; ++x, s += scn, d += cn) {
        const std::uint8_t a = scn == 4 ? s[3] : 255;
        if (l[x] == kMasked) {
          if (options.mask_mode == MaskMode::keep) {
            d[0] = s[0], d[1] = s[1], d[2] = s[2];
            if (alpha) d[3] = a;
          } else if (options.mask_mode == MaskMode::transparent) {
            d[0] = d[1] = d[2] = 0;
            d[3] = 0;
          } else {
            d[0] = options.fill.r, d[1] = options.fill.g, d[2] = options.fill.b;
            if (alpha) d[3] = options.fill.a;
          }
          continue;
        }
        const Colour& c = table[l[x]];
        if (options.preserve_shading) {
          const int shift = luma(s[0], s[1], s[2]) - centre_luma[l[x]];
          d[0] = cv::saturate_cast<std::uint8_t>(c.r + shift);
          d[1] = cv::saturate_cast<std::uint8_t>(c.g + shift);
          d[2] = cv::saturate_cast<std::uint8_t>(c.b + shift);
        } else {
          d[0] = c.r, d[1] = c.g, d[2] = c.b;
        }
        if (alpha) d[3] = a;
      }
    }
  });
  Image result = source_.with_pixels(out);
  result.indexed = apply_indexed(palette, options);
  return result;
}

bool applied_has_alpha(int source_channels, bool any_masked, const ApplyOptions& options) {
  // Alpha in the output when the source had it or masked pixels become transparent/filled
  // with a translucent colour.
  return source_channels == 4 ||
         (any_masked && (options.mask_mode == MaskMode::transparent ||
                         (options.mask_mode == MaskMode::fill && options.fill.a < 255)));
}

bool indexable(const ApplyOptions& options, bool source_alpha, bool any_masked) {
  // The output is exactly "table[index]" unless shading, source alpha or kept original
  // pixels vary inside a cluster.
  return !(options.preserve_shading || source_alpha || (any_masked && options.mask_mode == MaskMode::keep));
}

std::shared_ptr<const IndexedPixels> indexed_pixels(const cv::Mat& indices, const std::vector<Colour>& table,
                                                    bool any_masked, const ApplyOptions& options,
                                                    std::shared_ptr<IndexedEncodeCache> cache) {
  auto indexed = std::make_shared<IndexedPixels>();
  indexed->indices = indices;
  for (const auto& c : table) indexed->table.push_back({c.r, c.g, c.b, 255});
  if (any_masked) {
    const Colour f = options.mask_mode == MaskMode::transparent ? Colour{0, 0, 0, 0} : options.fill;
    indexed->table.push_back({f.r, f.g, f.b, f.a});
  }
  indexed->cache = std::move(cache);
  return indexed;
}

std::shared_ptr<const IndexedPixels> Clustering::apply_indexed(const Palette& palette,
                                                               const ApplyOptions& options) const {
  const bool any_masked = indices_.data != labels_.data;
  if (!indexable(options, source_.has_alpha(), any_masked)) return nullptr;
  return indexed_pixels(indices_, colour_table(palette, options), any_masked, options, encode_cache_);
}

Image Clustering::apply_centres(const ApplyOptions& options) const {
  ApplyOptions direct = options;
  direct.mapping = ApplyOptions::Mapping::explicit_map;
  direct.explicit_map.resize(centres_rgb_.size());
  std::iota(direct.explicit_map.begin(), direct.explicit_map.end(), 0);
  return apply(Palette{"centres", centres_rgb_}, direct);
}

std::vector<DominantColour> extract_palette(const Image& image, int k, QualityPreset quality) {
  ClusterOptions options;
  options.k = k;
  options.quality = quality;
  const Clustering c = cluster(image, options);
  std::vector<DominantColour> out;
  for (int i = 0; i < c.k(); ++i) {
    const auto index = static_cast<std::size_t>(i);
    out.push_back({c.centres_rgb()[index], c.centres_lab()[index], c.fractions()[index]});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& x, const auto& y) { return x.fraction > y.fraction; });
  return out;
}

}  // namespace imgpipe
