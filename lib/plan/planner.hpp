#pragma once
// The resolution-aware planner: for each whole-image analysis step (palette,
// remove_background, complexity) on an image of a given size, whether it analyses the image
// itself (direct), a copy shrunk to the analysis size (scaled), or that copy plus a
// full-resolution pass over the pixels the reduced result is unsure of (pyramid).
//
// Decisions, in order:
//   1. Steps that are not analysis steps — point, neighbourhood and geometry steps, and
//      whole-image steps without a `strategy` parameter — always run direct.
//   2. A step's own `strategy` (anything but auto) wins.
//   3. The ultra preset runs every analysis direct.
//   4. By the image's long side L: L < direct_below → direct; L > pyramid_above → pyramid;
//      otherwise scaled (PlanThresholds: 800 and 2000 unless configured).
//   5. An analysis copy would be no smaller than the image (L <= the analysis side) → direct.
// The analysis copy's long side is the step's `analysis_size`, or by preset: draft 256,
// fast 384, balanced 512, high 1024 — the sizes at which each preset's analyses were tuned
// (remove_background's grabCut budget, the palette histogram's sample count).

#include <imgpipe/context.hpp>
#include <imgpipe/operation.hpp>
#include <opencv2/core/types.hpp>
#include <string>

namespace imgpipe::plan {

// A whole-image step whose descriptor declares the `strategy` parameter.
bool is_analysis_step(const Step& step);

Strategy choose_strategy(const Step& step, cv::Size image, QualityPreset quality,
                         const PlanThresholds& thresholds);

// The long side of the analysis copy for scaled and pyramid: the step's analysis_size, or the
// preset's (ultra, which never scales unless forced, uses high's).
int analysis_side(const Step& step, QualityPreset quality);

// The size analyse() gets: the image's for direct (and when the analysis side is not smaller
// than the image), else the image shrunk to the analysis side, aspect kept (each side >= 1).
cv::Size analysis_size(const Step& step, cv::Size image, Strategy strategy, QualityPreset quality);

AnalysisPlan plan_step(const Step& step, cv::Size image, QualityPreset quality,
                       const PlanThresholds& thresholds);

// "direct", "scaled 512x341", "pyramid 512x288": for labels and reports.
std::string describe(const AnalysisPlan& plan);

// Where a chain runs: every operation runs on the CPU today, so `auto` means the CPU. An
// explicit accelerator is refused (Error(config), as the chain file's setting is) rather than
// silently ignored: a user who asks for a GPU should know.
void check_device(Device device);

}  // namespace imgpipe::plan
