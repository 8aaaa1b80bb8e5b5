#pragma once
/// \file
/// The palette engine: cluster an image's colours once, then apply any number of palettes as
/// table look-ups.
///
/// ```cpp
/// imgpipe::Clustering c = imgpipe::cluster(image, {.k = 10});
/// for (const auto& palette : imgpipe::load_palettes("palettes.json"))
///   imgpipe::save(c.apply(palette), palette.name + ".png", png);
/// ```
///
/// Clustering works in CIE Lab (D65) on a weighted colour histogram: every sampled pixel falls
/// in one of 2^18 bins (6 bits per channel) and each bin keeps the exact mean of its pixels,
/// so k-means on the bins minimises the same squared Lab error as k-means on the pixels, up
/// to the split of a bin that straddles two clusters. Then every full-resolution pixel gets
/// its nearest centre through a colour → cluster table (each distinct colour converted once).
/// k-means++ seeding from a fixed seed and fixed-order reductions make the result identical
/// for any thread count.

#include <array>
#include <cstdint>
#include <filesystem>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/params.hpp>
#include <memory>
#include <mutex>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <vector>

namespace imgpipe {

class PerformanceMonitor;

/// A CIE Lab colour (D65).
struct Lab {
  /// Lightness L* (0..100) and the a* and b* axes.
  ///@{
  double L = 0, a = 0, b = 0;
  ///@}
};

/// Exact CIE Lab (D65, sRGB transfer curve) of an 8-bit sRGB colour, and back (rounded, clipped).
///@{
Lab srgb_to_lab(const Colour& colour) noexcept;
Colour lab_to_srgb(const Lab& lab) noexcept;
///@}
/// The squared Euclidean distance of two Lab colours (CIE76 ΔE squared).
double lab_distance2(const Lab& x, const Lab& y) noexcept;

/// A named list of colours to recolour an image with.
struct Palette {
  std::string name;             ///< the name outputs and messages use
  std::vector<Colour> colours;  ///< the colours, in the order the file gives them
};

/// Reads palettes from a file: JSON or YAML ({name: [hex, ...], ...} or a bare list of hex
/// strings), a GIMP .gpl file, or a plain text file of hex colours one per line. Errors name the
/// file, the line and the bad value.
std::vector<Palette> load_palettes(const std::filesystem::path& path);
/// Reads a mask image as CV_8UC1: its alpha when it is grey + alpha, else its first channel
/// (16-bit reduced to 8). Black (0) marks pixels to leave out.
cv::Mat load_mask(const std::filesystem::path& path);

/// Reads palettes from JSON or YAML text, as load_palettes() reads a .json file: an object of
/// name → list of colours, or a bare list (one palette named `name`). Errors name `name`.
std::vector<Palette> parse_palettes(const std::string& text, const std::string& name);
/// Parses `"#112233,#445566,..."` (commas or spaces) into one palette.
Palette parse_palette_list(const std::string& text, const std::string& name = "palette");

/// What Clustering::apply() does with the pixels a mask leaves out.
enum class MaskMode {
  keep,         ///< masked-out pixels keep their original colour
  transparent,  ///< masked-out pixels become transparent
  fill,         ///< masked-out pixels become ApplyOptions::fill
};

/// How cluster() clusters; the zeros take their value from the quality preset.
struct ClusterOptions {
  int k = 10;              ///< number of clusters; 0 = choose from the data (see cluster())
  int max_iterations = 0;  ///< 0 = from the quality preset
  int attempts = 0;        ///< k-means++ restarts, best kept; 0 = from the quality preset
  double tolerance = 0;    ///< stop when no centre moves more than this (Lab units); 0 = preset
  /// Sampling grid step of the analysis (1 = every pixel, 2 = every 4th, ...); 0 = from the
  /// image size and preset (see Clustering::strategy()).
  int analysis_stride = 0;
  /// The long-side thresholds that grid and Clustering::strategy() follow: the planner's
  /// (Context::plan), so that a chain configured with other thresholds clusters by them too.
  PlanThresholds plan;
  std::uint64_t seed = 12345;                       ///< k-means++ seed: the same seed gives the same clusters
  QualityPreset quality = QualityPreset::balanced;  ///< the preset the zeros above come from
  /// Pixels to leave out: where the mask is 0 (CV_8UC1, image size). Empty = use alpha when
  /// the image has it (alpha < 128 is left out), else every pixel.
  cv::Mat mask;
  /// The image's complexity (0..1) when the caller measured it; negative = measured here when
  /// k is 0 (rule R1, docs/quality.md).
  double complexity = -1;
  int threads = 0;                        ///< 0 = the caller's TBB arena / all cores
  PerformanceMonitor* monitor = nullptr;  ///< optional: times histogram, k-means, assignment
};

/// How a palette recolours a clustering.
struct ApplyOptions {
  /// Which palette colour each cluster gets: `lightness` matches the palette's colours sorted
  /// by L* to the clusters' lightness ranks (darkest to darkest); `nearest` gives each cluster
  /// the palette colour nearest its centre in Lab; `explicit_map` takes `explicit_map`.
  enum class Mapping { lightness, nearest, explicit_map };
  Mapping mapping = Mapping::lightness;  ///< which palette colour each cluster gets
  /// For explicit_map: palette index for each cluster in lightness order (darkest first).
  std::vector<int> explicit_map;
  /// Keep the original's luminance detail inside each region (the output is then truecolour).
  bool preserve_shading = false;
  MaskMode mask_mode = MaskMode::keep;  ///< what becomes of the pixels the mask leaves out
  Colour fill{255, 255, 255, 255};      ///< their colour with MaskMode::fill
};

/// An image's colours clustered once (cluster() or assign()), ready to be recoloured by any
/// number of palettes.
class Clustering {
 public:
  /// Centres, ordered by lightness (darkest first); labels use the same order.
  const std::vector<Lab>& centres_lab() const { return centres_lab_; }
  /// The same centres as 8-bit sRGB colours.
  const std::vector<Colour>& centres_rgb() const { return centres_rgb_; }
  /// Fraction of the unmasked pixels in each cluster.
  const std::vector<double>& fractions() const { return fractions_; }
  /// CV_8UC1 image-sized label image; 255 where the mask left a pixel out.
  const cv::Mat& labels() const { return labels_; }
  /// The analysis strategy from the image's long side and ClusterOptions::plan: "direct"
  /// (below direct_below, 800 px by default), "scaled" (up to pyramid_above, 2000 px),
  /// "pyramid" (larger). Assignment is always per full-resolution pixel.
  const std::string& strategy() const { return strategy_; }
  /// The sampling grid's step: 1 = every pixel went into the histogram.
  int analysis_stride() const { return analysis_stride_; }
  /// Mean squared Lab distance of the clustered pixels to their centre (computed on the first
  /// call: it needs every pixel in Lab, which the clustering itself does not).
  double mean_lab_error() const;
  /// The number of clusters.
  int k() const { return static_cast<int>(centres_lab_.size()); }
  /// The k-means iterations run in all, over every attempt and refinement.
  int iterations() const { return iterations_; }
  /// The image's complexity where a rule needed it (k chosen from the data, the analysis
  /// resolution: docs/quality.md, "Complexity rules"); negative when not measured.
  double complexity() const { return complexity_; }
  /// The largest k the data could choose (rule R1); 0 when k was given.
  int k_max() const { return k_max_; }

  /// Cluster → palette colour, one entry per cluster (the colour table of the output).
  std::vector<Colour> colour_table(const Palette& palette, const ApplyOptions& options = {}) const;
  /// Each pixel recoloured from the palette (mask handled as options say).
  Image apply(const Palette& palette, const ApplyOptions& options = {}) const;
  /// The same result as apply() as indices + colour table, without making RGB pixels: what
  /// a palette PNG needs. nullptr when the result is not a table look-up (preserve_shading,
  /// source alpha, or left-out pixels kept as they were).
  std::shared_ptr<const IndexedPixels> apply_indexed(const Palette& palette,
                                                     const ApplyOptions& options = {}) const;
  /// Each pixel recoloured with its own cluster centre: plain colour quantisation.
  Image apply_centres(const ApplyOptions& options = {}) const;

 private:
  friend Clustering cluster(const Image&, const ClusterOptions&);
  friend Clustering assign(const Image&, const Clustering&, const ClusterOptions&);
  Image source_;
  std::vector<Lab> centres_lab_;
  std::vector<Colour> centres_rgb_;
  std::vector<double> fractions_;
  cv::Mat labels_;
  cv::Mat indices_;  // labels with left-out pixels as index k, for indexed output
  std::shared_ptr<IndexedEncodeCache> encode_cache_;
  std::string strategy_;
  int analysis_stride_ = 1;
  std::shared_ptr<std::once_flag> error_once_ = std::make_shared<std::once_flag>();
  std::shared_ptr<double> mean_lab_error_ = std::make_shared<double>(0.0);
  int iterations_ = 0;
  double complexity_ = -1;
  int k_max_ = 0;
};

/// Clusters the colours of an 8- or 16-bit RGB(A) or grey image (16-bit is clustered on its
/// high byte). An image with fewer distinct colours than k gets fewer clusters. k = 0 picks k from the data:
/// the smallest k in 2..16 after which one more cluster lowers the error by less than 10 %.
Clustering cluster(const Image& image, const ClusterOptions& options = {});

/// The centres of `clustering` given to the pixels of `image`, each pixel its nearest centre
/// from its own colour — typically the full-resolution original of a reduced copy that was
/// clustered (the chain's scaled and pyramid strategies). Of `options` only mask, quality
/// (exact Lab at ultra), threads and monitor apply. Labels, fractions and mean_lab_error()
/// are `image`'s; strategy() and analysis_stride() are those of the clustering.
Clustering assign(const Image& image, const Clustering& clustering, const ClusterOptions& options = {});

/// One colour extract_palette() found.
struct DominantColour {
  Colour colour;        ///< the cluster's centre as 8-bit sRGB
  Lab lab;              ///< the same centre in Lab
  double fraction = 0;  ///< the share of the clustered pixels in its cluster, 0..1
};
/// The k dominant colours, most frequent first.
std::vector<DominantColour> extract_palette(const Image& image, int k = 5,
                                            QualityPreset quality = QualityPreset::balanced);

}  // namespace imgpipe
