#pragma once
// The region engine's one description of work: runs of local steps.
//
// A local step computes each output pixel from a bounded window of input pixels: a point
// step (window 1x1), or a neighbourhood step whose halo() is bounded. Consecutive local steps
// form a run; inside it consecutive point steps with PointProgram stages are fused into one
// pass, and the run's halo is the sum of its steps'. Every schedule — the whole image, TBB
// tiles (tiled.hpp), libvips regions (stream.cpp) — plans runs here and computes regions with
// compute_region(), so fusion and halo arithmetic exist once. Geometry steps bring their own
// region form (Operation::region_map); whole-image steps run on whole images.

#include <cstddef>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/operation.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe {
class PointProgram;
}

namespace imgpipe::exec {

struct PixelLayout {
  int channels = 3;
  int depth = CV_8U;
  int type() const { return CV_MAKETYPE(depth, channels); }
  static PixelLayout of(const cv::Mat& pixels) { return {pixels.channels(), pixels.depth()}; }
  bool operator==(const PixelLayout&) const = default;
};

// One piece of a run: fused point stages, a step's own apply(), or (streaming) the pointwise
// result of an analysis step, filled in once the step has been analysed.
struct Piece {
  std::shared_ptr<const PointProgram> program;
  const Step* step = nullptr;
  const Analysis* analysis = nullptr;
  int halo = 0;
};

struct LocalRun {
  std::vector<Piece> pieces;
  std::size_t steps = 0;  // chain steps covered, from the first
  int halo = 0;           // what the run reads around an output region
  PixelLayout in, out;
  std::string label;  // "step 2: adjust_colors + gaussian_blur", for the profile

  // Only point stages that change nothing: the input is the result, as it is.
  bool changes_nothing() const;
};

// Whether a step is an analysis step that the streaming schedule may run inside a run: its
// analysis applies pixel by pixel and it makes one image.
bool streams_analysis(const Step& step);

// The longest run of local steps at the front of `steps` for pixels of `layout`; steps == 0
// when the first step is not local. Analysis steps join only when `with_analyses`,
// streams_analysis() and only point steps come before them in the run; each such piece needs
// its `analysis` set before the run computes.
// The layout after a step that runs through apply() is found by running it on a 3x3 image.
LocalRun plan_local_run(std::span<const Step> steps, PixelLayout layout, const Context& context,
                        bool with_analyses = false);

// Computes the region `want` (image coordinates) of the run's output into `out` (want's size,
// the run's output layout; written in place). `source` holds the input pixels of
// `source_rect`, which must contain `want` grown by the run's halo and cut at the image's
// edges, so each kernel extrapolates borders only where the whole-image run does. After each
// piece the region shrinks to what the remaining pieces still read. `metadata` gives what
// the pieces see besides pixels (source name, orientation, measures).
void compute_region(const LocalRun& run, const cv::Mat& source, cv::Rect source_rect, cv::Rect want,
                    cv::Size image, const Image& metadata, const Context& context, cv::Mat& out);

// `rect` grown by `halo` on each side, cut at the image's edges.
cv::Rect grow(cv::Rect rect, int halo, cv::Size image);

// Where a run may stop cleanly (between steps, tiles or streamed regions): Error(cancelled)
// after a stop request on context.cancel, Error(timeout) past context.deadline, saying
// "[<source>: ]cancelled <when><label>" or "... time limit reached <when><label>".
void check_continue(const Context& context, std::string_view source, std::string_view when,
                    std::string_view label = {});

}  // namespace imgpipe::exec
