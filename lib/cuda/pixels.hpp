#pragma once
// What the plugin's kernels are made of, written once for the device and the host: image
// views, sample access, OpenCV's rounding and border rule, and the pixel sources and sinks of
// the premultiplied paths. Under nvcc every function here is __host__ __device__; elsewhere it
// is plain C++, so the host tests (tests/cuda/test_cuda_arithmetic.cpp) run the very arithmetic
// the kernels run and compare it with the CPU kernels where there is no GPU.
//
// The kernels are templates over an executor (see DeviceExecutor in device.cuh) that provides
//   T* allocate<T>(count)                       scratch memory, released with the executor
//   const T* upload(const std::vector<T>&)      a host table copied to where the passes run
//   for_each(width, height, pass)               pass(x, y) for every pixel, in any order
//   copy_rows(dst, dst_step, src, src_step, row_bytes, rows)
// so that what is computed is written apart from where it runs.

#include <math.h>

#include <cstddef>
#include <cstdint>

#include "imgpipe_cuda.h"

#ifdef __CUDACC__
#define IMGPIPE_HDI __host__ __device__ __forceinline__
#else
#define IMGPIPE_HDI inline
#endif

namespace imgpipe::gpu {

constexpr int kMaxChannels = 4;

IMGPIPE_HDI bool has_alpha(int channels) {
  return channels == 2 || channels == 4;
}
IMGPIPE_HDI int colour_channels(int channels) {
  return has_alpha(channels) ? channels - 1 : channels;
}
IMGPIPE_HDI float max_value(int depth) {
  return depth == 2 ? 65535.0f : 255.0f;
}
IMGPIPE_HDI int min_int(int a, int b) {
  return a < b ? a : b;
}
IMGPIPE_HDI int max_int(int a, int b) {
  return a > b ? a : b;
}

// cv::BORDER_REFLECT_101 (cv::borderInterpolate): mirrored without repeating the edge pixel,
// as often as it takes for a kernel wider than the image.
IMGPIPE_HDI int reflect101(int p, int length) {
  if (length == 1) return 0;
  while (p < 0 || p >= length) p = p < 0 ? -p : 2 * length - 2 - p;
  return p;
}

// cv::saturate_cast from float: rounded half to even, then clamped to the depth's range. A value
// beyond int's range (or NaN) converts to INT_MIN first, as cvRound's cvtss2si does, hence 0.
IMGPIPE_HDI unsigned round_sample(float value, int depth) {
  const float r = rintf(value);
  if (!(r >= -2147483648.0f && r < 2147483648.0f)) return 0;
  const float max = max_value(depth);
  return static_cast<unsigned>(r < 0.0f ? 0.0f : (r > max ? max : r));
}

// Samples of an imgpipe_cuda_image (8- or 16-bit, interleaved).
IMGPIPE_HDI const unsigned char* row_bytes(const imgpipe_cuda_image& image, int y) {
  return static_cast<const unsigned char*>(image.data) + static_cast<std::size_t>(y) * image.step;
}
IMGPIPE_HDI unsigned load_sample(const imgpipe_cuda_image& image, int x, int y, int c) {
  const unsigned char* row = row_bytes(image, y);
  const int i = x * image.channels + c;
  return image.depth == 2 ? reinterpret_cast<const std::uint16_t*>(row)[i] : row[i];
}
IMGPIPE_HDI void store_sample(const imgpipe_cuda_image& image, int x, int y, int c, unsigned value) {
  unsigned char* row = static_cast<unsigned char*>(image.data) + static_cast<std::size_t>(y) * image.step;
  const int i = x * image.channels + c;
  if (image.depth == 2)
    reinterpret_cast<std::uint16_t*>(row)[i] = static_cast<std::uint16_t>(value);
  else
    row[i] = static_cast<unsigned char>(value);
}

// An interleaved float image in scratch memory; `stride` is in floats.
struct FloatImage {
  float* data;
  std::size_t stride;
  int width, height, channels;

  IMGPIPE_HDI float* at(int x, int y) const {
    return data + static_cast<std::size_t>(y) * stride + static_cast<std::size_t>(x * channels);
  }
};

template <class Exec>
FloatImage float_image(Exec& exec, int width, int height, int channels) {
  const auto stride = static_cast<std::size_t>(width * channels);
  return {exec.template allocate<float>(stride * static_cast<std::size_t>(height)), stride, width, height,
          channels};
}

// ---- Pixel sources: a pixel as the float the CPU kernels filter. ----

// The samples as they are (cv::Mat::convertTo to CV_32F).
struct PlainSource {
  imgpipe_cuda_image image;
  IMGPIPE_HDI void load(int x, int y, float* out) const {
    for (int c = 0; c < image.channels; ++c) out[c] = static_cast<float>(load_sample(image, x, y, c));
  }
};

// ops::filter_premultiplied's input: colour times alpha / max (alpha scaled in float by the
// float of 1 / max, as convertTo does), alpha as it is.
struct PremultipliedSource {
  imgpipe_cuda_image image;
  float inverse_max;
  IMGPIPE_HDI void load(int x, int y, float* out) const {
    const int last = image.channels - 1;
    const float alpha = static_cast<float>(load_sample(image, x, y, last));
    const float weight = alpha * inverse_max;
    for (int c = 0; c < last; ++c) out[c] = static_cast<float>(load_sample(image, x, y, c)) * weight;
    out[last] = alpha;
  }
};

struct FloatSource {
  FloatImage image;
  IMGPIPE_HDI void load(int x, int y, float* out) const {
    const float* p = image.at(x, y);
    for (int c = 0; c < image.channels; ++c) out[c] = p[c];
  }
};

// ---- Pixel sinks: a filtered float pixel written out. ----

// Rounded to the image's depth (convertTo).
struct PlainSink {
  imgpipe_cuda_image image;
  IMGPIPE_HDI void store(int x, int y, const float* value) const {
    for (int c = 0; c < image.channels; ++c)
      store_sample(image, x, y, c, round_sample(value[c], image.depth));
  }
};

// ops::filter_premultiplied's output: colour divided by alpha / max (at least 1e-6, so that
// transparent pixels stay finite), at most max; alpha rounded as it is.
struct UnpremultiplySink {
  imgpipe_cuda_image image;
  float inverse_max;
  IMGPIPE_HDI void store(int x, int y, const float* value) const {
    const int last = image.channels - 1;
    const float max = max_value(image.depth);
    float alpha = value[last] * inverse_max;
    alpha = alpha > 1e-6f ? alpha : 1e-6f;
    for (int c = 0; c < last; ++c) {
      const float colour = value[c] / alpha;
      store_sample(image, x, y, c, round_sample(colour < max ? colour : max, image.depth));
    }
    store_sample(image, x, y, last, round_sample(value[last], image.depth));
  }
};

struct FloatSink {
  FloatImage image;
  IMGPIPE_HDI void store(int x, int y, const float* value) const {
    float* p = image.at(x, y);
    for (int c = 0; c < image.channels; ++c) p[c] = value[c];
  }
};

// The float of 1 / max that convertTo scales alpha by.
inline float inverse_max(int depth) {
  return static_cast<float>(1.0 / (depth == 2 ? 65535.0 : 255.0));
}

}  // namespace imgpipe::gpu
