#pragma once
#include <imgpipe/operation.hpp>

namespace imgpipe::ops {

// Adds every built-in operation to the registry. Each operation's file defines its own
// register_* function; this list is the only place that names them all.
void register_builtin(Registry& registry);

void register_resize(Registry&);
void register_crop(Registry&);
void register_rotate(Registry&);
void register_flip(Registry&);
void register_auto_orient(Registry&);
void register_adjust_colors(Registry&);
void register_grayscale(Registry&);
void register_gaussian_blur(Registry&);
void register_sharpen(Registry&);
void register_edges(Registry&);
void register_border(Registry&);
void register_watermark(Registry&);
void register_palette(Registry&);
void register_enhanced_bw(Registry&);
void register_pop_art(Registry&);
void register_remove_background(Registry&);
void register_vectorize(Registry&);
void register_dither(Registry&);
void register_complexity(Registry&);

}  // namespace imgpipe::ops
