#pragma once
/// \file
/// Context: how work runs. Passed explicitly to everything that does work; no hidden globals.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgpipe {

class AnalysisCache;
class PerformanceMonitor;
struct DeviceRun;

/// Quality presets trade speed for fidelity. Operations read them for their defaults
/// (resize kernel, WebP method, clustering effort); an explicit parameter always wins.
enum class QualityPreset { ultra, high, balanced, fast, draft };

/// Where operations run (device.hpp, docs/acceleration.md). `automatic` runs a step on a GPU only
/// where the documented thresholds say the copies pay; `opencl` and `cuda` run every step that
/// has a path there on that device, and fail with Error(device) when it is absent rather than
/// fall back silently; `cpu` never uses a device.
enum class Device { automatic, cpu, opencl, cuda };

/// The preset's name as chain files write it: "ultra", "high", "balanced", "fast", "draft".
std::string_view to_string(QualityPreset preset) noexcept;
/// The device's name as chain files write it: "auto", "cpu", "opencl", "cuda".
std::string_view to_string(Device device) noexcept;
/// The preset a name from to_string() stands for; nullopt for any other text.
std::optional<QualityPreset> parse_quality_preset(std::string_view text) noexcept;
/// The device a name from to_string() stands for ("auto" for Device::automatic); nullopt for
/// any other text.
std::optional<Device> parse_device(std::string_view text) noexcept;

/// Safety limits checked from file headers before any pixel is allocated.
struct Limits {
  /// The most pixels an input may have (0 = no limit). The same default as sharp's
  /// limitInputPixels: 16383 x 16383.
  std::uint64_t max_input_pixels = 268'402'689;
  /// The input file's size in bytes (0 = no limit). 1 GiB holds the largest 8-bit RGBA TIFF
  /// within max_input_pixels; a file over it is refused before it is read.
  std::uint64_t max_file_bytes = std::uint64_t{1} << 30;
  /// Metadata (JPEG APPn and COM segments, PNG text, eXIf and iCCP chunks) beyond these bytes
  /// and segments is left out before decoding, with a warning (0 = no limit). A camera JPEG has
  /// under 20 segments and 1 MB; one with a depth map in extended XMP a few MB in ~100.
  ///@{
  std::uint64_t max_metadata_bytes = std::uint64_t{16} << 20;
  std::uint64_t max_metadata_segments = 256;
  ///@}
  /// The input formats read, by content whatever the file's name (docs/security.md): by default
  /// the five that photo pipelines receive. Others — svg, ppm, rad, vips, fits, analyze, mat,
  /// matrix, csv, jp2k, openexr, heif, jxl, pdf, magick, openslide — are read only when listed
  /// here; "all" allows every loader libvips has. Loaders libvips marks untrusted stay blocked
  /// in the process until a format that needs one is allowed.
  std::vector<std::string> formats = {"jpeg", "png", "webp", "tiff", "gif"};
};

/// When whole-image analysis steps (palette, remove_background, complexity) analyse a reduced
/// copy, by the image's long side in pixels: below direct_below the image itself (direct), above
/// pyramid_above a reduced copy plus a full-resolution pass over uncertain pixels (pyramid),
/// in between a reduced copy (scaled). Where the two overlap, direct wins.
struct PlanThresholds {
  int direct_below = 800;    ///< long side below which the image itself is analysed
  int pyramid_above = 2000;  ///< long side above which the pyramid strategy runs
};

/// What one analysis step of a run planned, chose and measured, as numbers (docs/quality.md,
/// "Complexity rules"): -v prints it, --profile attaches it to the step, the batch report has it
/// as "analyses".
struct AnalysisReport {
  int step = 0;           ///< 1-based, as in "step 2: palette"
  std::string operation;  ///< "palette"
  std::string strategy;   ///< direct, scaled or pyramid, as run
  /// The size of the image the analysis saw (the full image's for direct).
  ///@{
  int analysed_width = 0, analysed_height = 0;
  ///@}
  /// By name, in the order chosen: "complexity" (when a rule needed it), and what the step
  /// reports (Analysis::values(): "k", "k_max", "stride", "analysis_side", ...).
  std::vector<std::pair<std::string, double>> values;
  /// What the analysis found, in words (Analysis::summary(): "model isnet 1024x1024, refined at
  /// 4000x3000"); may be "".
  std::string summary;
  /// The value named `name`, if any.
  std::optional<double> value(std::string_view name) const;
  /// "step 2: palette: scaled 512x341, k 8; complexity 0.42, k 8, k_max 9, stride 2": the
  /// strategy, the summary, then the values.
  std::string describe() const;
};

/// How work runs: threads, device, memory budget, quality preset, limits, deadline and
/// cancellation. Passed explicitly to everything that does work.
struct Context {
  int threads = 0;                    ///< worker threads; 0 = all cores
  Device device = Device::automatic;  ///< where operations run
  std::uint64_t max_memory = 0;       ///< memory budget in bytes; 0 = no budget
  int tile_size = 512;                ///< tile edge in pixels for tiled execution; 0 or less = never tiled
  int parallel_images = 0;            ///< images in flight in a batch; 0 = automatic
  QualityPreset quality = QualityPreset::balanced;  ///< the preset operations take defaults from
  Limits limits;                                    ///< safety limits on inputs
  PerformanceMonitor* monitor = nullptr;            ///< timing of the work; optional, not owned
  /// Checked before each step: past the deadline the run ends with Error(timeout), after a
  /// stop request on `cancel` with Error(cancelled). A step already running finishes first.
  std::chrono::steady_clock::time_point deadline{};  ///< default: none
  /// Stop requests, checked before each step as `deadline` is.
  std::stop_token cancel;
  PlanThresholds plan;  ///< when analysis steps analyse a reduced copy
  /// Optional, not owned: a chain run appends one line for each analysis step it runs, such as
  /// "step 1: palette: scaled 512x341, k 10" or "step 2: complexity: direct, complexity 0.42", for
  /// reports. Not synchronised: give each concurrent run its own list.
  std::vector<std::string>* strategies = nullptr;
  /// Optional, not owned: a chain run appends one report for each analysis step it runs, with
  /// the numbers behind its line in `strategies`. Not synchronised, like `strategies`.
  std::vector<AnalysisReport>* analyses = nullptr;
  /// Set by a job whose output is written from Image::indexed (a palette PNG without metadata):
  /// the chain's last step may then give images that hold only `indexed` and no pixels, which
  /// saves making pixels that no one reads (seven palette variants of a 2048² photo: 84 MB).
  bool indexed_output = false;
  /// Optional, not owned, thread-safe: analyses (a palette step's clustering) are looked up here
  /// by the analysed pixels and parameters before they are computed, and kept (analysis_cache.hpp).
  AnalysisCache* analysis_cache = nullptr;
  /// Optional, not owned: a chain run appends one entry for each run of steps on a device (which
  /// steps, where, how long the copies and the steps took). Not synchronised, like `strategies`.
  std::vector<DeviceRun>* device_runs = nullptr;
};

}  // namespace imgpipe
