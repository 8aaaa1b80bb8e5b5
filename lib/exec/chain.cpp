// Running a chain: steps in order, consecutive point operations fused into one pass, each
// step timed under the context's monitor, all inside a TBB arena of the context's threads.

#include <imgpipe/chain.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/monitor.hpp>

#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tbb/task_arena.h>

#include "../ops/point_program.hpp"
#include "../ops/value_json.hpp"

namespace imgpipe {

Chain& Chain::then(std::string_view op, const ParamList& params) {
  const OpDescriptor& descriptor = Registry::global().at(op);
  std::map<std::string, Value, std::less<>> given;
  for (const auto& [name, value] : params) {
    if (given.count(name))
      throw Error(ErrorCategory::config, fmt::format("{}: parameter '{}' given twice", op, name));
    given[name] = value;
  }
  return then(descriptor, validate_params(descriptor, given));
}

Chain& Chain::then(const OpDescriptor& descriptor, const Params& params) {
  Step step;
  step.descriptor = &descriptor;
  step.params = params;
  step.operation = descriptor.create(params);
  step.label = fmt::format("step {}: {}", steps_.size() + 1, descriptor.name);
  steps_.push_back(std::move(step));
  return *this;
}

cv::Size Chain::min_decode_size(cv::Size input, QualityPreset quality) const {
  // Exact at ultra; otherwise decode at no less than the size the first step resamples to
  // (twice that at high), which the step then finishes with its own kernel.
  if (steps_.empty() || quality == QualityPreset::ultra) return {0, 0};
  const Step& first = steps_.front();
  if (first.descriptor->name != "resize") return {0, 0};
  auto target = first.operation->resampled_size(input);
  if (!target || target->width >= input.width || target->height >= input.height) return {0, 0};
  const int margin = quality == QualityPreset::high ? 2 : 1;
  return {target->width * margin, target->height * margin};
}

namespace {

Image run_program(const PointProgram& program, const Image& input) {
  cv::Mat out;
  program.run(input.pixels, out);
  return input.with_pixels(out);
}

}  // namespace

namespace {

// Every operation runs on the CPU today, so `auto` means the CPU. An explicit accelerator
// is refused rather than silently ignored: a user who asks for a GPU should know.
void check_device(Device device) {
  if (device == Device::opencl || device == Device::cuda)
    throw Error(ErrorCategory::device,
                fmt::format("device {}: no operation has a {} path in this build; use device: auto or cpu",
                            to_string(device), to_string(device)));
}

}  // namespace

std::vector<Variant> Chain::run_from(std::size_t first, const Image& input, const std::string& name,
                                     const Context& context, bool fuse_point_ops) const {
  Image current = input;
  std::optional<PointProgram> pending;
  std::string pending_label;
  auto flush = [&] {
    if (!pending) return;
    MaybeScope scope(context.monitor, pending_label);
    if (!pending->empty()) current = run_program(*pending, current);
    pending.reset();
  };
  for (std::size_t i = first; i < steps_.size(); ++i) {
    const Step& step = steps_[i];
    if (fuse_point_ops && step.descriptor->footprint == Footprint::point) {
      PointProgram stages(current.channels(), current.pixels.depth());
      if (step.operation->append_point_stages(stages, current.channels(), current.pixels.depth())) {
        if (!pending) {
          pending.emplace(current.channels(), current.pixels.depth());
          pending_label = step.label;
        } else {
          pending_label += " + " + step.descriptor->name;
        }
        pending->append(stages);
        continue;
      }
    }
    flush();
    std::vector<std::pair<std::string, Image>> fanned;
    {
      MaybeScope scope(context.monitor, step.label);
      fanned = step.operation->fan_out(current, context);
      if (fanned.empty()) current = step.operation->apply(current, context);
    }
    if (!fanned.empty()) {
      // Each variant runs the rest of the chain; names join with '-' ("sunset", "sunset-2x2").
      std::vector<Variant> out;
      for (auto& [variant, image] : fanned) {
        auto rest = run_from(i + 1, image, name.empty() ? variant : name + "-" + variant, context, fuse_point_ops);
        for (auto& v : rest) out.push_back(std::move(v));
      }
      return out;
    }
  }
  flush();
  return {Variant{name, std::move(current)}};
}

std::vector<Variant> Chain::run_variants(const Image& input, const Context& context, bool fuse_point_ops) const {
  if (input.empty()) throw Error(ErrorCategory::internal, "chain: the input image is empty");
  check_device(context.device);
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
  if (auto at = name.find(marker); at != std::string::npos) return output.parent_path() / name.replace(at, marker.size(), variant);
  return output.parent_path() / (output.stem().string() + "-" + variant + output.extension().string());
}

LoadOptions ChainFile::load_options() const {
  LoadOptions options;
  options.min_size = [this](cv::Size upright) { return chain.min_decode_size(upright, context.quality); };
  return options;
}

std::optional<Format> ChainFile::format_for(const std::filesystem::path& target) const {
  if (auto by_extension = format_from_path(target)) return by_extension;
  if (output_format_set) return output.format;
  return std::nullopt;
}

}  // namespace imgpipe
