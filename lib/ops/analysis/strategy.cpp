// Strategy names and the parameters shared by the analysis operations.

#include "strategy.hpp"

#include <fmt/format.h>

#include "../spec.hpp"

namespace imgpipe {

std::string_view to_string(Strategy strategy) noexcept {
  switch (strategy) {
    case Strategy::direct: return "direct";
    case Strategy::scaled: return "scaled";
    case Strategy::pyramid: return "pyramid";
  }
  return "direct";
}

std::optional<Strategy> parse_strategy(std::string_view text) noexcept {
  for (const Strategy s : {Strategy::direct, Strategy::scaled, Strategy::pyramid})
    if (text == to_string(s)) return s;
  return std::nullopt;
}

}  // namespace imgpipe

namespace imgpipe::ops {

ParamSpec strategy_spec(std::string_view what_pyramid_does) {
  return spec::choice(
      std::string(kStrategyParam), "auto", {"auto", "direct", "scaled", "pyramid"},
      fmt::format("How the analysis runs: auto (chosen from the image's long side and the quality "
                  "preset, see yaml.md), direct (on the image itself), scaled (on a copy shrunk to "
                  "analysis_size, the result applied at full resolution), pyramid ({}).",
                  what_pyramid_does));
}

ParamSpec analysis_size_spec() {
  return spec::integer(
      std::string(kAnalysisSizeParam), 0, 0, kMaxAnalysisSize,
      fmt::format("Long side of the reduced copy that scaled and pyramid analyse; 0 = from the "
                  "quality preset (draft 256, fast 384, balanced 512, high 1024); else at least {}.",
                  kMinAnalysisSize));
}

std::string check_analysis_params(const Params& params, std::string_view op) {
  const auto size = params.integer(kAnalysisSizeParam);
  if (size > 0 && size < kMinAnalysisSize)
    return fmt::format("{}.{}: expected 0 (from the quality preset) or {}..{}, got {}", op,
                       kAnalysisSizeParam, kMinAnalysisSize, kMaxAnalysisSize, size);
  return "";
}

}  // namespace imgpipe::ops
