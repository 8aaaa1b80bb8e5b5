#pragma once
// One pixel of the palette engine's full-resolution assignment (assign_pixels() in
// lib/ops/palette/clustering.cpp) and of Clustering::apply() (lib/ops/palette/apply.cpp), for the
// device and for a host check.

#include <cstdint>

#include "colour_math.hpp"

namespace imgpipe::cuda {

// lib/ops/palette/labels.hpp: the label of a pixel the mask leaves out.
constexpr std::uint8_t kMasked = 255;

// What assign_pixels() needs besides the pixel.
struct AssignTables {
  const float* centres;  // k centres as float L, a, b (the k-means centres exactly)
  int k;
  LabTables lab;         // the table-driven converter (every preset but ultra)
  const double* linear;  // non-null: the exact conversion (ultra), sRGB code → linear light
};

// The nearest centre of an 8-bit colour: through the converter's tables and float distances,
// or with the exact double-precision Lab and double distances. The first of equals wins.
IMGPIPE_HD inline std::uint8_t nearest_centre(const AssignTables& t, std::uint8_t r, std::uint8_t g,
                                              std::uint8_t b) {
  if (!t.linear) return static_cast<std::uint8_t>(nearest(lab_of(t.lab, r, g, b), t.centres, t.k));
  const Lab lab = linear_to_lab(t.linear[r], t.linear[g], t.linear[b]);
  const auto centre = [&](int i) {
    return Lab{static_cast<double>(t.centres[3 * i]), static_cast<double>(t.centres[3 * i + 1]),
               static_cast<double>(t.centres[3 * i + 2])};
  };
  int best = 0;
  for (int i = 1; i < t.k; ++i)
    if (distance2(lab, centre(i)) < distance2(lab, centre(best))) best = i;
  return static_cast<std::uint8_t>(best);
}

// The label of one pixel: kMasked where the mask (non-zero keeps) leaves it out or, without a
// mask and with `use_alpha`, where its alpha is below 128; else its nearest centre.
IMGPIPE_HD inline std::uint8_t assign_pixel(const AssignTables& t, const Rgba8& p, bool has_alpha,
                                            const std::uint8_t* mask, bool use_alpha) {
  if (mask ? *mask == 0 : use_alpha && has_alpha && p.a < 128) return kMasked;
  return nearest_centre(t, p.r, p.g, p.b);
}

// What Clustering::apply() needs besides the pixel.
struct ApplyTables {
  const std::uint8_t* colours;  // RGBA per label (colour_table()); 256 entries, unused ones 0
  const std::uint8_t* centres;  // RGBA per label (centres_rgb()), for preserve_shading
  bool preserve_shading;
  int mask_mode;  // 0 keep, 1 transparent, 2 fill (MaskMode)
  std::uint8_t fill[4];
};

// apply.cpp's luma: Rec. 709 of 8-bit values in 8-bit units.
IMGPIPE_HD inline int luma709(int r, int g, int b) {
  return (54 * r + 183 * g + 19 * b + 128) >> 8;
}

IMGPIPE_HD inline std::uint8_t saturate8(int v) {
  return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
}

// One output pixel of Clustering::apply(): `out_channels` 3 or 4 (alpha), `s` the source as
// 8-bit RGBA (alpha 255 where the source has none).
IMGPIPE_HD inline void apply_pixel(const ApplyTables& t, std::uint8_t label, const Rgba8& s, std::uint8_t* d,
                                   int out_channels) {
  const bool alpha = out_channels == 4;
  if (label == kMasked) {
    if (t.mask_mode == 0) {
      d[0] = s.r, d[1] = s.g, d[2] = s.b;
      if (alpha) d[3] = s.a;
    } else if (t.mask_mode == 1) {
      d[0] = d[1] = d[2] = 0;
      if (alpha) d[3] = 0;
    } else {
      d[0] = t.fill[0], d[1] = t.fill[1], d[2] = t.fill[2];
      if (alpha) d[3] = t.fill[3];
    }
    return;
  }
  const std::uint8_t* c = t.colours + 4 * label;
  if (t.preserve_shading) {
    const std::uint8_t* centre = t.centres + 4 * label;
    const int shift = luma709(s.r, s.g, s.b) - luma709(centre[0], centre[1], centre[2]);
    d[0] = saturate8(c[0] + shift);
    d[1] = saturate8(c[1] + shift);
    d[2] = saturate8(c[2] + shift);
  } else {
    d[0] = c[0], d[1] = c[1], d[2] = c[2];
  }
  if (alpha) d[3] = s.a;
}

}  // namespace imgpipe::cuda
