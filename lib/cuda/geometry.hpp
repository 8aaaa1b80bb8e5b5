#pragma once
// kernels::resize (Fit::exact, area and linear), flip, rotate by quarter turns, crop and
// kernels::grayscale as passes over pixels, for any executor (pixels.hpp).
//
// resize follows kernels::resize's paths (lib/ops/geometry/resize.cpp): an opaque area
// downscale through ops::area_downscale (its own 8-bit fixed-point kernel, or cv::resize on the
// samples), everything else on colour premultiplied by alpha in float through cv::resize, with
// the 2x area pre-shrink before a linear shrink by more than 2x. cv::resize is followed where
// it chooses its kernel (area_fast for whole factors, area for others, bilinear where a side
// grows) and in each kernel's arithmetic: float sums in OpenCV's order, its 8-bit fixed point,
// and the rounding of its SIMD loops for 2x2 averages (as 128-bit universal intrinsics run them).

#include <cstdint>
#include <vector>

#include "pixels.hpp"
#include "weights.hpp"

namespace imgpipe::gpu {

// ---- resize: cv::resize's kernels ----

// INTER_AREA for any factors (resizeArea_): each source row of the cell summed across with its
// column weights, then the rows weighted and summed, in float.
template <class Source, class Sink>
struct AreaPass {
  Source source;
  Sink sink;
  const int *x_first, *x_source, *y_first, *y_source;
  const float *x_weight, *y_weight;
  int channels;

  IMGPIPE_HDI void operator()(int x, int y) const {
    float sum[kMaxChannels] = {}, across[kMaxChannels], pixel[kMaxChannels];
    for (int j = y_first[y]; j < y_first[y + 1]; ++j) {
      for (int c = 0; c < channels; ++c) across[c] = 0.0f;
      for (int k = x_first[x]; k < x_first[x + 1]; ++k) {
        source.load(x_source[k], y_source[j], pixel);
        for (int c = 0; c < channels; ++c) across[c] = across[c] + pixel[c] * x_weight[k];
      }
      for (int c = 0; c < channels; ++c) sum[c] = sum[c] + y_weight[j] * across[c];
    }
    sink.store(x, y, sum);
  }
};

// INTER_AREA for whole factors (resizeAreaFast_) of float pixels: the cell's sum in row-major
// order, four samples at a time, times 1 / area. The first `vector_elements` samples of each
// row are where OpenCV's SIMD loop for 2x2 cells runs instead: ((a + b) + (c + d)) * 0.25.
template <class Source, class Sink>
struct AreaFastPass {
  Source source;
  Sink sink;
  int scale_x, scale_y, channels, vector_elements;
  float scale;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int x0 = x * scale_x, y0 = y * scale_y;
    float pixels[4][kMaxChannels], out[kMaxChannels];
    if ((x + 1) * channels <= vector_elements) {
      for (int k = 0; k < 4; ++k) source.load(x0 + (k & 1), y0 + (k >> 1), pixels[k]);
      for (int c = 0; c < channels; ++c)
        out[c] = ((pixels[0][c] + pixels[1][c]) + (pixels[2][c] + pixels[3][c])) * 0.25f;
      sink.store(x, y, out);
      return;
    }
    const int area = scale_x * scale_y;
    float sum[kMaxChannels] = {};
    int k = 0;
    for (; k <= area - 4; k += 4) {
      for (int i = 0; i < 4; ++i) source.load(x0 + (k + i) % scale_x, y0 + (k + i) / scale_x, pixels[i]);
      for (int c = 0; c < channels; ++c)
        sum[c] = sum[c] + (((pixels[0][c] + pixels[1][c]) + pixels[2][c]) + pixels[3][c]);
    }
    for (; k < area; ++k) {
      source.load(x0 + k % scale_x, y0 + k / scale_x, pixels[0]);
      for (int c = 0; c < channels; ++c) sum[c] = sum[c] + pixels[0][c];
    }
    for (int c = 0; c < channels; ++c) out[c] = sum[c] * scale;
    sink.store(x, y, out);
  }
};

// resizeAreaFast_ of 8- or 16-bit samples: summed in int (8 bits) or float (16 bits, in the
// order above), times 1 / area, rounded; in the 2x2 SIMD loop (sum + 2) >> 2.
struct AreaFastSamplePass {
  imgpipe_cuda_image src, dst;
  int scale_x, scale_y, vector_elements;
  float scale;

  IMGPIPE_HDI unsigned at(int x0, int y0, int k, int c) const {
    return load_sample(src, x0 + k % scale_x, y0 + k / scale_x, c);
  }

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int x0 = x * scale_x, y0 = y * scale_y, area = scale_x * scale_y, channels = src.channels;
    const bool vector = (x + 1) * channels <= vector_elements;
    for (int c = 0; c < channels; ++c) {
      unsigned out;
      if (vector) {
        out = (at(x0, y0, 0, c) + at(x0, y0, 1, c) + at(x0, y0, 2, c) + at(x0, y0, 3, c) + 2) >> 2;
      } else if (src.depth == 1) {
        unsigned sum = 0;
        for (int k = 0; k < area; ++k) sum += at(x0, y0, k, c);
        out = round_sample(static_cast<float>(sum) * scale, 1);
      } else {
        float sum = 0.0f;
        int k = 0;
        for (; k <= area - 4; k += 4)
          sum = sum + (((static_cast<float>(at(x0, y0, k, c)) + static_cast<float>(at(x0, y0, k + 1, c))) +
                        static_cast<float>(at(x0, y0, k + 2, c))) +
                       static_cast<float>(at(x0, y0, k + 3, c)));
        for (; k < area; ++k) sum = sum + static_cast<float>(at(x0, y0, k, c));
        out = round_sample(sum * scale, 2);
      }
      store_sample(dst, x, y, c, out);
    }
  }
};

// The leading samples of a row of `row_elements` that OpenCV's 2x2 area_fast SIMD loops cover,
// for float pixels (depth 0) or 8- or 16-bit samples (depth 1, 2). For samples
// ResizeAreaFastVec finishes the row with the same (sum + 2) >> 2; for floats the rest of the
// row takes the scalar sum (128-bit vectors of 4 floats).
inline int area_fast_vector_elements(int depth, int channels, int row_elements) {
  if (depth == 0) return channels == 1 || channels == 4 ? row_elements / 4 * 4 : 0;
  return channels == 2 ? 0 : row_elements;
}

// cv::resize's `clip(y, 0, height)` of a bilinear row.
IMGPIPE_HDI int clip_row(int y, int height) {
  return y < 0 ? 0 : (y < height ? y : height - 1);
}

// INTER_LINEAR (and INTER_AREA where a side grows) in float: each of the two source rows
// interpolated across, then the two mixed; past the last column OpenCV copies the column.
template <class Source, class Sink>
struct LinearPass {
  Source source;
  Sink sink;
  const LinearTap *columns, *rows;
  int source_height, channels;

  IMGPIPE_HDI void across(int row, const LinearTap& t, float* out) const {
    float left[kMaxChannels], right[kMaxChannels];
    source.load(t.source, row, left);
    if (t.single) {
      for (int c = 0; c < channels; ++c) out[c] = left[c];
      return;
    }
    source.load(t.source + 1, row, right);
    for (int c = 0; c < channels; ++c) out[c] = left[c] * t.weight0 + right[c] * t.weight1;
  }

  IMGPIPE_HDI void operator()(int x, int y) const {
    const LinearTap& column = columns[x];
    const LinearTap& row = rows[y];
    float top[kMaxChannels], bottom[kMaxChannels], out[kMaxChannels];
    across(clip_row(row.source, source_height), column, top);
    across(clip_row(row.source + 1, source_height), column, bottom);
    for (int c = 0; c < channels; ++c) out[c] = top[c] * row.weight0 + bottom[c] * row.weight1;
    sink.store(x, y, out);
  }
};

// The same for 8-bit samples in OpenCV's fixed point: 11-bit weights across, then its SIMD
// vertical step (VResizeLinearVec_32s8u): ((a >> 4) * b0 >> 16) + ((c >> 4) * b1 >> 16), rounded
// off by 2 bits.
struct LinearFixedPass {
  imgpipe_cuda_image src, dst;
  const LinearTap *columns, *rows;

  IMGPIPE_HDI static int fixed(float weight) { return static_cast<int>(rintf(weight * 2048.0f)); }

  IMGPIPE_HDI int across(int row, const LinearTap& t, int c) const {
    const int left = static_cast<int>(load_sample(src, t.source, row, c));
    if (t.single) return left * 2048;
    return left * fixed(t.weight0) +
           static_cast<int>(load_sample(src, t.source + 1, row, c)) * fixed(t.weight1);
  }

  IMGPIPE_HDI void operator()(int x, int y) const {
    const LinearTap& column = columns[x];
    const LinearTap& row = rows[y];
    const int top_row = clip_row(row.source, src.height), bottom_row = clip_row(row.source + 1, src.height);
    const int b0 = fixed(row.weight0), b1 = fixed(row.weight1);
    for (int c = 0; c < src.channels; ++c) {
      const int top = across(top_row, column, c), bottom = across(bottom_row, column, c);
      const int mixed = ((((top >> 4) * b0) >> 16) + (((bottom >> 4) * b1) >> 16) + 2) >> 2;
      store_sample(dst, x, y, c, static_cast<unsigned>(mixed < 0 ? 0 : (mixed > 255 ? 255 : mixed)));
    }
  }
};

// ops::area_downscale_8u: 14-bit weights, rows summed first and kept to 8 fraction bits.
struct FixedAreaPass {
  imgpipe_cuda_image src, dst;
  const int *x_start, *y_start;
  const std::int16_t *x_weights, *y_weights;
  int x_width, y_width;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const std::int16_t* wx = x_weights + x * x_width;
    const std::int16_t* wy = y_weights + y * y_width;
    for (int c = 0; c < src.channels; ++c) {
      std::uint32_t sum = 0;
      for (int i = 0; i < x_width; ++i) {
        std::uint32_t column = 0;
        for (int j = 0; j < y_width; ++j)
          column += static_cast<std::uint32_t>(wy[j]) * load_sample(src, x_start[x] + i, y_start[y] + j, c);
        sum += static_cast<std::uint32_t>(wx[i]) * ((column + 32) >> 6);
      }
      store_sample(dst, x, y, c, (sum + (1u << 21)) >> 22);
    }
  }
};

enum class CvInterpolation { linear, area };

// cv::resize(source → sink, interpolation) for float pixels.
template <class Exec, class Source, class Sink>
void cv_resize(Exec& exec, const Source& source, int source_width, int source_height, const Sink& sink,
               int width, int height, int channels, CvInterpolation interpolation) {
  const ResizeScales scales(source_width, source_height, width, height);
  // A linear 2x shrink is OpenCV's 2x2 area average.
  if (interpolation == CvInterpolation::linear && scales.whole && scales.integer_x == 2 &&
      scales.integer_y == 2)
    interpolation = CvInterpolation::area;
  const bool area = interpolation == CvInterpolation::area;
  if (area && scales.x >= 1 && scales.y >= 1) {
    if (scales.whole) {
      const int vector = scales.integer_x == 2 && scales.integer_y == 2
                             ? area_fast_vector_elements(0, channels, width * channels)
                             : 0;
      exec.for_each(
          width, height,
          AreaFastPass<Source, Sink>{source, sink, scales.integer_x, scales.integer_y, channels, vector,
                                     1.0f / static_cast<float>(scales.integer_x * scales.integer_y)});
      return;
    }
    const Taps columns = area_taps(source_width, width, scales.x),
               rows = area_taps(source_height, height, scales.y);
    exec.for_each(
        width, height,
        AreaPass<Source, Sink>{source, sink, exec.upload(columns.first), exec.upload(columns.source),
                               exec.upload(rows.first), exec.upload(rows.source), exec.upload(columns.weight),
                               exec.upload(rows.weight), channels});
    return;
  }
  const LinearTap* columns = exec.upload(linear_taps(source_width, width, area, true));
  const LinearTap* rows = exec.upload(linear_taps(source_height, height, area, false));
  exec.for_each(width, height,
                LinearPass<Source, Sink>{source, sink, columns, rows, source_height, channels});
}

// ops::area_downscale of an image without alpha (8- or 16-bit samples straight to samples).
template <class Exec>
void area_downscale(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst) {
  const bool whole = src.width % dst.width == 0 && src.height % dst.height == 0;
  const bool shrinks = dst.width <= src.width && dst.height <= src.height;
  if (src.depth == 1 && !whole && shrinks) {
    const FixedAreaTable columns = fixed_area_table(src.width, dst.width);
    const FixedAreaTable rows = fixed_area_table(src.height, dst.height);
    exec.for_each(
        dst.width, dst.height,
        FixedAreaPass{src, dst, exec.upload(columns.start), exec.upload(rows.start),
                      exec.upload(columns.weights), exec.upload(rows.weights), columns.width, rows.width});
    return;
  }
  // cv::resize(INTER_AREA) on the samples.
  const ResizeScales scales(src.width, src.height, dst.width, dst.height);
  if (scales.x >= 1 && scales.y >= 1) {
    if (scales.whole) {
      const int vector = scales.integer_x == 2 && scales.integer_y == 2
                             ? area_fast_vector_elements(src.depth, src.channels, dst.width * src.channels)
                             : 0;
      exec.for_each(dst.width, dst.height,
                    AreaFastSamplePass{src, dst, scales.integer_x, scales.integer_y, vector,
                                       1.0f / static_cast<float>(scales.integer_x * scales.integer_y)});
      return;
    }
    const Taps columns = area_taps(src.width, dst.width, scales.x),
               rows = area_taps(src.height, dst.height, scales.y);
    exec.for_each(dst.width, dst.height,
                  AreaPass<PlainSource, PlainSink>{{src},
                                                   {dst},
                                                   exec.upload(columns.first),
                                                   exec.upload(columns.source),
                                                   exec.upload(rows.first),
                                                   exec.upload(rows.source),
                                                   exec.upload(columns.weight),
                                                   exec.upload(rows.weight),
                                                   src.channels});
    return;
  }
  // One side grows: OpenCV's bilinear stand-in for INTER_AREA.
  const LinearTap* columns = exec.upload(linear_taps(src.width, dst.width, true, true));
  const LinearTap* rows = exec.upload(linear_taps(src.height, dst.height, true, false));
  if (src.depth == 1)
    exec.for_each(dst.width, dst.height, LinearFixedPass{src, dst, columns, rows});
  else
    exec.for_each(dst.width, dst.height,
                  LinearPass<PlainSource, PlainSink>{{src}, {dst}, columns, rows, src.height, src.channels});
}

// kernels::resize(src, dst, {dst's size, area (0) or linear (1), Fit::exact}).
template <class Exec>
void resize(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, int interpolation) {
  if (src.width == dst.width && src.height == dst.height) {
    exec.copy_rows(dst.data, dst.step, src.data, src.step,
                   static_cast<std::size_t>(src.width * src.channels * src.depth), src.height);
    return;
  }
  const bool shrinking = dst.width < src.width || dst.height < src.height;
  const bool area = interpolation == 0 && shrinking;  // area enlarges as linear (ops::cv_interpolation)
  const bool alpha = has_alpha(src.channels);
  if (area && !alpha) return area_downscale(exec, src, dst);
  const auto run = [&](auto source, auto sink) {
    const int channels = src.channels;
    if (area)
      return cv_resize(exec, source, src.width, src.height, sink, dst.width, dst.height, channels,
                       CvInterpolation::area);
    if (src.width <= 2 * dst.width && src.height <= 2 * dst.height)
      return cv_resize(exec, source, src.width, src.height, sink, dst.width, dst.height, channels,
                       CvInterpolation::linear);
    // Shrinking by more than 2x: area to twice the target first (libvips' shrink + reduce).
    const int mid_width = min_int(src.width, 2 * dst.width), mid_height = min_int(src.height, 2 * dst.height);
    const FloatImage mid = float_image(exec, mid_width, mid_height, channels);
    cv_resize(exec, source, src.width, src.height, FloatSink{mid}, mid_width, mid_height, channels,
              CvInterpolation::area);
    cv_resize(exec, FloatSource{mid}, mid_width, mid_height, sink, dst.width, dst.height, channels,
              CvInterpolation::linear);
  };
  if (alpha) {
    const float inverse = inverse_max(src.depth);
    run(PremultipliedSource{src, inverse}, UnpremultiplySink{dst, inverse});
  } else {
    run(PlainSource{src}, PlainSink{dst});
  }
}

// ---- Exact pixel moves ----

// Where dst's pixel (x, y) comes from in src: a flip (horizontal, vertical) or a clockwise
// quarter turn (1, 2, 3) as cv::flip and cv::rotate give them.
struct MovePass {
  imgpipe_cuda_image src, dst;
  int quarter_turns;  // 0: a flip
  bool horizontal, vertical;

  IMGPIPE_HDI void operator()(int x, int y) const {
    int sx = x, sy = y;
    switch (quarter_turns) {
      case 1: sx = y, sy = src.height - 1 - x; break;
      case 2: sx = src.width - 1 - x, sy = src.height - 1 - y; break;
      case 3: sx = src.width - 1 - y, sy = x; break;
      default:
        if (horizontal) sx = src.width - 1 - x;
        if (vertical) sy = src.height - 1 - y;
        break;
    }
    for (int c = 0; c < src.channels; ++c) store_sample(dst, x, y, c, load_sample(src, sx, sy, c));
  }
};

template <class Exec>
void move(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, int quarter_turns,
          bool horizontal, bool vertical) {
  exec.for_each(dst.width, dst.height, MovePass{src, dst, quarter_turns, horizontal, vertical});
}

template <class Exec>
void crop(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, int left, int top) {
  const std::size_t pixel = static_cast<std::size_t>(src.channels * src.depth);
  const unsigned char* from = row_bytes(src, top) + static_cast<std::size_t>(left) * pixel;
  exec.copy_rows(dst.data, dst.step, from, src.step, static_cast<std::size_t>(dst.width) * pixel, dst.height);
}

// ---- grayscale ----

// kernels::grayscale: cv::transform's one-output loops in float as OpenCV's (FMA) build compiles
// them: for RGB (wr r + wg g) + wb b with the products fused in from the green one, for RGBA
// from the red one; then rounded to the depth. The grey is written once (or three times) and
// alpha copied.
struct GrayscalePass {
  imgpipe_cuda_image src, dst;
  float weight_r, weight_g, weight_b;
  int copies;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const float r = static_cast<float>(load_sample(src, x, y, 0));
    const float g = static_cast<float>(load_sample(src, x, y, 1));
    const float b = static_cast<float>(load_sample(src, x, y, 2));
    const float red_green =
        src.channels == 3 ? fmaf(weight_r, r, weight_g * g) : fmaf(weight_g, g, weight_r * r);
    const unsigned grey = round_sample(fmaf(weight_b, b, red_green), src.depth);
    for (int c = 0; c < copies; ++c) store_sample(dst, x, y, c, grey);
    if (src.channels == 4) store_sample(dst, x, y, copies, load_sample(src, x, y, 3));
  }
};

// The weights kernels::grayscale uses: 0 rec709, 1 rec601, 2 average (LumaWeights).
inline void luma_weights(int weights, float* out) {
  const float rec709[3] = {0.2126f, 0.7152f, 0.0722f}, rec601[3] = {0.299f, 0.587f, 0.114f};
  for (int c = 0; c < 3; ++c) out[c] = weights == 1 ? rec601[c] : weights == 2 ? 1 / 3.0f : rec709[c];
}

template <class Exec>
void grayscale(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, int weights,
               bool keep_channels) {
  if (colour_channels(src.channels) == 1) {  // grey is copied as it is
    exec.copy_rows(dst.data, dst.step, src.data, src.step,
                   static_cast<std::size_t>(src.width * src.channels * src.depth), src.height);
    return;
  }
  float w[3];
  luma_weights(weights, w);
  exec.for_each(src.width, src.height, GrayscalePass{src, dst, w[0], w[1], w[2], keep_channels ? 3 : 1});
}

}  // namespace imgpipe::gpu
