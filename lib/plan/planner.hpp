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

// Whether the complexity rules R2 and R4 (lib/ops/analysis/complexity.hpp) may change this
// step's plan: an analysis step whose operation follows them (Operation::follows_complexity_rules)
// and whose chain left both `strategy` and `analysis_size` to the planner.
bool follows_rules(const Step& step);

// `plan` (from plan_step) after R4 (a flat image runs scaled, not pyramid) and R2 (the analysis
// side scaled by the complexity; direct when that side reaches the image's own).
AnalysisPlan apply_rules(const Step& step, AnalysisPlan plan, double complexity, QualityPreset quality);

// "direct", "scaled 512x341", "pyramid 512x288": for labels and reports.
std::string describe(const AnalysisPlan& plan);

// Devices (docs/acceleration.md). Where `step` runs on an image of the given size and layout:
//   1. the step's own device, else the chain's (Context::device);
//   2. cpu runs on the CPU; opencl or cuda run there when the operation has a path for the
//      layout (Operation::runs_on), else on the CPU;
//   3. auto runs a step on CUDA only when a CUDA device is usable, the operation has a CUDA path,
//      the step is one whose CPU time outweighs the two copies (auto_offloads) and the image has
//      at least kAutoDevicePixels; never on OpenCL: OpenCV 4.6 takes its fast OpenCL filter
//      paths on Intel GPUs only and copies every image to and from a discrete GPU, and on PoCL
//      (OpenCL on the CPU) every operation measured slower than the CPU path
//      (docs/acceleration.md has the figures). auto never loads a device's runtime for smaller
//      images or lighter steps, so an ordinary run starts no faster or slower than without it.
Device step_device(const Step& step, const Context& context, cv::Size image, int channels, int depth);

// The pixels from which auto sends a heavy step to CUDA: 4096x2048 RGB is 25 MB each way, about
// 2 ms per copy over PCIe 4 x16 (pinned), against ~60 ms for a sigma 2 blur of it on two cores
// here and a few ms on 16; below 8 MP the copies' fixed costs and a CPU with many cores leave
// too little to gain. A model, not yet a measurement on a GPU (docs/acceleration.md).
inline constexpr double kAutoDevicePixels = 8.0e6;
// Whether `step` is one auto sends to CUDA on an image of this size: blur, sharpen and resize,
// whose CPU time per pixel is several times a copy's.
bool auto_offloads(const Step& step, cv::Size image);

}  // namespace imgpipe::plan
