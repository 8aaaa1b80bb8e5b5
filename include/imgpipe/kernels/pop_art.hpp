#pragma once
/// \file
/// Pop art: posterise to a few bold colours through the palette engine, optionally as a grid
/// of Warhol-style panels and as halftone dots.
///
/// Input as in filter.hpp: RGB(A) or grey (+ alpha), CV_8U or CV_16U. The output is 8-bit
/// RGB, or RGBA with the input's alpha (16-bit alpha reduced to 8 bits by / 257, as the palette
/// engine reduces 16-bit colour to its high byte).

#include <cstdint>
#include <imgpipe/context.hpp>
#include <imgpipe/palette.hpp>
#include <imgpipe/params.hpp>
#include <opencv2/core/mat.hpp>
#include <vector>

namespace imgpipe::kernels {

/// The built-in palettes, in the order the panels of a grid rotate through them (each listed
/// darkest to lightest by CIE L*):
///
/// ```text
/// warhol   #101010 #e6007e #00a0e9 #ffe100 #f5f0e6
/// pop      #1d1160 #e4002b #00b140 #ffd700 #ffffff
/// neon     #14003c #7a00ff #ff00aa #00f0ff #ccff00
/// primary  #000000 #0038a8 #d50000 #ffd600 #ffffff
/// candy    #3b0a45 #ff3c8e #00c2c7 #ffb3d9 #fff5a5
/// sunset   #2b0f3a #b3126f #ff5e00 #ffc300
/// ```
const std::vector<Palette>& pop_art_palettes();
/// The palette with every colour's hue turned by `degrees` in CIE LCh (D65): L* and chroma are
/// kept, up to clipping to the sRGB gamut, so the lightness order of the colours stays.
Palette hue_rotated(const Palette& palette, double degrees);

/// The settings of pop_art().
struct PopArtOptions {
  /// Panel i (row-major) is recoloured with palettes[i % palettes.size()]; each palette's
  /// colours are matched to the clusters by lightness rank (ApplyOptions::Mapping::lightness).
  /// The number of clusters is the size of the first palette.
  std::vector<Palette> palettes;
  /// Panels across and down (1..4 each). The output has the input's size: every panel is the
  /// image resized (area) to ceil(width / columns) x ceil(height / rows) and clustered once;
  /// the panel in slot [x0, x1) x [y0, y1) with x0 = i * width / columns (integer division)
  /// shows its top-left x1 - x0 by y1 - y0 pixels, so at most one edge column or row of a
  /// panel is cut.
  ///@{
  int columns = 1, rows = 1;
  ///@}
  /// Halftone dots instead of flat colour. Each panel is a grid of dot_size px cells; in each
  /// cell a disc centred on the cell, in the colour of the region under each of its pixels,
  /// covers a fraction of the cell equal to the darkness (1 - Rec. 709 luma / full scale) of the
  /// cell's mean in the panel's original (radius = dot_size * sqrt(darkness / pi)); the rest of
  /// the cell is `background`.
  bool halftone = false;
  int dot_size = 8;                                 ///< halftone: the side of a cell in pixels
  Colour background{255, 255, 255, 255};            ///< halftone: the colour of a cell around its dot
  std::uint64_t seed = 12345;                       ///< k-means++ seed
  QualityPreset quality = QualityPreset::balanced;  ///< the preset the clustering takes its effort from
};

/// Posterises `src` into `dst`, panel by panel, as PopArtOptions describes. Throws Error(config)
/// when no palette is given or the first one is empty.
void pop_art(cv::InputArray src, cv::OutputArray dst, const PopArtOptions& options);

}  // namespace imgpipe::kernels
