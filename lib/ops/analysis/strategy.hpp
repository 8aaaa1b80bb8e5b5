#pragma once
// The two parameters every analysis operation declares, so that the planner (lib/plan/) can
// find them by name on any step: `strategy` (auto, or one forced) and `analysis_size` (the
// reduced copy's long side; 0 = from the quality preset).

#include <imgpipe/operation.hpp>
#include <imgpipe/params.hpp>
#include <string>
#include <string_view>

namespace imgpipe::ops {

inline constexpr std::string_view kStrategyParam = "strategy";
inline constexpr std::string_view kAnalysisSizeParam = "analysis_size";
inline constexpr int kMinAnalysisSize = 64;
inline constexpr int kMaxAnalysisSize = 8192;

// `strategy: auto|direct|scaled|pyramid`; `what_pyramid_does` says what pyramid means for
// this operation.
ParamSpec strategy_spec(std::string_view what_pyramid_does);
ParamSpec analysis_size_spec();

// "" or what is wrong with the two parameters (analysis_size 1..63 is too small to analyse).
std::string check_analysis_params(const Params& params, std::string_view op);

}  // namespace imgpipe::ops
