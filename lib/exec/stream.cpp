// The streaming schedule: the chain as lazy libvips images, computed region by region while
// the decoder reads the input top to bottom and the encoder's sink pulls tiles through.
//
// Runs of local steps (region.hpp) become one libvips image each, computed by
// compute_region() on the wanted tile grown by the run's halo; geometry steps become libvips
// images computed through their own region form (Operation::region_map). An analysis step
// whose result applies pixel by pixel (Analysis::pointwise) is analysed on a shrink-on-load
// thumbnail first and then applied to each region inside its run. No stage holds more than
// the tile it is asked for plus its halo; a pipeline of several stages reads the decoder
// through one cache of the rows in flight (cached_input). Decoding and encoding are io's
// (vips_io.hpp).

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/stream.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "../io/vips_io.hpp"
#include "../plan/planner.hpp"
#include "region.hpp"

namespace imgpipe {

namespace fs = std::filesystem;
using detail::VipsRef;
using exec::LocalRun;
using exec::PixelLayout;

namespace {

[[noreturn]] void fail(ErrorCategory category, const fs::path& file, const std::string& what) {
  throw Error(category, fmt::format("{}: {}", file.string(), what));
}

// ---------------------------------------------------------------------------------------
// Planning: what each step becomes, tracked through the image's size and pixel layout.

// A run of local steps, or a geometry step through its region form (`map` set).
struct Stage {
  LocalRun run;
  std::shared_ptr<const RegionMap> map;
  PixelLayout layout;  // the geometry step's, which keeps the layout
};

struct Plan {
  std::vector<Stage> stages;
  std::string why;  // empty when every step has a region form
};

// Why an analysis step cannot stream, or "" when it can. It streams when its result applies
// pixel by pixel and only point steps come before it: the thumbnail of the input, put
// through those steps in memory, is then (up to the shrink's resampling) the reduced copy
// the in-memory chain would analyse. `mixed` names the first earlier step that is not a
// point step.
std::string analysis_obstacle(const Step& step, const std::string& mixed) {
  if (const std::size_t variants = step.operation->variant_count(); variants > 1)
    return fmt::format("it makes {} variants, and a streamed run writes one image", variants);
  if (!step.operation->streams_analysis())
    return "applying its analysis needs more than each pixel's own value, so it has no region form";
  if (!mixed.empty())
    return fmt::format(
        "an analysis step streams only after point steps (it analyses a thumbnail of the input), "
        "and {} is not one",
        mixed);
  return {};
}

// Why a step that starts no local run cannot stream, or "" with the step's region form
// added to the plan.
std::string plan_step(const Step& step, cv::Size& size, const PixelLayout& layout, const Context& context,
                      const std::string& mixed, Plan& plan) {
  switch (step.descriptor->footprint) {
    case Footprint::point:
    case Footprint::neighbourhood:
      return "an output pixel can depend on pixels beyond a fixed window around it";
    case Footprint::geometry: {
      const RegionMapping mapping = step.operation->region_map(size, context.quality);
      if (!mapping.map) return mapping.why;
      if (!mapping.map->top_to_bottom())
        return "it reads the image bottom up, and a streamed input is decoded top to bottom once";
      if (!mapping.map->identity()) plan.stages.push_back(Stage{{}, mapping.map, layout});
      size = mapping.map->output_size();
      return {};
    }
    case Footprint::global: break;
  }
  if (plan::is_analysis_step(step)) return analysis_obstacle(step, mixed);
  return "it needs the whole image";
}

Plan plan_chain(const Chain& chain, cv::Size size, PixelLayout layout, const Context& context) {
  Plan plan;
  const std::span<const Step> steps(chain.steps());
  std::string mixed;  // the first step so far that is not a point step (and moves pixels)
  for (std::size_t i = 0; i < steps.size();) {
    const Step& step = steps[i];
    std::string why;
    try {
      LocalRun run = exec::plan_local_run(steps.subspan(i), layout, context, mixed.empty());
      if (run.steps > 0) {
        for (const Step& in_run : steps.subspan(i, run.steps))
          if (mixed.empty() && in_run.descriptor->footprint != Footprint::point &&
              !plan::is_analysis_step(in_run))
            mixed = in_run.label;
        i += run.steps;
        layout = run.out;
        plan.stages.push_back(Stage{std::move(run), nullptr, {}});
        continue;
      }
      const std::size_t stages = plan.stages.size();
      why = plan_step(step, size, layout, context, mixed, plan);
      if (why.empty() && mixed.empty() && plan.stages.size() > stages) mixed = step.label;
    } catch (const Error& e) {
      why = e.what();
    }
    if (!why.empty()) {
      plan.why = fmt::format("{}: {}", step.label, why);
      return plan;
    }
    ++i;
  }
  return plan;
}

// The layout load() decodes a file to, from its header; empty `why` when it has one.
PixelLayout layout_of(const ImageInfo& info, std::string& why) {
  PixelLayout layout;
  layout.channels = info.interpretation == "cmyk" ? info.bands - 1 : info.bands;
  if (layout.channels < 1 || layout.channels > 4)
    why = fmt::format("{}: {} bands are not supported", info.source, info.bands);
  if (info.bit_depth == 16)
    layout.depth = CV_16U;
  else if (info.bit_depth != 8 && info.interpretation != "scrgb")
    why = fmt::format("{}: {}-bit samples are not supported", info.source, info.bit_depth);
  return layout;
}

bool answer(const std::string& reason, std::string* why) {
  if (why) *why = reason;
  return reason.empty();
}

}  // namespace

bool can_stream(const Chain& chain, std::string* why) {
  // A size larger than any resize or crop target: the question is whether the steps stream.
  constexpr int kLarge = 1 << 20;
  return answer(plan_chain(chain, {kLarge, kLarge}, {}, Context{}).why, why);
}

bool can_stream(const Chain& chain, const ImageInfo& input, QualityPreset quality, std::string* why) {
  std::string reason;
  const PixelLayout layout = layout_of(input, reason);
  if (!reason.empty()) return answer(reason, why);
  if (input.orientation > 2)
    return answer(fmt::format("{}: EXIF orientation {} turns the image, which needs its last rows first",
                              input.source, input.orientation),
                  why);
  Context context;
  context.quality = quality;
  return answer(plan_chain(chain, {input.width, input.height}, layout, context).why, why);
}

namespace {

// ---------------------------------------------------------------------------------------
// Execution: stages as libvips images computed region by region.

// What the region callbacks share with the caller: the context to check between tiles and
// the first error a kernel threw, so that the caller can rethrow its category.
struct StreamControl {
  const Context* context = nullptr;
  std::string source;
  std::mutex mutex;
  std::optional<Error> failure;

  void check() const { exec::check_continue(*context, source, "while streaming"); }
  void record(const Error& error) {
    std::lock_guard lock(mutex);
    if (!failure) failure = error;
  }
};

// Runs a kernel inside a region callback: C++ exceptions must not cross libvips's C frames,
// so they become a libvips error (and the first is kept for its category).
template <class Body>
int guarded(StreamControl& control, Body&& body) {
  try {
    control.check();
    body();
    return 0;
  } catch (const Error& e) {
    control.record(e);
    vips_error("imgpipe", "%s", e.what());
  } catch (const std::exception& e) {
    control.record(Error(ErrorCategory::internal, e.what()));
    vips_error("imgpipe", "%s", e.what());
  }
  return -1;
}

// A region's pixels as a cv::Mat header over libvips's memory (no copy).
cv::Mat wrap(VipsRegion* region, const VipsRect& rect, const PixelLayout& layout) {
  return cv::Mat(rect.height, rect.width, layout.type(), VIPS_REGION_ADDR(region, rect.left, rect.top),
                 static_cast<std::size_t>(VIPS_REGION_LSKIP(region)));
}

cv::Rect to_rect(const VipsRect& r) {
  return {r.left, r.top, r.width, r.height};
}
VipsRect to_vips(const cv::Rect& r) {
  return {r.x, r.y, r.width, r.height};
}

// One per worker thread and stage: the input region, and an arena of one thread so that
// OpenCV's TBB loops inside a kernel stay on this libvips worker instead of
// oversubscribing the cores libvips already keeps busy.
struct Sequence {
  VipsRegion* input = nullptr;
  tbb::task_arena arena{1};
};

void* start_sequence(VipsImage*, void* a, void*) {
  auto* sequence = new Sequence;
  sequence->input = vips_region_new(static_cast<VipsImage*>(a));
  if (!sequence->input) {
    delete sequence;
    return nullptr;
  }
  return sequence;
}

int stop_sequence(void* seq, void*, void*) {
  auto* sequence = static_cast<Sequence*>(seq);
  g_object_unref(sequence->input);
  delete sequence;
  return 0;
}

// What a stage's callback needs; lives in the Pipeline until the pipeline is gone.
struct StageKernel {
  Stage stage;
  Context context;
  StreamControl* control = nullptr;
  cv::Size input_size;
  Image metadata;  // the source name for the kernels' messages
};

int generate_stage(VipsRegion* out, void* seq, void*, void* b, gboolean*) {
  auto* sequence = static_cast<Sequence*>(seq);
  const auto& kernel = *static_cast<const StageKernel*>(b);
  const cv::Rect want = to_rect(out->valid);
  const RegionMap* map = kernel.stage.map.get();
  const LocalRun& run = kernel.stage.run;
  const cv::Rect need = map ? map->input_rect(want) & cv::Rect(cv::Point(0, 0), kernel.input_size)
                            : exec::grow(want, run.halo, kernel.input_size);
  VipsRect need_vips = to_vips(need);
  if (vips_region_prepare(sequence->input, &need_vips)) return -1;
  return guarded(*kernel.control, [&] {
    const cv::Mat source = wrap(sequence->input, need_vips, map ? kernel.stage.layout : run.in);
    cv::Mat target = wrap(out, out->valid, map ? kernel.stage.layout : run.out);
    const uchar* before = target.data;
    sequence->arena.execute([&] {
      if (map)
        map->compute(source, want, target);
      else
        exec::compute_region(run, source, need, want, kernel.input_size, kernel.metadata, kernel.context,
                             target);
    });
    if (target.data != before)
      throw Error(ErrorCategory::internal, "a streamed stage wrote outside its tile");
  });
}

// ---- building the pipeline

VipsInterpretation interpretation_of(const PixelLayout& layout) {
  const bool sixteen = layout.depth == CV_16U;
  if (layout.channels >= 3) return sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB;
  return sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W;
}

// Everything the pipeline's callbacks point at lives here until the pipeline is gone.
struct Pipeline {
  StreamControl control;
  std::vector<std::unique_ptr<StageKernel>> kernels;
  std::vector<std::unique_ptr<Analysis>> analyses;
};

// libvips's SMALLTILE side: the tiles a sink asks each stage for.
constexpr int kTileSide = 128;

// A new lazy image computed from `in` by `generate` with `kernel`, of the given size and
// layout. SMALLTILE (128x128 tiles) rather than strips keeps the halo's share of the work
// small: an 8000x8000 blur, sigma 2, took 3.4 s with it, 7.6 s with FATSTRIP and 8.6 s with
// THINSTRIP (full-width strips of 16 and 4 lines, each read with 12 extra lines).
VipsRef generated(VipsImage* in, cv::Size size, const PixelLayout& layout, VipsGenerateFn generate,
                  void* kernel) {
  VipsRef out(vips_image_new());
  if (vips_image_pipelinev(out.get(), VIPS_DEMAND_STYLE_SMALLTILE, in, nullptr)) return {};
  VipsImage* image = out.get();
  image->Xsize = size.width;
  image->Ysize = size.height;
  image->Bands = layout.channels;
  image->BandFmt = layout.depth == CV_16U ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR;
  image->Type = interpretation_of(layout);
  // The input stays alive as long as the image that reads it.
  g_object_ref(in);
  vips_object_local(image, in);
  if (vips_image_generate(image, start_sequence, generate, stop_sequence, in, kernel)) return {};
  return out;
}

VipsRef build_stage(const Stage& stage, VipsImage* in, Pipeline& pipeline, const Context& context) {
  const cv::Size size(in->Xsize, in->Ysize);
  Image metadata;
  metadata.source = pipeline.control.source;
  pipeline.kernels.push_back(std::make_unique<StageKernel>(
      StageKernel{stage, context, &pipeline.control, size, std::move(metadata)}));
  StageKernel* kernel = pipeline.kernels.back().get();
  const RegionMap* map = kernel->stage.map.get();
  const cv::Size out_size = map ? map->output_size() : size;
  const PixelLayout layout = map ? kernel->stage.layout : kernel->stage.run.out;
  return generated(in, out_size, layout, generate_stage, kernel);
}

// The stages on `in`, the first at the bottom.
VipsRef build_stages(const Plan& plan, VipsImage* in, Pipeline& pipeline, const Context& context,
                     const fs::path& input) {
  VipsRef image(in);
  g_object_ref(in);
  for (const Stage& stage : plan.stages) {
    image = build_stage(stage, image.get(), pipeline, context);
    if (!image) fail(ErrorCategory::internal, input, detail::take_vips_error("cannot build the pipeline"));
  }
  return image;
}

// How many input rows `rows` consecutive output rows of a stage read, at most.
int input_rows(const Stage& stage, cv::Size input_size, int rows) {
  if (!stage.map) return std::min(rows + 2 * stage.run.halo, input_size.height);
  const cv::Size out = stage.map->output_size();
  const int band = std::min(rows, out.height);
  // A band in the middle: at the top and bottom the edges cut the resampling support short.
  return stage.map->input_rect({0, (out.height - band) / 2, out.width, band}).height;
}

// The decoded input as the stages above it read it. A chain that is one run of local steps
// reads the decoder directly: libvips's sink keeps its workers within a few strips of
// output, and the decoder's own line cache holds that many rows and the halo. A pipeline of
// several stages reads more input rows per output row (a downscale by 3 reads three times as
// many), so workers that fall behind would ask the decoder for rows its cache has already let
// go — "out of order read" — and a worker that runs ahead stalls until the decoder reaches
// its rows. Such a pipeline reads the decoder through a cache of every input row the sink's
// output rows in flight reach back to: the sink keeps at most two buffers of n_lines output
// rows in flight (threadpool.c), three are kept as libvips's own line cache does, mapped
// down through every stage. It costs those rows times the input's width in memory, the
// price of a shrinking pipeline that never reads out of order.
VipsRef cached_input(const Plan& plan, VipsImage* decoded, VipsImage* output) {
  int tile_width = 0, tile_height = 0, n_lines = 0;
  vips_get_tile_size(output, &tile_width, &tile_height, &n_lines);
  std::vector<cv::Size> sizes{{decoded->Xsize, decoded->Ysize}};
  for (const Stage& stage : plan.stages) sizes.push_back(stage.map ? stage.map->output_size() : sizes.back());
  int rows = 3 * std::max(n_lines, kTileSide);
  for (std::size_t i = plan.stages.size(); i-- > 0;) rows = input_rows(plan.stages[i], sizes[i], rows);
  const int strips = (std::min(rows, decoded->Ysize) + kTileSide - 1) / kTileSide + 1;
  VipsRef cached;
  if (vips_tilecache(decoded, cached.out(), "tile_width", decoded->Xsize, "tile_height", kTileSide,
                     "max_tiles", strips, "access", VIPS_ACCESS_SEQUENTIAL, "threaded", TRUE, nullptr))
    return {};
  return cached;
}

// ---- analysis on a thumbnail

// The analysis of step `index` for a streamed run of an image of `size`: the planner's
// analysis size, the input's thumbnail at that size put through the steps before (point
// steps, which plan_chain has checked) in memory, and the result checked to apply pixel by
// pixel. The thumbnail is resampled by libvips rather than with INTER_AREA, so the measure
// can differ slightly from the in-memory run's.
std::unique_ptr<Analysis> analyse_thumbnail(const Chain& chain, std::size_t index, const fs::path& input,
                                            cv::Size size, const PixelLayout& layout,
                                            const Context& context) {
  const Step& step = chain.steps()[index];
  AnalysisPlan plan = plan::plan_step(step, size, context.quality, context.plan);
  // Streaming exists because the image does not fit in memory, so a plan to analyse the
  // image itself (direct, as at the ultra preset) takes the scaled analysis size instead;
  // only an image no larger than that size is analysed at its own size.
  if (plan.analysis_size == size) {
    plan.analysis_size = plan::analysis_size(step, size, Strategy::scaled, context.quality);
    if (plan.analysis_size != size) plan.strategy = Strategy::scaled;
  }
  const std::string how = plan::describe(plan) + " thumbnail";
  MaybeScope scope(context.monitor, fmt::format("{} ({})", step.label, how));
  Image current(detail::thumbnail(input, plan.analysis_size, layout.type()));
  current.source = input.string();
  for (std::size_t i = 0; i < index; ++i) {
    const Step& before = chain.steps()[i];
    // Only point steps and geometry without effect (identity region forms) come before.
    if (before.descriptor->footprint == Footprint::point) current = before.operation->apply(current, context);
  }
  std::unique_ptr<Analysis> analysis = step.operation->analyse(current, plan, context);
  if (!analysis || !analysis->pointwise())
    fail(ErrorCategory::internal, input,
         fmt::format("{}: the operation streams its analysis but gave none that applies pixel by pixel",
                     step.label));
  if (context.strategies) {
    std::string line = fmt::format("{}: {}", step.label, how);
    if (const std::string summary = analysis->summary(); !summary.empty()) line += ", " + summary;
    context.strategies->push_back(std::move(line));
  }
  if (context.analyses)
    context.analyses->push_back({.step = static_cast<int>(index + 1),
                                 .operation = step.descriptor->name,
                                 .strategy = std::string(to_string(plan.strategy)),
                                 .analysed_width = plan.analysis_size.width,
                                 .analysed_height = plan.analysis_size.height,
                                 .values = analysis->values(),
                                 .summary = analysis->summary()});
  return analysis;
}

// Analyses every analysis step of the plan's runs and hands the result to its piece.
void analyse_steps(Plan& plan, const Chain& chain, const fs::path& input, cv::Size size,
                   const PixelLayout& layout, Pipeline& pipeline, const Context& context) {
  for (Stage& stage : plan.stages) {
    if (stage.map) continue;
    for (exec::Piece& piece : stage.run.pieces) {
      if (!piece.step || !plan::is_analysis_step(*piece.step)) continue;
      const auto index = static_cast<std::size_t>(piece.step - chain.steps().data());
      pipeline.analyses.push_back(analyse_thumbnail(chain, index, input, size, layout, context));
      piece.analysis = pipeline.analyses.back().get();
    }
  }
}

// libvips's worker count is process-wide: set for one streamed run, then put back.
class VipsConcurrency {
 public:
  explicit VipsConcurrency(int threads) : saved_(vips_concurrency_get()), changed_(threads > 0) {
    if (changed_) vips_concurrency_set(threads);
  }
  VipsConcurrency(const VipsConcurrency&) = delete;
  VipsConcurrency& operator=(const VipsConcurrency&) = delete;
  ~VipsConcurrency() {
    if (changed_) vips_concurrency_set(saved_);
  }

 private:
  int saved_;
  bool changed_;
};

}  // namespace

void stream_file(const ChainFile& file, const fs::path& input, const fs::path& output,
                 const Context& context) {
  stream_file(file, ImageFile(input, context.limits), output, context);
}

void stream_file(const ChainFile& file, const ImageFile& opened, const fs::path& output,
                 const Context& given) {
  require_device(given.device);
  // A streamed run computes regions on the CPU whatever the device (docs/acceleration.md).
  Context context = given;
  context.device = Device::cpu;
  MaybeScope total(context.monitor, "stream");
  const fs::path& input = opened.path();
  VipsRef image = detail::open_sequential(opened, file.load_options());
  const PixelLayout layout{vips_image_get_bands(image.get()),
                           vips_image_get_format(image.get()) == VIPS_FORMAT_USHORT ? CV_16U : CV_8U};
  const cv::Size size(vips_image_get_width(image.get()), vips_image_get_height(image.get()));

  Plan plan = plan_chain(file.chain, size, layout, context);
  if (!plan.why.empty()) fail(ErrorCategory::unsupported, input, "cannot stream: " + plan.why);

  Pipeline pipeline;  // outlives every image below: their callbacks point into it
  pipeline.control.context = &context;
  pipeline.control.source = input.string();
  analyse_steps(plan, file.chain, input, size, layout, pipeline, context);
  // The worker count first: the sink's and the caches' sizes follow it.
  const VipsConcurrency concurrency(context.threads);
  VipsRef built = build_stages(plan, image.get(), pipeline, context, input);
  if (plan.stages.size() > 1 || (plan.stages.size() == 1 && plan.stages[0].map)) {
    const VipsRef cached = cached_input(plan, image.get(), built.get());
    if (!cached) fail(ErrorCategory::internal, input, detail::take_vips_error("cannot build the pipeline"));
    built = build_stages(plan, cached.get(), pipeline, context, input);
  }
  image = std::move(built);
  if (file.output.keep_metadata) vips_image_set_int(image.get(), VIPS_META_ORIENTATION, 1);

  try {
    detail::save_streamed(image.get(), output, file.output, context.quality);
  } catch (const Error&) {
    std::lock_guard lock(pipeline.control.mutex);
    if (pipeline.control.failure) throw *pipeline.control.failure;
    throw;
  }
}

}  // namespace imgpipe
