#include "builtin.hpp"

namespace imgpipe::ops {

void register_builtin(Registry& registry) {
  register_resize(registry);
  register_crop(registry);
  register_rotate(registry);
  register_flip(registry);
  register_auto_orient(registry);
  register_adjust_colors(registry);
  register_grayscale(registry);
  register_gaussian_blur(registry);
  register_sharpen(registry);
  register_edges(registry);
  register_border(registry);
  register_watermark(registry);
  register_palette(registry);
  register_enhanced_bw(registry);
  register_pop_art(registry);
  register_remove_background(registry);
  register_vectorize(registry);
  register_dither(registry);
  register_complexity(registry);
}

}  // namespace imgpipe::ops
