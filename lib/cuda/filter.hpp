#pragma once
// kernels::gaussian_blur and kernels::sharpen (lib/ops/filter/) as passes over pixels, for any
// executor (pixels.hpp). Each path is the CPU kernel's path for the same input, with its
// arithmetic:
//   - the float Gaussian is cv::sepFilter2D's: a row pass summing the taps in order with fused
//     multiply-adds (RowVec_8u32f, RowVec_32f), or in symmetric pairs for float images and
//     kernels of up to 5 taps (SymmRowSmallVec_32f), then a column pass from the centre out in
//     pairs (SymmColumnVec_32f);
//   - sharpen's 8-bit path blurs with cv::GaussianBlur's fixed-point kernel, in whole numbers
//     and so exactly, and mixes as cv::addWeighted does: fma(in, 1 + amount, blur * -amount).

#include <cstdint>
#include <vector>

#include "pixels.hpp"
#include "weights.hpp"

namespace imgpipe::gpu {

// One row pass of the float Gaussian into `out`.
template <class Source>
struct GaussianRowPass {
  Source source;
  FloatImage out;
  const float* weights;  // 2 radius + 1 taps
  int radius;
  bool symmetric;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int channels = out.channels, width = out.width;
    float sum[kMaxChannels] = {}, left[kMaxChannels], right[kMaxChannels];
    if (symmetric) {
      // SymmRowSmallVec_32f: the nearest pair times its weight, the centre fused in, then the
      // outer pair fused in.
      float centre[kMaxChannels];
      source.load(x, y, centre);
      for (int k = 1; k <= radius; ++k) {
        source.load(reflect101(x - k, width), y, left);
        source.load(reflect101(x + k, width), y, right);
        for (int c = 0; c < channels; ++c) {
          const float pair = left[c] + right[c];
          sum[c] = k == 1 ? fmaf(centre[c], weights[radius], pair * weights[radius + 1])
                          : fmaf(pair, weights[radius + k], sum[c]);
        }
      }
    } else {
      for (int k = 0; k <= 2 * radius; ++k) {
        source.load(reflect101(x - radius + k, width), y, left);
        for (int c = 0; c < channels; ++c) sum[c] = fmaf(left[c], weights[k], sum[c]);
      }
    }
    float* p = out.at(x, y);
    for (int c = 0; c < channels; ++c) p[c] = sum[c];
  }
};

// The column pass of the float Gaussian at (x, y), from the row pass's output.
IMGPIPE_HDI void gaussian_column(const FloatImage& rows, const float* weights, int radius, int x, int y,
                                 float* sum) {
  const int channels = rows.channels;
  const float* centre = rows.at(x, y);
  for (int c = 0; c < channels; ++c) sum[c] = centre[c] * weights[radius];
  for (int k = 1; k <= radius; ++k) {
    const float* below = rows.at(x, reflect101(y + k, rows.height));
    const float* above = rows.at(x, reflect101(y - k, rows.height));
    for (int c = 0; c < channels; ++c) sum[c] = fmaf(below[c] + above[c], weights[radius + k], sum[c]);
  }
}

template <class Sink>
struct GaussianColumnPass {
  FloatImage rows;
  Sink sink;
  const float* weights;
  int radius;

  IMGPIPE_HDI void operator()(int x, int y) const {
    float sum[kMaxChannels];
    gaussian_column(rows, weights, radius, x, y, sum);
    sink.store(x, y, sum);
  }
};

// sharpen's float path: out = original + amount * detail, detail = original - blur, zeroed
// where |detail| is not above the threshold (when there is one); alpha is the original's.
template <class Source, class Sink>
struct SharpenColumnPass {
  FloatImage rows;
  Source source;
  Sink sink;
  const float* weights;
  int radius;
  float amount, threshold;
  bool thresholded, alpha;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int channels = rows.channels;
    float blurred[kMaxChannels], original[kMaxChannels], out[kMaxChannels];
    gaussian_column(rows, weights, radius, x, y, blurred);
    source.load(x, y, original);
    for (int c = 0; c < channels; ++c) {
      float detail = original[c] - blurred[c];
      if (thresholded) detail = detail * (fabsf(detail) > threshold ? 1.0f : 0.0f);
      out[c] = fmaf(detail, amount, original[c]);
    }
    if (alpha) out[channels - 1] = original[channels - 1];
    sink.store(x, y, out);
  }
};

// cv::GaussianBlur's fixed-point row pass, on the samples times `scale` (1, or 256 for
// sharpen's 16-bit blur of an 8-bit image): whole numbers that fit 32 bits, so exact.
struct FixedRowPass {
  imgpipe_cuda_image image;
  std::uint32_t* out;
  const std::uint32_t* weights;
  int radius;
  unsigned scale;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int channels = image.channels;
    std::uint32_t* p = out + (static_cast<std::size_t>(y) * static_cast<std::size_t>(image.width) +
                              static_cast<std::size_t>(x)) *
                                 static_cast<std::size_t>(channels);
    for (int c = 0; c < channels; ++c) {
      std::uint32_t sum = 0;
      for (int k = 0; k <= 2 * radius; ++k)
        sum += weights[k] * (load_sample(image, reflect101(x - radius + k, image.width), y, c) * scale);
      p[c] = sum;
    }
  }
};

// The fixed-point column pass rounded to the blur's depth (8 fraction bits per pass for 8-bit
// images, 16 for 16-bit ones), then sharpen's cv::addWeighted back to 8 bits.
struct FixedSharpenColumnPass {
  imgpipe_cuda_image src, dst;
  const std::uint32_t* rows;
  const std::uint32_t* weights;
  int radius, fraction_bits;
  float scale, gain, blur_gain;

  IMGPIPE_HDI void operator()(int x, int y) const {
    const int channels = src.channels;
    for (int c = 0; c < channels; ++c) {
      std::uint64_t sum = 0;
      for (int k = 0; k <= 2 * radius; ++k) {
        const int row = reflect101(y - radius + k, src.height);
        const std::uint32_t value =
            rows[(static_cast<std::size_t>(row) * static_cast<std::size_t>(src.width) +
                  static_cast<std::size_t>(x)) *
                     static_cast<std::size_t>(channels) +
                 static_cast<std::size_t>(c)];
        sum += static_cast<std::uint64_t>(weights[k]) * value;
      }
      const int shift = 2 * fraction_bits;
      std::uint64_t blurred = (sum + (static_cast<std::uint64_t>(1) << (shift - 1))) >> shift;
      const std::uint64_t top = fraction_bits == 8 ? 255u : 65535u;
      if (blurred > top) blurred = top;
      const float in = static_cast<float>(load_sample(src, x, y, c)) * scale;
      const float mixed = fmaf(in, gain, fmaf(static_cast<float>(blurred), blur_gain, 0.0f));
      store_sample(dst, x, y, c, round_sample(mixed, 1));
    }
  }
};

// kernels::gaussian_blur with GaussianBlurOptions{sigma}.
template <class Exec>
void gaussian_blur(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, double sigma) {
  const int radius = gaussian_radius(sigma);
  const float* weights = exec.upload(gaussian_kernel_float(radius, sigma));
  const FloatImage rows = float_image(exec, src.width, src.height, src.channels);
  const bool alpha = has_alpha(src.channels);
  // An opaque 8-bit image goes to sepFilter2D as it is (its 8-bit row filter sums the taps in
  // order); the others are converted to float first, where short kernels take the symmetric one.
  const bool symmetric = !(src.depth == 1 && !alpha) && radius <= 2;
  if (alpha) {
    const float inverse = inverse_max(src.depth);
    exec.for_each(src.width, src.height,
                  GaussianRowPass<PremultipliedSource>{{src, inverse}, rows, weights, radius, symmetric});
    exec.for_each(src.width, src.height,
                  GaussianColumnPass<UnpremultiplySink>{rows, {dst, inverse}, weights, radius});
  } else {
    exec.for_each(src.width, src.height,
                  GaussianRowPass<PlainSource>{{src}, rows, weights, radius, symmetric});
    exec.for_each(src.width, src.height, GaussianColumnPass<PlainSink>{rows, {dst}, weights, radius});
  }
}

// kernels::sharpen with SharpenOptions{amount, radius, threshold}.
template <class Exec>
void sharpen(Exec& exec, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, double amount,
             double sigma, double threshold) {
  const int radius = gaussian_radius(sigma);
  const bool alpha = has_alpha(src.channels);
  if (src.depth == 1 && !alpha && !(threshold > 0)) {
    // Up to amount 1 and radius 3 the blur is OpenCV's 8-bit Gaussian; above, the 16-bit one of
    // the image times 256 (sharpen_8bit in lib/ops/filter/sharpen.cpp).
    const bool eight = amount <= 1.0 && sigma <= 3.0;
    const int bits = eight ? 8 : 16;
    const std::uint32_t* weights = exec.upload(gaussian_kernel_fixed(radius, sigma, bits));
    auto* rows = exec.template allocate<std::uint32_t>(static_cast<std::size_t>(src.width) *
                                                       static_cast<std::size_t>(src.height) *
                                                       static_cast<std::size_t>(src.channels));
    exec.for_each(src.width, src.height, FixedRowPass{src, rows, weights, radius, eight ? 1u : 256u});
    const double divisor = eight ? 1.0 : 256.0;
    exec.for_each(src.width, src.height,
                  FixedSharpenColumnPass{src, dst, rows, weights, radius, bits, eight ? 1.0f : 256.0f,
                                         static_cast<float>((1.0 + amount) / divisor),
                                         static_cast<float>(-amount / divisor)});
    return;
  }
  const float* weights = exec.upload(gaussian_kernel_float(radius, sigma));
  const FloatImage rows = float_image(exec, src.width, src.height, src.channels);
  const bool symmetric = radius <= 2;  // the blur's input is always float here
  const double full_scale_threshold = threshold * (src.depth == 2 ? 65535.0 : 255.0);
  const auto run = [&](auto source, auto sink) {
    using Source = decltype(source);
    using Sink = decltype(sink);
    exec.for_each(src.width, src.height, GaussianRowPass<Source>{source, rows, weights, radius, symmetric});
    exec.for_each(src.width, src.height,
                  SharpenColumnPass<Source, Sink>{
                      rows, source, sink, weights, radius, static_cast<float>(amount),
                      static_cast<float>(full_scale_threshold), full_scale_threshold > 0, alpha});
  };
  if (alpha) {
    const float inverse = inverse_max(src.depth);
    run(PremultipliedSource{src, inverse}, UnpremultiplySink{dst, inverse});
  } else {
    run(PlainSource{src}, PlainSink{dst});
  }
}

}  // namespace imgpipe::gpu
