#pragma once
// One pixel of ordered (Bayer) dithering, ordered_row() in lib/ops/effects/dither.cpp, for the
// device and for a host check. The tables are those of the CPU's Plan (make_plan()).

#include <cstdint>

#include "colour_math.hpp"

namespace imgpipe::cuda {

struct OrderedTables {
  const float* thresholds;  // n x n, row-major: (M + 0.5) / n^2 in float, as the CPU converts it
  int n;
  const float* base;  // 256: 8-bit sample → working value (linear light with `linear`)
  // Grey levels (palette_size == 0).
  const std::uint8_t* level_value;  // output sample of each level
  const float* level_work;          // its working value, increasing
  int levels;
  // Palette.
  const std::uint8_t* palette;  // RGBA per colour
  const float* palette_lab;     // L, a, b per colour (srgb_to_lab in float)
  int palette_size;             // 0: grey levels
  float spread;                 // Plan::spread
  const float* code_threshold;  // 255 decoded midpoints between codes; null unless `linear`
  LabTables lab;                // the table-driven converter
};

// Plan::code(): a working value as an 8-bit code.
IMGPIPE_HD inline int ordered_code(const OrderedTables& t, float v) {
  if (t.code_threshold) return upper_bound(t.code_threshold, 255, v);
  const float clamped = v < 0.0f ? 0.0f : 255.0f < v ? 255.0f : v;
  return static_cast<int>(add(clamped, 0.5f));
}

// The level of grey sample `grey` at matrix position (x % n, y % n).
IMGPIPE_HD inline std::uint8_t ordered_level(const OrderedTables& t, std::uint8_t grey, float threshold) {
  const float v = t.base[grey];
  int k = upper_bound(t.level_work, t.levels, v) - 1;
  if (k < 0) k = 0;
  if (k + 1 < t.levels) {
    const float fraction = div(sub(v, t.level_work[k]), sub(t.level_work[k + 1], t.level_work[k]));
    if (fraction > threshold) ++k;
  }
  return t.level_value[k];
}

// The palette index of RGB sample values at matrix position (x % n, y % n).
IMGPIPE_HD inline int ordered_colour(const OrderedTables& t, std::uint8_t r, std::uint8_t g, std::uint8_t b,
                                     float threshold) {
  const float offset = mul(sub(threshold, 0.5f), t.spread);
  const int cr = ordered_code(t, add(t.base[r], offset));
  const int cg = ordered_code(t, add(t.base[g], offset));
  const int cb = ordered_code(t, add(t.base[b], offset));
  const LabF lab = lab_of(t.lab, static_cast<std::uint8_t>(cr), static_cast<std::uint8_t>(cg),
                          static_cast<std::uint8_t>(cb));
  return nearest(lab, t.palette_lab, t.palette_size);
}

// One output pixel: grey (+ alpha) for levels, RGB (+ alpha) for a palette; `p` is the input
// as 8-bit RGBA and `grey_input` says it had one colour channel.
IMGPIPE_HD inline void ordered_pixel(const OrderedTables& t, const Rgba8& p, bool grey_input, bool alpha,
                                     int x, int y, std::uint8_t* d) {
  const float threshold = t.thresholds[(y % t.n) * t.n + x % t.n];
  if (t.palette_size == 0) {
    d[0] = ordered_level(t, grey_input ? p.r : grey601(p.r, p.g, p.b), threshold);
    if (alpha) d[1] = p.a;
    return;
  }
  const std::uint8_t* c = t.palette + 4 * ordered_colour(t, p.r, p.g, p.b, threshold);
  d[0] = c[0], d[1] = c[1], d[2] = c[2];
  if (alpha) d[3] = p.a;
}

}  // namespace imgpipe::cuda
