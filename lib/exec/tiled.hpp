#pragma once
// Tiled execution: a run of consecutive steps whose output pixels each depend on a bounded
// window of input pixels (point operations and fixed-window filters), computed tile by tile
// in parallel into one output image.
//
// Each output tile is computed from its input region grown by the sum of the steps' halos
// (cut at the image's edges, so border extrapolation happens only at the real border, as in
// a whole-image run); after each step the region shrinks by that step's halo. Consecutive
// point steps run as one PointProgram pass per tile. A tile's intermediate images stay in
// cache, which is what makes a blur followed by a sharpen cheaper than two passes over the
// whole image.

#include <cstddef>
#include <span>

#include <opencv2/core/types.hpp>

#include <imgpipe/chain.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>

namespace imgpipe::exec {

// How many steps from the front of `steps` can run tiled on an image of the given channel
// count and depth (0 when the first cannot): point operations that are tileable() or have
// PointProgram stages for the image, and tileable() neighbourhood operations. Geometry and
// whole-image operations never can.
std::size_t tileable_steps(std::span<const Step> steps, int channels, int depth);

// The side of the square tiles in which `steps` run on an image of `size`: the context's
// tile_size, widened to four times the steps' summed halo so that recomputing halos costs at
// most (1.5)^2 the work. 0 when the image fits in one tile (or tile_size is not positive):
// then the steps run whole.
int tile_side(std::span<const Step> steps, cv::Size size, const Context& context);

// Runs `steps` (all tileable, see tileable_steps()) over `input` in tiles of `tile` x `tile`
// pixels, in parallel. The result has the input's metadata, like the steps run one by one.
Image run_tiled(std::span<const Step> steps, const Image& input, int tile, const Context& context);

}  // namespace imgpipe::exec
