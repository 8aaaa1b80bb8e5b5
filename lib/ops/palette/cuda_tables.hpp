#pragma once
// The host tables the CUDA plugin's palette functions take (imgpipe_cuda_palette_assign and
// imgpipe_cuda_palette_apply), filled from the CPU's own data so that the device reads the
// numbers assign() and Clustering::apply() read.

#include <cstdint>
#include <imgpipe/palette.hpp>
#include <vector>

#include "../../cuda/imgpipe_cuda.h"

namespace imgpipe {

// What assign() at `quality` assigns the pixels with: the centres as float L, a, b (as assign()
// narrows them), LabConverter's tables, and the exact linear-light table where the preset
// converts exactly (ultra; else null). Pointers into static tables.
struct CudaAssignTables {
  std::vector<float> centres;
  imgpipe_cuda_lab_tables lab{};
  const double* exact_linear = nullptr;
};
CudaAssignTables cuda_assign_tables(const Clustering& clustering, QualityPreset quality);

// What Clustering::apply(palette, options) recolours with: the colour table (also as RGBA
// bytes), the centres' colours as RGBA bytes, and the options as the plugin takes them.
struct CudaApplyTables {
  std::vector<Colour> table;  // Clustering::colour_table()
  std::vector<std::uint8_t> colours, centres;
  int preserve_shading = 0;
  int mask_mode = 0;  // 0 keep, 1 transparent, 2 fill
  std::uint8_t fill[4] = {};
};
CudaApplyTables cuda_apply_tables(const Clustering& clustering, const Palette& palette,
                                  const ApplyOptions& options);

}  // namespace imgpipe
