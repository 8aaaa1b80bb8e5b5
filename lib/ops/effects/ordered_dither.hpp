#pragma once
// An ordered (Bayer) dithering's tables as the CUDA plugin's imgpipe_cuda_dither_ordered takes
// them, filled from the plan kernels::dither builds for the same options (dither.cpp), so that
// the device reads the numbers the CPU reads.

#include <imgpipe/kernels/dither.hpp>
#include <memory>

#include "../../cuda/imgpipe_cuda.h"

namespace imgpipe::kernels {

struct OrderedDitherTables {
  imgpipe_cuda_ordered_dither plan{};   // host pointers into `storage`
  std::shared_ptr<const void> storage;  // the plan and the thresholds, kept while `plan` is used
};

// The tables for `options`, whose method is bayer2, bayer4 or bayer8. Throws Error(config) for
// the options dither() refuses.
OrderedDitherTables ordered_dither_tables(const DitherOptions& options);

}  // namespace imgpipe::kernels
