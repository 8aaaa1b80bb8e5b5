#pragma once
// The tiled schedule: a run of local steps (region.hpp) computed tile by tile in parallel into
// one output image.
//
// Each output tile is computed from its input region grown by the run's halo (cut at the
// image's edges, so border extrapolation happens only at the real border, as in a
// whole-image run). A tile's intermediate images stay in cache, which is what makes a blur
// followed by a sharpen cheaper than two passes over the whole image.

#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <opencv2/core/types.hpp>

#include "region.hpp"

namespace imgpipe::exec {

// The side of the square tiles in which `run` computes an image of `size`: the context's
// tile_size, widened to four times the run's halo so that recomputing halos costs at most
// (1.5)^2 the work. 0 when the image fits in one tile (or tile_size is not positive): then
// the run computes the whole image at once.
int tile_side(const LocalRun& run, cv::Size size, const Context& context);

// Computes `run` over `input` in tiles of `tile` x `tile` pixels, in parallel. The result has
// the input's metadata, like the steps run one by one.
Image run_tiled(const LocalRun& run, const Image& input, int tile, const Context& context);

}  // namespace imgpipe::exec
