#pragma once
// The label images the clustering writes and the palette application reads.

#include <cstdint>
#include <imgpipe/palette.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <vector>

namespace imgpipe {

// The label of a pixel outside the mask: it keeps its own colour.
inline constexpr std::uint8_t kMasked = 255;

// Whether the preset assigns pixels with the exact double-precision Lab (else the
// table-driven converter).
bool assigns_exact_lab(QualityPreset quality);

// The labels as palette indices: kMasked becomes k where `any_masked` (some label is kMasked),
// else the labels themselves.
cv::Mat indices_of(const cv::Mat& labels, std::size_t k, bool any_masked);

// Whether Clustering::apply()'s output has alpha, for a source with `source_channels` after
// grey_to_rgb() and labels of which some are kMasked where `any_masked`.
bool applied_has_alpha(int source_channels, bool any_masked, const ApplyOptions& options);

// Clustering::apply_indexed() of labels given as `indices` (indices_of()), with the palette's
// colour table `table` (Clustering::colour_table()): null where the output is not exactly
// table[index] (shading, source alpha, kept original pixels).
bool indexable(const ApplyOptions& options, bool source_alpha, bool any_masked);
std::shared_ptr<const IndexedPixels> indexed_pixels(const cv::Mat& indices, const std::vector<Colour>& table,
                                                    bool any_masked, const ApplyOptions& options,
                                                    std::shared_ptr<IndexedEncodeCache> cache);

}  // namespace imgpipe
