#include "tiled.hpp"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <imgpipe/error.hpp>

namespace imgpipe::exec {

int tile_side(const LocalRun& run, cv::Size size, const Context& context) {
  if (context.tile_size <= 0) return 0;
  const int side = std::max(context.tile_size, 4 * run.halo);
  if (size.width <= side && size.height <= side) return 0;
  return side;
}

Image run_tiled(const LocalRun& run, const Image& input, int tile, const Context& context) {
  if (run.pieces.empty() || tile <= 0)
    throw Error(ErrorCategory::internal, "tiled run: no steps or no tile size");
  // Adjustments that change nothing leave the image as it is, as the whole-image run does
  // (which keeps, for instance, a palette image's indices for its encoder).
  if (run.changes_nothing()) return input;
  const cv::Size size = input.pixels.size();
  cv::Mat output(size, run.out.type());
  const int columns = (size.width + tile - 1) / tile;
  const int rows = (size.height + tile - 1) / tile;
  tbb::parallel_for(0, columns * rows, [&](int index) {
    // Several steps run tile by tile as one: the deadline and a stop request are checked
    // between tiles, as a step-by-step run checks them between steps.
    check_continue(context, {}, "during ", run.label);
    const int x = index % columns * tile, y = index / columns * tile;
    const cv::Rect want(x, y, std::min(tile, size.width - x), std::min(tile, size.height - y));
    const cv::Rect region = grow(want, run.halo, size);
    cv::Mat target = output(want);
    // A view, not a copy: the first pass reads the input where it is and writes elsewhere.
    compute_region(run, input.pixels(region), region, want, size, input, context, target);
  });
  return input.with_pixels(output);
}

}  // namespace imgpipe::exec
