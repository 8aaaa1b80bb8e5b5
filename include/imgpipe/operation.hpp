#pragma once
/// \file
/// Operations and their registry.
///
/// An operation is described by an OpDescriptor (name, family, summary, footprint, parameter
/// specs, factory) and implemented by an Operation built from validated Params. The registry
/// holds every descriptor; YAML, `imgpipe ops`, docs/operations.md and validation messages all
/// come from it, so there is no per-operation code anywhere else.

#include <functional>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/params.hpp>
#include <map>
#include <memory>
#include <opencv2/core/types.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgpipe {

/// How an operation touches pixels; the executor plans with it.
enum class Footprint {
  point,          ///< each output pixel depends only on the same input pixel (fusable)
  neighbourhood,  ///< each output pixel depends on a window of input pixels (halo)
  geometry,       ///< moves pixels: resize, rotate, crop, ...
  global,         ///< needs the whole image (analysis) or composes images
};
/// The footprint's name: "point", "neighbourhood", "geometry", "global".
std::string_view to_string(Footprint footprint) noexcept;

class PointProgram;  // internal: fusable per-pixel stages
struct DeviceImage;  // device.hpp

/// How a whole-image analysis step runs (chosen by the planner, lib/plan/): `direct` analyses
/// the image itself; `scaled` analyses a copy shrunk (area averaging) to the analysis size and
/// applies the result at full resolution; `pyramid` does the same and then re-examines the
/// pixels where the result is uncertain (a boundary) at full resolution.
enum class Strategy { direct, scaled, pyramid };
/// The strategy's name: "direct", "scaled", "pyramid".
std::string_view to_string(Strategy strategy) noexcept;
/// The strategy a name from to_string() stands for; nullopt for any other text.
std::optional<Strategy> parse_strategy(std::string_view text) noexcept;

/// What the planner chose for one analysis step on one image.
struct AnalysisPlan {
  Strategy strategy = Strategy::direct;  ///< how the step analyses the image
  cv::Size full_size;                    ///< the image apply() gets
  cv::Size analysis_size;                ///< the image analyse() gets; full_size for direct
  /// The image's complexity when the planner measured it for its rules (docs/quality.md),
  /// for the step's own rules to reuse; negative when not measured.
  double complexity = -1;
};

/// What an analysis operation measured on the analysis image, applied to the full image.
/// Mirrors Operation: apply() for one output, fan_out() for named variants.
class Analysis {
 public:
  virtual ~Analysis() = default;
  /// The measurement applied to the full-resolution image.
  virtual Image apply(const Image& full, const Context& context) const = 0;
  /// The named variants of the full image, as Operation::fan_out(); empty when the analysis
  /// makes one output (apply()).
  virtual std::vector<std::pair<std::string, Image>> fan_out(const Image& /*full*/,
                                                             const Context& /*context*/) const {
    return {};
  }
  /// What the analysis found, for the plan log and reports ("complexity 0.42"); may be "".
  virtual std::string summary() const { return {}; }
  /// What the analysis chose and measured, as numbers by name ({"k", 8}, {"k_max", 10}), for
  /// AnalysisReport::values; may be empty.
  virtual std::vector<std::pair<std::string, double>> values() const { return {}; }
  /// Whether apply() gives each pixel from that pixel's own value alone, on any image of the
  /// analysed one's layout: then it may run on regions of an image that is never whole in
  /// memory (streaming), each region wrapped as an Image. fan_out() results are not covered.
  virtual bool pointwise() const { return false; }
};

/// A geometry step's region form for one input size: the output size, the input rectangle an
/// output rectangle reads, and how to compute it from those pixels. libvips's lesson: the
/// operation owns its region form, so no executor needs to know what a crop or a resize is.
class RegionMap {
 public:
  virtual ~RegionMap() = default;
  /// The size of the step's output image.
  virtual cv::Size output_size() const = 0;
  /// The input pixels that `output` (in output coordinates) is computed from, inside the input.
  virtual cv::Rect input_rect(const cv::Rect& output) const = 0;
  /// Fills `out` (the pixels of `output`) from `in` (the pixels of input_rect(output)).
  virtual void compute(const cv::Mat& in, const cv::Rect& output, cv::Mat& out) const = 0;
  /// Whether output rows in order read input rows in order: a streamed input is decoded top to
  /// bottom once, so a map that reads it bottom up (a vertical flip) cannot stream.
  virtual bool top_to_bottom() const { return true; }
  /// Whether the output is the input itself: schedules leave such a step out.
  virtual bool identity() const { return false; }
};

/// Operation::region_map()'s answer: a region form, or why there is none.
struct RegionMapping {
  std::shared_ptr<const RegionMap> map;  ///< the region form; null when there is none
  std::string why;                       ///< when there is no map: what stops it, for messages
};

/// An operation built from validated Params: what a step of a chain runs. Only apply() is
/// required; the other members describe the operation to the executor, the planner and the
/// job runner, and have defaults that fit a whole-image step.
class Operation {
 public:
  virtual ~Operation() = default;

  /// The operation applied to `input`, which it leaves as it is.
  virtual Image apply(const Image& input, const Context& context) const = 0;

  /// apply() for a caller that gives `input` up (Chain::run hands each step the image the step
  /// before made). An operation that changes only some pixels may change them in the input's
  /// own buffer when no other image shares it (watermark: only the mark's rectangle is
  /// touched); the default is apply().
  virtual Image apply_owned(Image input, const Context& context) const { return apply(input, context); }

  /// Operations that make several named variants of one image (palette: one per palette).
  /// An empty result means the operation does not fan out and apply() is used.
  virtual std::vector<std::pair<std::string, Image>> fan_out(const Image& /*input*/,
                                                             const Context& /*context*/) const {
    return {};
  }

  /// What the step read from files when it was made (palette colours, a mask, a watermark
  /// image, a model) as a digest: part of Chain::canonical(), so that a cached result or a
  /// resumed batch never outlives a change to a file the chain names. "" when it read none.
  virtual std::string resources_digest() const { return {}; }

  /// How many images fan_out() makes (1 for operations that do not fan out). Used to estimate
  /// memory before any pixel is decoded.
  virtual std::size_t variant_count() const { return 1; }

  /// Memory the operation needs beyond its input and output images, in multiples of the
  /// input's bytes; negative = the usual for its footprint. Used to estimate memory before
  /// any pixel is decoded, so an operation with unusual needs says so here.
  virtual double scratch_factor() const { return -1.0; }

  /// Neighbourhood operations: how many pixels around each output pixel they read, so that
  /// apply() on a region grown by halo() pixels on each side (less where the image ends) gives
  /// inside the region exactly the pixels it gives on the whole image. kUnboundedHalo (the
  /// default) where an output pixel can depend on pixels arbitrarily far away (Canny's
  /// hysteresis, image statistics): such a step always runs on the whole image. Point
  /// operations are local by definition and never asked.
  static constexpr int kUnboundedHalo = -1;
  /// The halo in pixels, or kUnboundedHalo (see kUnboundedHalo).
  virtual int halo() const { return kUnboundedHalo; }

  /// Geometry operations: the step's region form for an input of the given size, so that
  /// schedules that never hold the whole image (streaming) can run it region by region. A
  /// mapping without `map` says in `why` what stops it (a kernel without a region form).
  virtual RegionMapping region_map(cv::Size /*input*/, QualityPreset /*quality*/) const {
    return {nullptr, "it has no region form"};
  }

  /// Point operations: append this operation's per-pixel stages for an image with the given
  /// channel count and depth, so that consecutive point operations run in one pass.
  /// Returns false when this operation cannot be expressed as stages for that image.
  virtual bool append_point_stages(PointProgram& /*program*/, int /*channels*/, int /*depth*/) const {
    return false;
  }

  /// Analysis operations (whole-image steps whose descriptor declares a `strategy`
  /// parameter): measure `analysis_image` — the image itself for Strategy::direct, a copy
  /// shrunk to plan.analysis_size otherwise — and return what applies the measurement to the
  /// full image. apply() and fan_out() of such an operation equal analysing the image directly.
  /// nullptr: not an analysis operation.
  virtual std::unique_ptr<Analysis> analyse(const Image& /*analysis_image*/, const AnalysisPlan& /*plan*/,
                                            const Context& /*context*/) const {
    return nullptr;
  }

  /// Analysis operations that make their own reduced view of the image: analyse() then gets the
  /// full image for scaled and pyramid too, and reduces it as plan.analysis_size says, instead
  /// of getting a copy shrunk with area averaging. palette samples its colour histogram on a
  /// grid of that size: each sample keeps a colour the image has, where area averaging blends
  /// neighbours into colours it does not have (textures and edges), which moved the centres
  /// and cost up to 20 % more clustering error than analysing every pixel; and sampling reads
  /// a fraction of the pixels that making the copy reads. A streaming run still analyses a
  /// thumbnail (the image is never whole in memory).
  virtual bool reduces_itself() const { return false; }
  /// Analysis operations: whether the executor may set this step's strategy and analysis size
  /// by the image's complexity when the chain leaves them to the planner (rules R2 and R4 of
  /// docs/quality.md): true where a busier image needs a finer analysis (remove_background);
  /// false where the analysis resolution is itself the result's definition (complexity).
  virtual bool follows_complexity_rules() const { return false; }

  /// Analysis operations: whether every Analysis that analyse() returns is pointwise(). Known
  /// before any pixel is analysed, so that a streaming executor can decide to analyse a
  /// thumbnail and apply the result region by region.
  virtual bool streams_analysis() const { return false; }

  /// Device paths (device.hpp, docs/acceleration.md): whether apply_on() can run this step on
  /// `device` (opencl or cuda) for an image of the given channels and depth at the preset
  /// (which chooses some kernels). The default: no device path, the step runs on the CPU.
  virtual bool runs_on(Device /*device*/, int /*channels*/, int /*depth*/, QualityPreset /*quality*/) const {
    return false;
  }
  /// The step on an image held on a device, replaced by the step's output on the same device;
  /// called only where runs_on() said yes. Gives what apply() gives, within the tolerance
  /// docs/acceleration.md states for the operation.
  virtual void apply_on(DeviceImage& image, const Context& context) const;

  /// Whether apply() attaches vector graphics (Image::vector) that the svg output format writes.
  virtual bool makes_vector_graphics() const { return false; }

  /// The size of the image apply() makes from an input of the given size, for steps that change
  /// it without a region_map() that says so (padding resizes, borders, canvas-expanding
  /// rotations). With nullopt the size is region_map()'s output size, else the input's. The job
  /// runner takes every step's output size from here before any pixel is decoded: for the
  /// memory estimate and the pixel limit on every image a chain makes.
  virtual std::optional<cv::Size> output_size(cv::Size /*input*/) const { return std::nullopt; }

  /// Geometry operations that resample the whole image: the size the content is resampled to
  /// for an input size (before any crop or padding). Lets a chain that starts with a
  /// downscale decode at reduced size.
  virtual std::optional<cv::Size> resampled_size(cv::Size /*input*/) const { return std::nullopt; }
};

/// Everything about one operation: what chains call it, what it does, its parameters and how
/// to build it. The registry holds one per operation.
struct OpDescriptor {
  std::string name;                        ///< the name chains use: "resize", "adjust_colors"
  std::string family;                      ///< geometry, colour, filter, compose, ...
  std::string summary;                     ///< one sentence, for `imgpipe ops` and the docs
  Footprint footprint = Footprint::point;  ///< how it touches pixels
  std::vector<ParamSpec> params;           ///< its parameters, in the order the docs list them
  /// Typical parameter sets as a chain gives them, each validated like YAML parameters: shown
  /// by `imgpipe ops` and in docs/operations.md, run by the tests and the benchmarks. Empty:
  /// one example with the defaults.
  std::vector<std::map<std::string, Value, std::less<>>> examples = {};
  /// What each quality preset (Context::quality) sets for an operation, in a few words.
  struct PresetEffects {
    /// One text per preset; all empty when the preset changes nothing the operation computes.
    ///@{
    std::string ultra, high, balanced, fast, draft;
    ///@}
    /// Whether every text is empty.
    bool empty() const { return (ultra + high + balanced + fast + draft).empty(); }
    /// The text of `preset`.
    const std::string& at(QualityPreset preset) const {
      switch (preset) {
        case QualityPreset::ultra: return ultra;
        case QualityPreset::high: return high;
        case QualityPreset::fast: return fast;
        case QualityPreset::draft: return draft;
        case QualityPreset::balanced: break;
      }
      return balanced;
    }
  };
  /// The table of `imgpipe ops --presets` and docs/operations.md.
  PresetEffects presets = {};
  /// Builds the operation from validated parameters.
  std::function<std::unique_ptr<Operation>(const Params&)> create;
  /// Checks that involve several parameters at once; returns an error message or "".
  std::function<std::string(const Params&)> check = nullptr;

  /// The parameter named `param` (British spellings such as "colour" find "color"); nullptr
  /// when there is none.
  const ParamSpec* find_param(std::string_view param) const;
  /// `examples`, or one empty parameter set (all defaults) when there are none.
  std::vector<std::map<std::string, Value, std::less<>>> examples_or_defaults() const;
};

/// One operation of a chain with its validated parameters.
struct Step {
  const OpDescriptor* descriptor = nullptr;    ///< the operation's descriptor; not owned
  Params params;                               ///< every parameter, defaults filled in
  std::shared_ptr<const Operation> operation;  ///< the operation built from `params`
  std::string label;                           ///< "step 2: resize" — for messages and the profile
  /// Where the step runs: Device::automatic follows the chain's Context::device; cpu, opencl or
  /// cuda override it for this step (`device:` in the step's parameters).
  Device device = Device::automatic;
};

/// Every operation's descriptor, by name. YAML chains, Chain::then(), `imgpipe ops` and the
/// generated docs/operations.md all look operations up here.
class Registry {
 public:
  /// The registry with every built-in operation.
  static Registry& global();

  void add(OpDescriptor descriptor);  ///< throws Error(config) on a duplicate name
  /// The operation named `name` (British spellings such as "colour" find "color"); nullptr
  /// when there is none.
  const OpDescriptor* find(std::string_view name) const;
  /// Throws Error(config) naming the closest operation when there is no such name.
  const OpDescriptor& at(std::string_view name) const;
  std::vector<std::string> names() const;  ///< sorted
  /// Every descriptor, by name.
  const std::map<std::string, OpDescriptor, std::less<>>& all() const { return ops_; }

 private:
  std::map<std::string, OpDescriptor, std::less<>> ops_;
};

/// Validates given parameter values against a descriptor: unknown names (with a suggestion),
/// wrong types and out-of-range values are Error(config) messages such as
/// "resize.width: expected integer 1..65535, got 0". Defaults fill what is not given.
Params validate_params(const OpDescriptor& descriptor,
                       const std::map<std::string, Value, std::less<>>& given);

/// Reference text generated from descriptors (the registry's when `ops` is empty):
/// a terminal table, a JSON array, the Markdown of docs/operations.md, and the Markdown table
/// of what each quality preset sets (OpDescriptor::presets; part of docs/operations.md).
///@{
std::string describe_ops_text(const std::vector<const OpDescriptor*>& ops = {});
std::string describe_ops_json(const std::vector<const OpDescriptor*>& ops = {});
std::string describe_ops_markdown(const std::vector<const OpDescriptor*>& ops = {});
std::string describe_presets_markdown(const std::vector<const OpDescriptor*>& ops = {});
///@}

}  // namespace imgpipe
