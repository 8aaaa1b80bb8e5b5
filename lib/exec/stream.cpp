// Streaming a chain through libvips: the chain is planned as stages (runs of point and
// neighbourhood steps, area downscales, crops, mirrors), each stage becomes a lazy libvips
// image, and the encoder's sink pulls tiles through them while the decoder reads the input
// top to bottom. No stage ever holds more than the tile it is asked for plus its halo.
// An analysis step whose result applies pixel by pixel (Analysis::pointwise) is analysed on a
// shrink-on-load thumbnail first and then applied to each region like a point step.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <imgpipe/error.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/stream.hpp>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "../io/encoders.hpp"
#include "../io/vips_util.hpp"
#include "../ops/pixels.hpp"
#include "../ops/point_program.hpp"
#include "../plan/planner.hpp"

namespace imgpipe {

namespace fs = std::filesystem;
using detail::VipsRef;

namespace {

// ---------------------------------------------------------------------------------------
// Planning: what each step becomes, tracked through the image's size and pixel layout.

struct PixelLayout {
  int channels = 3;
  int depth = CV_8U;
  int type() const { return CV_MAKETYPE(depth, channels); }
  bool operator==(const PixelLayout&) const = default;
};

// One step of a run as it executes on a region: fused point stages, an operation, or an
// analysis step's pointwise result (set once the thumbnail has been analysed).
struct Piece {
  std::shared_ptr<PointProgram> program;
  const Step* step = nullptr;
  const Analysis* analysis = nullptr;
};

// Consecutive point and neighbourhood steps: one libvips image. An output tile needs the
// input tile grown by the sum of the steps' halos.
struct RegionRun {
  std::vector<Piece> pieces;
  int halo = 0;
  PixelLayout in, out;
};

// Area-averaging downscale, as resize does it with cv::INTER_AREA.
struct AreaResize {
  cv::Size from, to;
  PixelLayout layout;
};

struct Extract {
  cv::Rect rect;
};

struct MirrorHorizontal {};

using Stage = std::variant<RegionRun, AreaResize, Extract, MirrorHorizontal>;

struct Plan {
  std::vector<Stage> stages;
  std::string why;  // empty when every step has a region form
};

// The layout a step gives for a layout, found by running it on a tiny image: point steps
// such as grayscale change the channel count, Canny makes 16-bit input 8-bit.
PixelLayout layout_after(const Step& step, PixelLayout layout, const Context& context) {
  const double middle = layout.depth == CV_16U ? 32768.0 : 128.0;
  Image probe(cv::Mat(3, 3, layout.type(), cv::Scalar::all(middle)));
  const Image out = step.operation->apply(probe, context);
  return {out.pixels.channels(), out.pixels.depth()};
}

// Adds a point or neighbourhood step to a run, fusing point stages like Chain::run does.
void add_to_run(RegionRun& run, const Step& step, PixelLayout& layout, const Context& context) {
  if (step.descriptor->footprint == Footprint::point) {
    PointProgram stages(layout.channels, layout.depth);
    if (step.operation->append_point_stages(stages, layout.channels, layout.depth)) {
      if (run.pieces.empty() || !run.pieces.back().program)
        run.pieces.push_back({std::make_shared<PointProgram>(layout.channels, layout.depth), nullptr, nullptr});
      run.pieces.back().program->append(stages);
      return;
    }
  }
  run.pieces.push_back({nullptr, &step, nullptr});
  run.halo += step.operation->halo();
  layout = layout_after(step, layout, context);
}

std::string plan_crop(const Step& step, cv::Size& size, Plan& plan) {
  const auto& p = step.params;
  const cv::Size crop(static_cast<int>(p.integer("width")), static_cast<int>(p.integer("height")));
  const int left = static_cast<int>(p.optional_integer("left").value_or((size.width - crop.width) / 2));
  const int top = static_cast<int>(p.optional_integer("top").value_or((size.height - crop.height) / 2));
  const cv::Rect rect(left, top, crop.width, crop.height);
  if (left < 0 || top < 0 || rect.br().x > size.width || rect.br().y > size.height)
    return fmt::format("region {}x{} at ({}, {}) does not fit in the {}x{} image", crop.width, crop.height,
                       left, top, size.width, size.height);
  plan.stages.push_back(Extract{rect});
  size = crop;
  return {};
}

// resize streams when it shrinks with area averaging: what its "auto" kernel does at the
// balanced and fast presets, or kernel: area. The other kernels differ from libvips's
// reducers by more than rounding, and enlarging would read the input ahead of the output.
std::string plan_resize(const Step& step, cv::Size& size, const PixelLayout& layout, QualityPreset quality,
                        Plan& plan) {
  const auto& p = step.params;
  const cv::Size content = step.operation->resampled_size(size).value_or(size);
  if (content.width > size.width || content.height > size.height)
    return fmt::format("it enlarges {}x{} to {}x{}; only downscales stream", size.width, size.height,
                       content.width, content.height);
  const std::string& kernel = p.text("kernel");
  const bool area =
      kernel == "area" ||
      (kernel == "auto" && (quality == QualityPreset::balanced || quality == QualityPreset::fast));
  if (content != size) {
    if (!area)
      return fmt::format(
          "kernel {} at the {} preset has no region form; area downscales stream (kernel: area, "
          "or auto at the balanced and fast presets)",
          kernel, to_string(quality));
    plan.stages.push_back(AreaResize{size, content, layout});
    size = content;
  }
  const std::string& fit = p.text("fit");
  if (fit != "cover" && fit != "fill") return {};
  const cv::Size box(static_cast<int>(p.integer("width")), static_cast<int>(p.integer("height")));
  if (fit == "fill" && (size.width < box.width || size.height < box.height))
    return "fit: fill pads the image, which has no region form";
  // The same centred rectangle as the in-memory kernel.
  const cv::Rect centre(std::max(0, (size.width - box.width) / 2),
                        std::max(0, (size.height - box.height) / 2), std::min(box.width, size.width),
                        std::min(box.height, size.height));
  if (centre.size() != size) plan.stages.push_back(Extract{centre});
  size = centre.size();
  return {};
}

// What a geometry step becomes; a non-empty reason when it has no region form.
std::string plan_geometry(const Step& step, cv::Size& size, const PixelLayout& layout, QualityPreset quality,
                          Plan& plan) {
  const std::string& name = step.descriptor->name;
  // The streaming loader has made the image upright already, as load() does.
  if (name == "auto_orient") return {};
  if (name == "crop") return plan_crop(step, size, plan);
  if (name == "resize") return plan_resize(step, size, layout, quality, plan);
  if (name == "flip") {
    if (step.params.text("direction") != "horizontal")
      return "a vertical flip needs the image's last row first";
    plan.stages.push_back(MirrorHorizontal{});
    return {};
  }
  return "it has no region form";
}

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

Plan plan_chain(const Chain& chain, cv::Size size, PixelLayout layout, const Context& context) {
  Plan plan;
  std::optional<RegionRun> run;
  auto flush = [&] {
    if (run) plan.stages.push_back(std::move(*run));
    run.reset();
  };
  auto extend_run = [&](const Step& step) {
    if (!run) run = RegionRun{{}, 0, layout, layout};
    add_to_run(*run, step, layout, context);
    run->out = layout;
  };
  std::string mixed;  // the first step so far that is not a point step
  for (const Step& step : chain.steps()) {
    const Footprint footprint = step.descriptor->footprint;
    std::string why;
    try {
      if (footprint == Footprint::point || footprint == Footprint::neighbourhood) {
        if (!step.operation->tileable()) {
          why = "an output pixel can depend on pixels beyond a fixed window around it";
        } else {
          extend_run(step);
        }
      } else if (footprint == Footprint::geometry) {
        flush();
        why = plan_geometry(step, size, layout, context.quality, plan);
      } else if (plan::is_analysis_step(step)) {
        why = analysis_obstacle(step, mixed);
        if (why.empty()) extend_run(step);  // the analysis is added when the pipeline is built
      } else {
        why = "it needs the whole image";
      }
    } catch (const Error& e) {
      why = e.what();
    }
    if (!why.empty()) {
      plan.why = fmt::format("{}: {}", step.label, why);
      return plan;
    }
    // auto_orient moves nothing here: the loader, and the thumbnail, are upright already.
    if (mixed.empty() && footprint != Footprint::point && step.descriptor->name != "auto_orient")
      mixed = step.label;
  }
  flush();
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

  void check() const {
    if (context->cancel.stop_requested())
      throw Error(ErrorCategory::cancelled, fmt::format("{}: cancelled while streaming", source));
    if (context->deadline != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() > context->deadline)
      throw Error(ErrorCategory::timeout, fmt::format("{}: time limit reached while streaming", source));
  }
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

// The input rectangle a stage needs for `want`, clamped to the input image.
VipsRect clamped(VipsRect need, const VipsImage* in) {
  const VipsRect whole{0, 0, in->Xsize, in->Ysize};
  vips_rect_intersectrect(&need, &whole, &need);
  return need;
}

struct RunKernel {
  RegionRun run;
  Context context;
  StreamControl* control = nullptr;

  // The run's steps on `source` (the wanted tile grown by the halo, clamped to the image);
  // the wanted part, at `centre` in the source, goes to `target`. At the image's edges the
  // clamped region ends where the image ends, so each kernel extrapolates its border as it
  // does on the whole image; elsewhere the halo covers every kernel's window.
  void compute(const cv::Mat& source, cv::Mat& target, const cv::Rect& centre) const {
    if (run.halo == 0 && run.pieces.size() == 1 && run.pieces.front().program)
      return run.pieces.front().program->run(source, target);
    Image current(source);
    current.source = control->source;
    for (const Piece& piece : run.pieces) {
      if (piece.program) {
        cv::Mat out;
        piece.program->run(current.pixels, out);
        current.pixels = out;
      } else if (piece.analysis) {
        current = piece.analysis->apply(current, context);
      } else {
        current = piece.step->operation->apply(current, context);
      }
    }
    if (current.pixels.type() != target.type())
      throw Error(ErrorCategory::internal,
                  fmt::format("{}: a streamed step gave another pixel layout on a region "
                              "than on a probe",
                              control->source));
    current.pixels(centre).copyTo(target);
  }
};

int generate_run(VipsRegion* out, void* seq, void* a, void* b, gboolean*) {
  auto* sequence = static_cast<Sequence*>(seq);
  const auto& kernel = *static_cast<const RunKernel*>(b);
  const VipsRect want = out->valid;
  const int halo = kernel.run.halo;
  const VipsRect need =
      clamped({want.left - halo, want.top - halo, want.width + 2 * halo, want.height + 2 * halo},
              static_cast<VipsImage*>(a));
  if (vips_region_prepare(sequence->input, &need)) return -1;
  return guarded(*kernel.control, [&] {
    const cv::Mat source = wrap(sequence->input, need, kernel.run.in);
    cv::Mat target = wrap(out, want, kernel.run.out);
    const cv::Rect centre(want.left - need.left, want.top - need.top, want.width, want.height);
    sequence->arena.execute([&] { kernel.compute(source, target, centre); });
  });
}

// ---- area downscale

// OpenCV's INTER_AREA weights along one axis (computeResizeAreaTab in imgproc/resize.cpp):
// each output pixel averages the input cells it covers, partial cells by their covered
// fraction. Kept in float as OpenCV keeps them, so region results match the whole image's.
struct AreaTable {
  struct Tap {
    int source;
    float weight;
  };
  std::vector<Tap> taps;
  std::vector<std::size_t> first;  // taps of output i: [first[i], first[i + 1])

  AreaTable(int source_size, int target_size) {
    const double scale = static_cast<double>(source_size) / target_size;
    for (int d = 0; d < target_size; ++d) {
      first.push_back(taps.size());
      const double from = d * scale, to = from + scale;
      const double cell = std::min(scale, source_size - from);
      int start = static_cast<int>(std::ceil(from)), end = static_cast<int>(std::floor(to));
      end = std::min(end, source_size - 1);
      start = std::min(start, end);
      if (start - from > 1e-3) taps.push_back({start - 1, static_cast<float>((start - from) / cell)});
      for (int s = start; s < end; ++s) taps.push_back({s, static_cast<float>(1.0 / cell)});
      if (to - end > 1e-3)
        taps.push_back({end, static_cast<float>(std::min(std::min(to - end, 1.0), cell) / cell)});
    }
    first.push_back(taps.size());
  }

  // The input span [begin, end) that outputs [from, to) read.
  std::pair<int, int> span(int from, int to) const {
    return {taps[first[static_cast<std::size_t>(from)]].source,
            taps[first[static_cast<std::size_t>(to)] - 1].source + 1};
  }
};

struct AreaKernel {
  AreaResize resize;
  AreaTable columns, rows;
  StreamControl* control = nullptr;

  AreaKernel(const AreaResize& r, StreamControl* c)
      : resize(r), columns(r.from.width, r.to.width), rows(r.from.height, r.to.height), control(c) {}

  // Outputs [x0, x1) × [y0, y1) from a float source whose origin is input (sx0, sy0), in
  // OpenCV's order: each input row resampled across, then rows weighted and summed.
  void resample(const cv::Mat& source, cv::Mat& out, const VipsRect& want, int sx0, int sy0) const {
    const int cn = source.channels();
    const auto width = static_cast<std::size_t>(want.width * cn);
    std::vector<float> across(width), sum(width);
    for (int y = 0; y < want.height; ++y) {
      std::fill(sum.begin(), sum.end(), 0.0f);
      const auto oy = static_cast<std::size_t>(want.top + y);
      for (std::size_t t = rows.first[oy]; t < rows.first[oy + 1]; ++t) {
        const float* row = source.ptr<float>(rows.taps[t].source - sy0);
        std::fill(across.begin(), across.end(), 0.0f);
        for (int x = 0; x < want.width; ++x) {
          const auto ox = static_cast<std::size_t>(want.left + x);
          float* a = &across[static_cast<std::size_t>(x * cn)];
          for (std::size_t k = columns.first[ox]; k < columns.first[ox + 1]; ++k) {
            const float* s = row + (columns.taps[k].source - sx0) * cn;
            const float w = columns.taps[k].weight;
            for (int c = 0; c < cn; ++c) a[c] += s[c] * w;
          }
        }
        const float beta = rows.taps[t].weight;
        for (std::size_t i = 0; i < width; ++i) sum[i] += beta * across[i];
      }
      std::copy(sum.begin(), sum.end(), out.ptr<float>(y));
    }
  }
};

int generate_area(VipsRegion* out, void* seq, void* a, void* b, gboolean*) {
  auto* sequence = static_cast<Sequence*>(seq);
  const auto& kernel = *static_cast<const AreaKernel*>(b);
  const VipsRect want = out->valid;
  const auto [sx0, sx1] = kernel.columns.span(want.left, want.left + want.width);
  const auto [sy0, sy1] = kernel.rows.span(want.top, want.top + want.height);
  const VipsRect need = clamped({sx0, sy0, sx1 - sx0, sy1 - sy0}, static_cast<VipsImage*>(a));
  if (vips_region_prepare(sequence->input, &need)) return -1;
  return guarded(*kernel.control, [&] {
    const cv::Mat source = wrap(sequence->input, need, kernel.resize.layout);
    cv::Mat target = wrap(out, want, kernel.resize.layout);
    const uchar* before = target.data;
    sequence->arena.execute([&] {
      // Premultiplied like the in-memory resize; the filter writes straight into the tile.
      ops::filter_premultiplied(source, target, [&](cv::InputArray in, cv::OutputArray result) {
        result.create(want.height, want.width, CV_32FC(in.channels()));
        cv::Mat resampled = result.getMat();
        kernel.resample(in.getMat(), resampled, want, need.left, need.top);
      });
    });
    if (target.data != before) throw Error(ErrorCategory::internal, "area resize wrote outside its tile");
  });
}

// ---- building the pipeline

VipsInterpretation interpretation_of(const PixelLayout& layout) {
  const bool sixteen = layout.depth == CV_16U;
  if (layout.channels >= 3) return sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB;
  return sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W;
}

[[noreturn]] void fail(ErrorCategory category, const fs::path& file, const std::string& what) {
  throw Error(category, fmt::format("{}: {}", file.string(), what));
}

// Everything the pipeline's callbacks point at lives here until the pipeline is gone.
struct Pipeline {
  StreamControl control;
  std::vector<std::unique_ptr<RunKernel>> runs;
  std::vector<std::unique_ptr<AreaKernel>> areas;
  std::vector<std::unique_ptr<Analysis>> analyses;
};

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
  VipsRef out;
  if (const auto* run = std::get_if<RegionRun>(&stage)) {
    pipeline.runs.push_back(std::make_unique<RunKernel>(RunKernel{*run, context, &pipeline.control}));
    out = generated(in, size, run->out, generate_run, pipeline.runs.back().get());
  } else if (const auto* resize = std::get_if<AreaResize>(&stage)) {
    pipeline.areas.push_back(std::make_unique<AreaKernel>(*resize, &pipeline.control));
    out = generated(in, resize->to, resize->layout, generate_area, pipeline.areas.back().get());
  } else if (const auto* extract = std::get_if<Extract>(&stage)) {
    const cv::Rect& r = extract->rect;
    vips_extract_area(in, out.out(), r.x, r.y, r.width, r.height, nullptr);
  } else {
    vips_flip(in, out.out(), VIPS_DIRECTION_HORIZONTAL, nullptr);
  }
  return out;
}

// ---- input

// Opens for a single pass top to bottom, failing on decoder warnings (truncated data).
VipsRef open_sequential(const fs::path& path) {
  detail::VipsSourceRef source(vips_source_new_from_file(path.c_str()));
  if (!source) fail(ErrorCategory::io, path, detail::take_vips_error("cannot open"));
  if (!vips_foreign_find_load_source(source.get())) {
    detail::take_vips_error();
    fail(ErrorCategory::decode, path, "not a recognised image format");
  }
  VipsRef image(vips_image_new_from_source(source.get(), "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
                                           VIPS_FAIL_ON_WARNING, nullptr));
  if (!image) fail(ErrorCategory::decode, path, detail::take_vips_error("cannot read the image header"));
  return image;
}

// 8- or 16-bit sRGB or grey, alpha kept: the conversions load() makes, as lazy operations.
VipsRef to_srgb(VipsRef image, const fs::path& path) {
  const auto format = vips_image_get_format(image.get());
  if (format != VIPS_FORMAT_UCHAR && format != VIPS_FORMAT_USHORT &&
      vips_image_get_interpretation(image.get()) != VIPS_INTERPRETATION_scRGB)
    fail(ErrorCategory::unsupported, path,
         fmt::format("{} samples are not supported (8- and 16-bit unsigned only)",
                     vips_enum_nick(VIPS_TYPE_BAND_FORMAT, format)));
  return detail::to_srgb(std::move(image), path.string());
}

// EXIF orientation 2 is a mirror, which streams; the others need the last rows first.
VipsRef upright(VipsRef image, const fs::path& path) {
  int orientation = 1;
  if (vips_image_get_typeof(image.get(), VIPS_META_ORIENTATION) &&
      vips_image_get_int(image.get(), VIPS_META_ORIENTATION, &orientation))
    detail::take_vips_error();
  if (orientation <= 1 || orientation > 8) return image;
  if (orientation != 2)
    fail(ErrorCategory::unsupported, path,
         fmt::format("EXIF orientation {} turns the image, which needs its last rows first; it cannot stream",
                     orientation));
  VipsRef mirrored;
  if (vips_flip(image.get(), mirrored.out(), VIPS_DIRECTION_HORIZONTAL, nullptr))
    fail(ErrorCategory::decode, path, detail::take_vips_error());
  vips_image_set_int(mirrored.get(), VIPS_META_ORIENTATION, 1);
  return mirrored;
}

// ---- output



bool has_alpha(VipsImage* image) {
  return image->Bands == 2 || image->Bands == 4;
}

// JPEG and WebP hold 8-bit samples: round v / 257 as the in-memory encoder does.
VipsRef to_8bit(VipsRef image) {
  if (image.get()->BandFmt == VIPS_FORMAT_UCHAR) return image;
  VipsRef out;
  if (vips_linear1(image.get(), out.out(), 1.0 / 257.0, 0.0, "uchar", TRUE, nullptr)) return {};
  out.get()->Type = image.get()->Bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
  return out;
}

int save_jpeg(VipsRef image, VipsTarget* target, const SaveOptions& options) {
  if (has_alpha(image.get())) {
    const double max = image.get()->BandFmt == VIPS_FORMAT_USHORT ? 65535.0 : 255.0;
    const double scale = max / 255.0;
    double background[3];
    for (int c = 0; c < 3; ++c) background[c] = options.background[c] * scale;
    if (image.get()->Bands == 2) background[0] = (background[0] + background[1] + background[2]) / 3.0;
    VipsArrayDouble* colour = vips_array_double_new(background, image.get()->Bands - 1);
    VipsRef flat;
    const int rc = vips_flatten(image.get(), flat.out(), "background", colour, "max_alpha", max, nullptr);
    vips_area_unref(VIPS_AREA(colour));
    if (rc) return rc;
    image = std::move(flat);
  }
  image = to_8bit(std::move(image));
  if (!image) return -1;
  // No optimised Huffman tables: libjpeg gathers their statistics over the whole image's DCT
  // coefficients, 2 bytes a sample held at once (a progressive JPEG holds them too), which is
  // what streaming avoids; the file comes out a few per cent larger.
  return vips_jpegsave_target(image.get(), target, "Q", options.quality ? options.quality : 85, "interlace",
                              options.progressive ? TRUE : FALSE, "strip",
                              options.keep_metadata ? FALSE : TRUE, "optimize_coding", FALSE, nullptr);
}

int save_tiff(VipsImage* image, VipsTarget* target, const SaveOptions& options, const fs::path& output) {
  VipsForeignTiffCompression compression{};
  try {
    compression = detail::tiff_compression(options, image->BandFmt == VIPS_FORMAT_USHORT);
  } catch (const Error& e) {
    fail(e.category(), output, e.what());
  }
  return vips_tiffsave_target(image, target, "compression", compression, "strip",
                              options.keep_metadata ? FALSE : TRUE, nullptr);
}

int save_webp(VipsRef image, VipsTarget* target, const SaveOptions& options, QualityPreset preset,
              const fs::path& output) {
  if (options.target_size)
    fail(ErrorCategory::unsupported, output,
         "webp target_size needs the in-memory encoder; it cannot stream");
  image = to_8bit(std::move(image));
  if (!image) return -1;
  const bool near_lossless = options.near_lossless < 100;
  // libvips's near-lossless takes its level from Q.
  const int quality = near_lossless ? options.near_lossless : options.quality ? options.quality : 80;
  return vips_webpsave_target(image.get(), target, "Q", quality, "lossless",
                              options.lossless || near_lossless ? TRUE : FALSE, "near_lossless",
                              near_lossless ? TRUE : FALSE, "alpha_q", options.alpha_quality, "effort",
                              options.method >= 0 ? options.method : detail::default_webp_method(preset), "strip",
                              options.keep_metadata ? FALSE : TRUE, nullptr);
}

int save_to(VipsRef image, VipsTarget* target, const SaveOptions& options, QualityPreset preset,
            const fs::path& output) {
  switch (options.format) {
    case Format::jpeg: return save_jpeg(std::move(image), target, options);
    case Format::png:
      // Truecolour: counting colours for a palette would need every pixel before the first byte.
      return vips_pngsave_target(image.get(), target, "compression", options.compression, "strip",
                                 options.keep_metadata ? FALSE : TRUE, "bitdepth",
                                 image.get()->BandFmt == VIPS_FORMAT_USHORT ? 16 : 8, nullptr);
    case Format::tiff: return save_tiff(image.get(), target, options, output);
    case Format::webp: return save_webp(std::move(image), target, options, preset, output);
  }
  return -1;
}

// A temporary file beside the output, removed unless it was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(const fs::path& output) : output_(output) {
    const auto directory = output.has_parent_path() ? output.parent_path() : fs::path(".");
    path_ =
        (directory / fmt::format(".{}.imgpipe-XXXXXX", output.filename().string().substr(0, 200))).string();
    fd_ = mkstemp(path_.data());
    if (fd_ < 0)
      fail(ErrorCategory::io, output,
           fmt::format("cannot create a file in {}: {}", directory.string(), std::strerror(errno)));
  }
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }

  void commit(bool fsync) {
    if (::fchmod(fd_, 0666 & ~detail::current_umask()) != 0) fail_errno("cannot set permissions");
    if (fsync && ::fsync(fd_) != 0) fail_errno("fsync failed");
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail_errno("close failed");
    if (std::rename(path_.c_str(), output_.c_str()) != 0) fail_errno("cannot rename into place");
    path_.clear();
  }

 private:
  [[noreturn]] void fail_errno(const char* what) const {
    fail(ErrorCategory::io, output_, fmt::format("{}: {}", what, std::strerror(errno)));
  }

  fs::path output_;
  std::string path_;
  int fd_ = -1;
};

// ---- analysis on a thumbnail

// The input shrunk on load to `size` exactly (libvips's thumbnail: a JPEG decodes at 1/2, 1/4
// or 1/8 scale, other formats are read once top to bottom), upright and converted like the
// streamed image (sRGB, the stream's depth), as pixels in memory.
cv::Mat thumbnail(const fs::path& path, cv::Size size, const PixelLayout& layout) {
  VipsRef shrunk;
  if (vips_thumbnail(path.c_str(), shrunk.out(), size.width, "height", size.height, "size", VIPS_SIZE_FORCE,
                     nullptr))
    fail(ErrorCategory::decode, path, detail::take_vips_error("cannot make the analysis thumbnail"));
  VipsRef image = to_srgb(std::move(shrunk), path);
  const bool sixteen = vips_image_get_format(image.get()) == VIPS_FORMAT_USHORT;
  if (layout.depth == CV_8U && sixteen) {
    image = to_8bit(std::move(image));
  } else if (layout.depth == CV_16U && !sixteen) {
    VipsRef scaled, wide;
    if (vips_linear1(image.get(), scaled.out(), 257.0, 0.0, nullptr) ||
        vips_cast_ushort(scaled.get(), wide.out(), nullptr))
      wide = VipsRef();
    image = std::move(wide);
  }
  if (!image) fail(ErrorCategory::decode, path, detail::take_vips_error("analysis thumbnail"));
  if (vips_image_get_bands(image.get()) != layout.channels)
    fail(ErrorCategory::internal, path,
         fmt::format("the analysis thumbnail has {} bands where the image has {}", vips_image_get_bands(image.get()),
                     layout.channels));
  std::size_t bytes = 0;
  void* data = vips_image_write_to_memory(image.get(), &bytes);
  if (!data) fail(ErrorCategory::decode, path, detail::take_vips_error("analysis thumbnail"));
  const cv::Mat wrapped(vips_image_get_height(image.get()), vips_image_get_width(image.get()), layout.type(), data);
  cv::Mat pixels = bytes == wrapped.total() * wrapped.elemSize() ? wrapped.clone() : cv::Mat();
  g_free(data);
  if (pixels.empty()) fail(ErrorCategory::internal, path, "the analysis thumbnail has an unexpected size");
  return pixels;
}

// The analysis of step `index` for a streamed run of an image of `size`: the planner's
// analysis size, the input's thumbnail at that size put through the steps before (point
// steps, which plan_chain has checked) in memory, and the result checked to apply pixel by
// pixel. The thumbnail is resampled by libvips rather than with INTER_AREA, so the measure
// can differ slightly from the in-memory run's.
std::unique_ptr<Analysis> analyse_thumbnail(const Chain& chain, std::size_t index, const fs::path& input,
                                            cv::Size size, const PixelLayout& layout, const Context& context) {
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
  Image current(thumbnail(input, plan.analysis_size, layout));
  current.source = input.string();
  for (std::size_t i = 0; i < index; ++i) {
    const Step& before = chain.steps()[i];
    if (before.descriptor->name != "auto_orient") current = before.operation->apply(current, context);
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
  return analysis;
}

// Analyses every analysis step of the plan's runs and hands the result to its piece.
void analyse_steps(Plan& plan, const Chain& chain, const fs::path& input, cv::Size size, const PixelLayout& layout,
                   Pipeline& pipeline, const Context& context) {
  for (Stage& stage : plan.stages) {
    auto* run = std::get_if<RegionRun>(&stage);
    if (!run) continue;
    for (Piece& piece : run->pieces) {
      if (!piece.step || !plan::is_analysis_step(*piece.step)) continue;
      const auto index = static_cast<std::size_t>(piece.step - chain.steps().data());
      pipeline.analyses.push_back(analyse_thumbnail(chain, index, input, size, layout, context));
      piece.analysis = pipeline.analyses.back().get();
    }
  }
}

// Device as Chain::run checks it: every kernel here runs on the CPU.
void check_device(Device device) {
  if (device == Device::opencl || device == Device::cuda)
    throw Error(ErrorCategory::device,
                fmt::format("device {}: no operation has a {} path in this build; use device: auto or cpu",
                            to_string(device), to_string(device)));
}

}  // namespace

void stream_file(const ChainFile& file, const fs::path& input, const fs::path& output,
                 const Context& context) {
  check_device(context.device);
  detail::ensure_vips();
  if (context.threads > 0) vips_concurrency_set(context.threads);
  MaybeScope total(context.monitor, "stream");
  detail::check_image_file(input, input.string(), context.limits);

  VipsRef image = upright(to_srgb(open_sequential(input), input), input);
  const int bands = vips_image_get_bands(image.get());
  if (bands < 1 || bands > 4)
    fail(ErrorCategory::unsupported, input,
         fmt::format("{} bands are not supported (grey, grey+alpha, RGB or RGBA)", bands));
  const PixelLayout layout{bands, vips_image_get_format(image.get()) == VIPS_FORMAT_USHORT ? CV_16U : CV_8U};
  const cv::Size size(vips_image_get_width(image.get()), vips_image_get_height(image.get()));

  Plan plan = plan_chain(file.chain, size, layout, context);
  if (!plan.why.empty()) fail(ErrorCategory::unsupported, input, "cannot stream: " + plan.why);

  Pipeline pipeline;  // outlives every image below: their callbacks point into it
  pipeline.control.context = &context;
  pipeline.control.source = input.string();
  analyse_steps(plan, file.chain, input, size, layout, pipeline, context);
  for (const Stage& stage : plan.stages) {
    image = build_stage(stage, image.get(), pipeline, context);
    if (!image) fail(ErrorCategory::internal, input, detail::take_vips_error("cannot build the pipeline"));
  }
  if (file.output.keep_metadata) vips_image_set_int(image.get(), VIPS_META_ORIENTATION, 1);

  TemporaryFile temporary(output);
  int rc = 0;
  {
    detail::GRef<VipsTarget> target(vips_target_new_to_descriptor(temporary.fd()));
    if (!target) fail(ErrorCategory::io, output, detail::take_vips_error("cannot write"));
    rc = save_to(std::move(image), target.get(), file.output, context.quality, output);
  }
  if (rc) {
    const std::string what = detail::take_vips_error("the encoder failed");
    std::lock_guard lock(pipeline.control.mutex);
    if (pipeline.control.failure) throw *pipeline.control.failure;
    throw Error(ErrorCategory::io, fmt::format("{} -> {}: {}", input.string(), output.string(), what));
  }
  temporary.commit(file.output.fsync);
}

}  // namespace imgpipe
