#pragma once
// The complexity measure and the rules by which it and the image's size choose what an
// analysis step does when the chain leaves the choice to it (docs/quality.md, "Complexity
// rules"). Each rule is one function here, so the code that follows a rule and the tests that
// check it use the same numbers.
//
// complexity(): how much there is to see in an image, 0 (one flat colour) to 1 (noise): the
// mean of its edge density (pixels whose luma gradient is at least that of a step of 12 levels
// in 255, about 5 % contrast) and its colour entropy (Shannon entropy of a 16-level-per-channel
// histogram over the most the image could have). Always measured on a thumbnail of at most
// kComplexitySide pixels (complexity_thumbnail()), so the value of a photo hardly depends on
// its size or on the preset's analysis size; about a millisecond in all for a 12 MP photo.
//
// The rules (c = complexity). R2 to R4 apply to an analysis step whose operation follows them
// (Operation::follows_complexity_rules) when the chain leaves its strategy and analysis size to
// the planner; the executor measures c first (lib/plan/planner.hpp, apply_rules).
//   R1 `k: auto` (palette, vectorize): the number of colours is the elbow of the clustering
//      error over k = 2..auto_k_max(c), where auto_k_max(c) = clamp(round(4 + 12 c), 4, 16): an
//      image with little in it (a logo, a flat illustration: c < 0.2) gets at most 6 colours, a
//      busy photo (c > 0.8) up to 16.
//   R2 analysis resolution (remove_background): the preset's analysis side times
//      analysis_scale(c): 0.75 for flat images (c < 0.3: large areas of one colour lose nothing
//      at a smaller size), 1.5 for busy ones (c > 0.6: fine structure decides the result), 1
//      between; at least kMinRuleSide (or the preset's side when smaller), at most kMaxRuleSide,
//      direct when it reaches the image's own long side.
//   R3 sampling density (palette): the colour histogram samples the full image on a grid whose
//      step is the image's long side over the side R2 gives, so a busy image is sampled 2.25
//      times as densely as at the preset's side and a flat one 0.56 times.
//   R4 algorithm (remove_background, palette): an image with c below kPyramidMinComplexity that
//      the planner would run as pyramid runs scaled: its mask has few edges for the
//      full-resolution pass to decide again.

#include <opencv2/core/mat.hpp>

namespace imgpipe::ops {

inline constexpr int kComplexitySide = 256;

// The thumbnail the rules measure: `pixels` as they are when no larger than kComplexitySide,
// else every s-th pixel of each row and column (s = long side / (2 kComplexitySide), rounded
// down; all of them when s < 2) shrunk by area averaging to kComplexitySide on its long side.
cv::Mat complexity_thumbnail(const cv::Mat& pixels);
// The complexity of `pixels` (any layout imgpipe uses; alpha ignored), measured on
// complexity_thumbnail(pixels).
double complexity(const cv::Mat& pixels);

namespace rules {

inline constexpr double kFlatComplexity = 0.3;         // below: R2 shrinks the analysis
inline constexpr double kBusyComplexity = 0.6;         // above: R2 enlarges it
inline constexpr double kPyramidMinComplexity = 0.25;  // below: R4 runs scaled, not pyramid
inline constexpr int kMinRuleSide = 256;
inline constexpr int kMaxRuleSide = 2048;

int auto_k_max(double complexity);                                           // R1
double analysis_scale(double complexity);                                    // R2
int rule_analysis_side(int preset_side, int image_side, double complexity);  // R2, R3
bool keeps_pyramid(double complexity);                                       // R4

}  // namespace rules

}  // namespace imgpipe::ops
