#include "planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>

#include "../ops/analysis/complexity.hpp"
#include "../ops/analysis/strategy.hpp"

namespace imgpipe::plan {

namespace {

int long_side(cv::Size size) {
  return std::max(size.width, size.height);
}

// `image` scaled so its long side is `side`, aspect kept (each side >= 1).
cv::Size shrunk_to(cv::Size image, int side) {
  const double scale = static_cast<double>(side) / long_side(image);
  const auto scaled = [&](int length) { return std::max(1, static_cast<int>(std::lround(length * scale))); };
  return {scaled(image.width), scaled(image.height)};
}

}  // namespace

bool is_analysis_step(const Step& step) {
  return step.descriptor && step.descriptor->footprint == Footprint::global &&
         step.descriptor->find_param(ops::kStrategyParam) != nullptr;
}

int analysis_side(const Step& step, QualityPreset quality) {
  if (is_analysis_step(step) && step.descriptor->find_param(ops::kAnalysisSizeParam)) {
    if (const auto given = step.params.optional_integer(ops::kAnalysisSizeParam); given && *given > 0)
      return static_cast<int>(*given);
  }
  switch (quality) {
    case QualityPreset::draft: return 256;
    case QualityPreset::fast: return 384;
    case QualityPreset::balanced: return 512;
    case QualityPreset::high:
    case QualityPreset::ultra: return 1024;
  }
  return 512;
}

Strategy choose_strategy(const Step& step, cv::Size image, QualityPreset quality,
                         const PlanThresholds& thresholds) {
  if (!is_analysis_step(step)) return Strategy::direct;
  if (const auto forced = parse_strategy(step.params.text(ops::kStrategyParam))) return *forced;
  if (quality == QualityPreset::ultra) return Strategy::direct;
  const int side = long_side(image);
  if (side < thresholds.direct_below) return Strategy::direct;
  if (side <= analysis_side(step, quality)) return Strategy::direct;
  return side > thresholds.pyramid_above ? Strategy::pyramid : Strategy::scaled;
}

cv::Size analysis_size(const Step& step, cv::Size image, Strategy strategy, QualityPreset quality) {
  const int side = long_side(image);
  const int target = analysis_side(step, quality);
  if (strategy == Strategy::direct || target >= side) return image;
  return shrunk_to(image, target);
}

AnalysisPlan plan_step(const Step& step, cv::Size image, QualityPreset quality,
                       const PlanThresholds& thresholds) {
  AnalysisPlan plan;
  plan.strategy = choose_strategy(step, image, quality, thresholds);
  plan.full_size = image;
  plan.analysis_size = analysis_size(step, image, plan.strategy, quality);
  return plan;
}

bool follows_rules(const Step& step) {
  if (!is_analysis_step(step) || !step.operation->follows_complexity_rules()) return false;
  if (parse_strategy(step.params.text(ops::kStrategyParam))) return false;
  const auto given = step.params.optional_integer(ops::kAnalysisSizeParam);
  return !given || *given == 0;
}

AnalysisPlan apply_rules(const Step& step, AnalysisPlan plan, double complexity, QualityPreset quality) {
  plan.complexity = complexity;
  if (plan.strategy == Strategy::direct) return plan;
  if (plan.strategy == Strategy::pyramid && !ops::rules::keeps_pyramid(complexity))
    plan.strategy = Strategy::scaled;
  const int image_side = long_side(plan.full_size);
  const int side = ops::rules::rule_analysis_side(analysis_side(step, quality), image_side, complexity);
  if (side >= image_side) return {Strategy::direct, plan.full_size, plan.full_size, complexity};
  plan.analysis_size = shrunk_to(plan.full_size, side);
  return plan;
}

std::string describe(const AnalysisPlan& plan) {
  if (plan.strategy == Strategy::direct) return "direct";
  return fmt::format("{} {}x{}", to_string(plan.strategy), plan.analysis_size.width,
                     plan.analysis_size.height);
}

bool auto_offloads(const Step& step, cv::Size image) {
  if (static_cast<double>(image.area()) < kAutoDevicePixels) return false;
  const std::string& name = step.descriptor->name;
  return name == "gaussian_blur" || name == "sharpen" || name == "resize";
}

Device step_device(const Step& step, const Context& context, cv::Size image, int channels, int depth) {
  const Device asked = step.device != Device::automatic ? step.device : context.device;
  if (asked == Device::cpu) return Device::cpu;
  if (asked == Device::opencl || asked == Device::cuda)
    return step.operation->runs_on(asked, channels, depth, context.quality) ? asked : Device::cpu;
  // auto: CUDA, and only for a heavy step on a large image (planner.hpp).
  if (!auto_offloads(step, image) || !step.operation->runs_on(Device::cuda, channels, depth, context.quality))
    return Device::cpu;
  return device_status(Device::cuda).usable ? Device::cuda : Device::cpu;
}

}  // namespace imgpipe::plan
