#pragma once
// The point stages of adjust_colors (adjust_colors.cpp), for code that builds a PointProgram
// the way the operation does.

#include <imgpipe/kernels/colour.hpp>

#include "../point_program.hpp"

namespace imgpipe::ops {

// Appends the stages of one adjustment to `program`: a tone table for brightness, contrast and
// gamma, then a matrix for saturation and hue (three colour channels only); parts that change
// nothing add none.
void append_stages(PointProgram& program, const kernels::AdjustColorsOptions& o);

}  // namespace imgpipe::ops
