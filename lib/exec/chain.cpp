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

Image Chain::run(const Image& input, const Context& context, bool fuse_point_ops) const {
  if (input.empty()) throw Error(ErrorCategory::internal, "chain: the input image is empty");
  auto body = [&] {
    Image current = input;
    std::optional<PointProgram> pending;
    std::string pending_label;
    auto flush = [&] {
      if (!pending) return;
      MaybeScope scope(context.monitor, pending_label);
      if (!pending->empty()) current = run_program(*pending, current);
      pending.reset();
    };
    for (const Step& step : steps_) {
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
      MaybeScope scope(context.monitor, step.label);
      current = step.operation->apply(current, context);
    }
    flush();
    return current;
  };
  if (context.threads <= 0) return body();
  tbb::task_arena arena(context.threads);
  return arena.execute(body);
}

std::string Chain::canonical() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const Step& step : steps_) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [name, value] : step.params.values()) params[name] = value.to_text();
    steps.push_back({{step.descriptor->name, params}});
  }
  return steps.dump();
}

}  // namespace imgpipe

namespace imgpipe {

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
