// Running a chain: steps in order, consecutive point operations fused into one pass, runs of
// point and fixed-window steps on images larger than a tile computed tile by tile
// (tiled.hpp), analysis steps on the image or a reduced copy as the planner says
// (lib/plan/), each step or run timed under the context's monitor, all inside a TBB arena of
// the context's threads.

#include <fmt/format.h>
#include <tbb/task_arena.h>

#include <imgpipe/chain.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/monitor.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <span>

#include "../ops/analysis/complexity.hpp"
#include "../ops/value_json.hpp"
#include "../plan/planner.hpp"
#include "tiled.hpp"

namespace imgpipe {

namespace fs = std::filesystem;

FileAccess file_access_from_environment(const std::function<const char*(const char*)>& getenv) {
  auto get = [&](const char* name) -> const char* { return getenv ? getenv(name) : std::getenv(name); };
  FileAccess access;
  if (const char* flag = get("IMGPIPE_UNTRUSTED"); flag && *flag) {
    const std::string_view v(flag);
    if (v == "1" || v == "true" || v == "yes")
      access.untrusted = true;
    else if (v != "0" && v != "false" && v != "no")
      throw Error(ErrorCategory::config,
                  fmt::format("IMGPIPE_UNTRUSTED: expected 1, true, yes, 0, false or no, got \"{}\"", v));
  }
  if (const char* folders = get("IMGPIPE_ALLOW_PATHS"); folders && *folders) {
    std::string_view rest(folders);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string_view folder = rest.substr(0, colon);
      if (!folder.empty()) access.allowed.emplace_back(folder);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
    access.untrusted = true;
  }
  return access;
}

namespace {

// Whether `path` is `folder` or lies inside it (both absolute and resolved).
bool lies_under(const fs::path& path, const fs::path& folder) {
  auto p = path.begin();
  for (auto f = folder.begin(); f != folder.end(); ++f, ++p) {
    if (f->empty()) continue;  // the empty last part of a folder given with a trailing '/'
    if (p == path.end() || *p != *f) return false;
  }
  return true;
}

// The file a path parameter names, as an untrusted chain may read it: resolved, under an
// allowed folder, a regular file. Messages name the parameter and the path, nothing read.
std::string allowed_file(const std::string& given, const FileAccess& access, const std::string& what) {
  const fs::path path(given);
  for (const auto& part : path)
    if (part == "..")
      throw Error(ErrorCategory::config,
                  fmt::format("{}: {}: an untrusted chain may not name a path with \"..\"", what, given));
  if (access.allowed.empty())
    throw Error(ErrorCategory::config,
                fmt::format("{}: {}: an untrusted chain may read no file unless a folder is allowed "
                            "(--allow-path, IMGPIPE_ALLOW_PATHS)",
                            what, given));
  std::error_code ec;
  const fs::path resolved = fs::canonical(path, ec);
  if (ec)
    throw Error(ErrorCategory::config, fmt::format("{}: {}: cannot open: {}", what, given, ec.message()));
  const bool inside = std::any_of(access.allowed.begin(), access.allowed.end(), [&](const fs::path& folder) {
    std::error_code folder_ec;
    const fs::path root = fs::canonical(folder, folder_ec);
    return !folder_ec && lies_under(resolved, root);
  });
  if (!inside)
    throw Error(
        ErrorCategory::config,
        fmt::format("{}: {}: outside the folders an untrusted chain may read (--allow-path)", what, given));
  if (!fs::is_regular_file(resolved, ec))
    throw Error(ErrorCategory::config,
                fmt::format("{}: {}: not a regular file (a folder, device, pipe or socket)", what, given));
  return resolved.string();
}

// The step's parameters with every file it names resolved against the chain's folder and
// checked against the chain's access.
Params checked_files(const OpDescriptor& descriptor, const Params& params, const FileAccess& access) {
  if (!access.untrusted && access.base.empty()) return params;
  auto values = params.values();
  for (const ParamSpec& spec : descriptor.params) {
    auto it = values.find(spec.name);
    if (it == values.end() || !spec.names_file(it->second)) continue;
    fs::path path(it->second.as_string());
    if (path.is_relative() && !access.base.empty()) path = access.base / path;
    it->second =
        Value(access.untrusted ? allowed_file(path.string(), access, descriptor.name + "." + spec.name)
                               : path.string());
  }
  return Params(std::move(values));
}

}  // namespace

namespace {

// A step's "device" parameter (Chain::then).
Device parse_step_device(std::string_view op, const Value& value) {
  const auto device = value.is_string() ? parse_device(value.as_string()) : std::nullopt;
  if (!device)
    throw Error(
        ErrorCategory::config,
        fmt::format("{}.device: expected one of auto, cpu, opencl, cuda, got {}", op, value.to_text()));
  return *device;
}

}  // namespace

Chain& Chain::then(std::string_view op, const ParamList& params) {
  const OpDescriptor& descriptor = Registry::global().at(op);
  std::map<std::string, Value, std::less<>> given;
  Device device = Device::automatic;
  for (const auto& [name, value] : params) {
    if (name == "device") {
      device = parse_step_device(op, value);
      continue;
    }
    if (given.count(name))
      throw Error(ErrorCategory::config, fmt::format("{}: parameter '{}' given twice", op, name));
    given[name] = value;
  }
  return then(descriptor, validate_params(descriptor, given), device);
}

Chain& Chain::then(const OpDescriptor& descriptor, const Params& params, Device device) {
  Step step;
  step.descriptor = &descriptor;
  step.params = checked_files(descriptor, params, access_);
  step.operation = descriptor.create(step.params);
  step.label = fmt::format("step {}: {}", steps_.size() + 1, descriptor.name);
  step.device = device;
  if (device == Device::opencl || device == Device::cuda) {
    bool any = false;
    for (int depth : {CV_8U, CV_16U})
      for (int channels = 1; channels <= 4; ++channels)
        any = any || step.operation->runs_on(device, channels, depth, QualityPreset::balanced);
    if (!any)
      throw Error(
          ErrorCategory::config,
          fmt::format("{}.device: {} has no {} path (docs/acceleration.md lists the operations that do); "
                      "give auto or cpu",
                      descriptor.name, descriptor.name, to_string(device)));
  }
  steps_.push_back(std::move(step));
  return *this;
}

cv::Size Chain::min_decode_size(cv::Size input, QualityPreset quality) const {
  // Exact at ultra; otherwise decode at no less than the size the first step resamples to
  // (twice that at high), which the step then finishes with its own kernel.
  if (steps_.empty() || quality == QualityPreset::ultra) return {0, 0};
  auto target = steps_.front().operation->resampled_size(input);
  if (!target || target->width >= input.width || target->height >= input.height) return {0, 0};
  const int margin = quality == QualityPreset::high ? 2 : 1;
  return {target->width * margin, target->height * margin};
}

namespace {

// Between steps is where a run can stop cleanly: nothing half-made is kept.
void check_before(const Context& context, const Step& step) {
  exec::check_continue(context, {}, "before ", step.label);
}

// Runs the local steps at the front of `rest` (region.hpp) as one run: tile by tile when the
// image is larger than a tile, else at once; returns how many steps ran (0: the next step is
// not local, the caller runs it as usual). Called only when point operations may be fused:
// the unfused run is the reference that every faster path is compared with.
std::size_t run_local_steps(std::span<const Step> rest, Image& current, const Context& context) {
  const exec::LocalRun run = exec::plan_local_run(rest, exec::PixelLayout::of(current.pixels), context);
  if (run.steps == 0) return 0;
  for (const Step& step : rest.subspan(1, run.steps - 1)) check_before(context, step);
  const cv::Size size = current.pixels.size();
  if (const int tile = exec::tile_side(run, size, context)) {
    MaybeScope scope(context.monitor, fmt::format("{} (tiled {})", run.label, tile));
    current = exec::run_tiled(run, current, tile, context);
  } else if (!run.changes_nothing()) {
    MaybeScope scope(context.monitor, run.label);
    cv::Mat out;
    const cv::Rect whole(cv::Point(0, 0), size);
    exec::compute_region(run, current.pixels, whole, whole, size, current, context, out);
    current = current.with_pixels(std::move(out));
  }
  return run.steps;
}

using Fanned = std::vector<std::pair<std::string, Image>>;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Runs steps[first] and the steps after it that step_device() sends to `device` as one run: the
// image is copied there before the first and back after the last, and stays on the device in
// between. Returns how many steps ran (at least one: the caller found the first). Each step is
// waited for, so that the profile and the run's record time the steps and not the copies.
std::size_t run_device_steps(std::span<const Step> steps, std::size_t first, Image& current, Device device,
                             const Context& context) {
  using clock = std::chrono::steady_clock;
  DeviceRun record;
  record.device = device;
  record.name = device_status(device).name;
  MaybeScope run_scope(context.monitor, fmt::format("{} on {}", steps[first].label, to_string(device)));
  DeviceImage image;
  auto start = clock::now();
  {
    MaybeScope scope(context.monitor, "upload");
    image = upload(current.pixels, device);
    synchronize(device);
  }
  record.upload_ms = ms_since(start);
  std::size_t count = 0;
  start = clock::now();
  for (const Step& step : steps.subspan(first)) {
    if (count > 0) {
      if (plan::is_analysis_step(step) ||
          plan::step_device(step, context, image.size(), image.channels(), image.depth()) != device)
        break;
      check_before(context, step);
    }
    MaybeScope scope(context.monitor, step.label);
    step.operation->apply_on(image, context);
    synchronize(device);
    ++count;
  }
  record.run_ms = ms_since(start);
  start = clock::now();
  {
    MaybeScope scope(context.monitor, "download");
    current = current.with_pixels(download(image));
  }
  record.download_ms = ms_since(start);
  record.first_step = static_cast<int>(first + 1);
  record.last_step = static_cast<int>(first + count);
  if (context.device_runs) context.device_runs->push_back(record);
  return count;
}

// An analysis step as the planner says: analysed on the image itself or on a copy shrunk with
// area averaging (which keeps every pixel's colour in the average, unlike sampling) — unless
// the operation reduces the image itself (Operation::reduces_itself) — then applied to the full
// image. Returns the step's variants, or none with `current` replaced. The profile and the
// context's strategy list name the choice.
Fanned run_analysis(const Step& step, std::size_t index, Image& current, const Context& context) {
  AnalysisPlan plan = plan::plan_step(step, current.pixels.size(), context.quality, context.plan);
  AnalysisReport report;
  report.step = static_cast<int>(index + 1);
  report.operation = step.descriptor->name;
  if (plan.strategy != Strategy::direct && plan::follows_rules(step)) {
    // Rules R2 to R4 (lib/ops/analysis/complexity.hpp) before the plan is named: measured on a
    // 256-pixel thumbnail, about a millisecond.
    const double complexity = ops::complexity(current.pixels);
    plan = plan::apply_rules(step, plan, complexity, context.quality);
    report.values.emplace_back("complexity", complexity);
    report.values.emplace_back("analysis_side",
                               std::max(plan.analysis_size.width, plan.analysis_size.height));
  }
  const std::string how = plan::describe(plan);
  MaybeScope scope(context.monitor, fmt::format("{} ({})", step.label, how));
  std::unique_ptr<Analysis> analysis;
  if (plan.analysis_size == plan.full_size || step.operation->reduces_itself()) {
    MaybeScope analyse_scope(context.monitor, "analyse");
    analysis = step.operation->analyse(current, plan, context);
  } else {
    Image reduced;
    {
      MaybeScope reduce_scope(context.monitor, "reduce");
      cv::Mat pixels;
      cv::resize(current.pixels, pixels, plan.analysis_size, 0, 0, cv::INTER_AREA);
      reduced = current.with_pixels(std::move(pixels));
    }
    MaybeScope analyse_scope(context.monitor, "analyse");
    analysis = step.operation->analyse(reduced, plan, context);
  }
  if (!analysis)
    throw Error(ErrorCategory::internal,
                fmt::format("{}: the operation declares a strategy but has no analysis", step.label));
  Fanned fanned;
  {
    MaybeScope apply_scope(context.monitor, "apply");
    fanned = analysis->fan_out(current, context);
    if (fanned.empty()) current = analysis->apply(current, context);
  }
  if (context.strategies) {
    std::string line = fmt::format("{}: {}", step.label, how);
    if (const std::string summary = analysis->summary(); !summary.empty()) line += ", " + summary;
    context.strategies->push_back(std::move(line));
  }
  report.strategy = std::string(to_string(plan.strategy));
  report.analysed_width = plan.analysis_size.width;
  report.analysed_height = plan.analysis_size.height;
  report.summary = analysis->summary();
  for (auto& [name, value] : analysis->values())
    if (!report.value(name)) report.values.emplace_back(std::move(name), value);  // complexity: once
  if (context.monitor)  // on the step's scope, still open here
    for (const auto& [name, value] : report.values) context.monitor->note(name, value);
  if (context.analyses) context.analyses->push_back(std::move(report));
  return fanned;
}

}  // namespace

std::vector<Variant> Chain::run_from(std::size_t first, const Image& input, const std::string& name,
                                     const Context& context, bool fuse_point_ops) const {
  Image current = input;
  for (std::size_t i = first; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    check_before(context, step);
    if (!plan::is_analysis_step(step)) {
      const Device device = plan::step_device(step, context, current.pixels.size(), current.pixels.channels(),
                                              current.pixels.depth());
      if (device != Device::cpu) {
        i += run_device_steps(steps_, i, current, device, context) - 1;
        continue;
      }
    }
    if (fuse_point_ops) {
      if (std::size_t count = run_local_steps(std::span(steps_).subspan(i), current, context)) {
        i += count - 1;
        continue;
      }
    }
    // Only the last step may leave pixels out (Context::indexed_output); earlier ones feed
    // steps that read them.
    Context step_context = context;
    step_context.indexed_output = context.indexed_output && i + 1 == steps_.size();
    Fanned fanned;
    if (plan::is_analysis_step(step)) {
      // An analysis applies its result on the step's device itself (palette on CUDA); the runs
      // it records get the step's number here.
      if (step.device != Device::automatic) step_context.device = step.device;
      const std::size_t runs_before = context.device_runs ? context.device_runs->size() : 0;
      fanned = run_analysis(step, i, current, step_context);
      if (context.device_runs)
        for (std::size_t r = runs_before; r < context.device_runs->size(); ++r)
          (*context.device_runs)[r].first_step = (*context.device_runs)[r].last_step =
              static_cast<int>(i + 1);
    } else {
      MaybeScope scope(context.monitor, step.label);
      fanned = step.operation->fan_out(current, step_context);
      if (fanned.empty()) current = step.operation->apply_owned(std::move(current), step_context);
    }
    if (!fanned.empty()) {
      // Each variant runs the rest of the chain; names join with '-' ("sunset", "sunset-2x2").
      std::vector<Variant> out;
      for (auto& [variant, image] : fanned) {
        auto rest =
            run_from(i + 1, image, name.empty() ? variant : name + "-" + variant, context, fuse_point_ops);
        for (auto& v : rest) out.push_back(std::move(v));
      }
      return out;
    }
  }
  return {Variant{name, std::move(current)}};
}

std::vector<Variant> Chain::run_variants(const Image& input, const Context& context,
                                         bool fuse_point_ops) const {
  if (input.empty()) throw Error(ErrorCategory::internal, "chain: the input image is empty");
  require_device(context.device);
  for (const Step& step : steps_) require_device(step.device);
  auto body = [&] { return run_from(0, input, "", context, fuse_point_ops); };
  if (context.threads <= 0) return body();
  tbb::task_arena arena(context.threads);
  return arena.execute(body);
}

Image Chain::run(const Image& input, const Context& context, bool fuse_point_ops) const {
  auto variants = run_variants(input, context, fuse_point_ops);
  if (variants.size() != 1)
    throw Error(ErrorCategory::config,
                fmt::format("the chain makes {} variants of each image; run it with run_variants() (the CLI "
                            "writes one file per variant)",
                            variants.size()));
  return std::move(variants.front().image);
}

std::string Chain::canonical() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const Step& step : steps_) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, value] : step.params.values()) params[name] = detail::to_json(value);
    // The contents of the files it read, under a key no parameter can have.
    if (const std::string digest = step.operation->resources_digest(); !digest.empty())
      params["#files"] = digest;
    // A device gives the same pixels within the tolerance docs/acceleration.md states, not
    // always the same bits: part of the key.
    if (step.device != Device::automatic) params["#device"] = std::string(to_string(step.device));
    steps.push_back({{step.descriptor->name, params}});
  }
  return steps.dump();
}

}  // namespace imgpipe

namespace imgpipe {

std::filesystem::path variant_path(const std::filesystem::path& output, const std::string& variant) {
  if (variant.empty()) return output;
  std::string name = output.filename().string();
  const std::string marker = "{variant}";
  if (auto at = name.find(marker); at != std::string::npos)
    return output.parent_path() / name.replace(at, marker.size(), variant);
  return output.parent_path() / (output.stem().string() + "-" + variant + output.extension().string());
}

LoadOptions ChainFile::load_options() const {
  LoadOptions options;
  options.min_size = [this](cv::Size upright) { return chain.min_decode_size(upright, context.quality); };
  return options;
}

}  // namespace imgpipe
