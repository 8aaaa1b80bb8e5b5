// imgpipe_cuda_resize, _flip, _rotate90, _crop and _grayscale: the passes of geometry.hpp run
// by a DeviceExecutor on the context's stream.

#include <string>

#include "executor.cuh"
#include "geometry.hpp"
#include "imgpipe_cuda.h"

namespace {

using imgpipe::cuda::fail;
using imgpipe::gpu::describe;

bool same_channels(const imgpipe_cuda_image& a, const imgpipe_cuda_image& b) {
  return a.channels == b.channels;
}

// BAD_ARGUMENT with "<what>: dst must be WxHxC, got ..." for a dst of the wrong shape.
int wrong_dst(imgpipe_cuda_context* context, const char* what, int width, int height, int channels,
              const imgpipe_cuda_image& dst) {
  return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
              std::string(what) + ": dst must be " + std::to_string(width) + "x" + std::to_string(height) +
                  "x" + std::to_string(channels) + ", got " + describe(dst));
}

}  // namespace

extern "C" int imgpipe_cuda_resize(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                   const imgpipe_cuda_image* dst, int interpolation) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "resize: " + problem);
  if (!same_channels(*src, *dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "resize: dst must have src's " + std::to_string(src->channels) + " channel(s), got " +
                    std::to_string(dst->channels));
  if (interpolation != 0 && interpolation != 1)
    return fail(
        context, IMGPIPE_CUDA_BAD_ARGUMENT,
        "resize.interpolation: expected 0 (area) or 1 (linear), got " + std::to_string(interpolation));
  imgpipe::gpu::DeviceExecutor exec(context, "resize");
  imgpipe::gpu::resize(exec, *src, *dst, interpolation);
  return exec.status();
}

extern "C" int imgpipe_cuda_flip(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                 const imgpipe_cuda_image* dst, int horizontal, int vertical) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "flip: " + problem);
  if (dst->width != src->width || dst->height != src->height || !same_channels(*src, *dst))
    return wrong_dst(context, "flip", src->width, src->height, src->channels, *dst);
  imgpipe::gpu::DeviceExecutor exec(context, "flip");
  imgpipe::gpu::move(exec, *src, *dst, 0, horizontal != 0, vertical != 0);
  return exec.status();
}

extern "C" int imgpipe_cuda_rotate90(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                     const imgpipe_cuda_image* dst, int quarter_turns) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "rotate90: " + problem);
  if (quarter_turns < 1 || quarter_turns > 3)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "rotate90.quarter_turns: expected 1, 2 or 3, got " + std::to_string(quarter_turns));
  const bool swaps = quarter_turns != 2;
  const int width = swaps ? src->height : src->width, height = swaps ? src->width : src->height;
  if (dst->width != width || dst->height != height || !same_channels(*src, *dst))
    return wrong_dst(context, "rotate90", width, height, src->channels, *dst);
  imgpipe::gpu::DeviceExecutor exec(context, "rotate90");
  imgpipe::gpu::move(exec, *src, *dst, quarter_turns, false, false);
  return exec.status();
}

extern "C" int imgpipe_cuda_crop(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                 const imgpipe_cuda_image* dst, int left, int top) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "crop: " + problem);
  if (!same_channels(*src, *dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "crop: dst must have src's " + std::to_string(src->channels) + " channel(s), got " +
                    std::to_string(dst->channels));
  if (left < 0 || top < 0 || left > src->width - dst->width || top > src->height - dst->height)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "crop: region " + std::to_string(dst->width) + "x" + std::to_string(dst->height) + " at (" +
                    std::to_string(left) + ", " + std::to_string(top) + ") does not fit in the " +
                    std::to_string(src->width) + "x" + std::to_string(src->height) + " image");
  imgpipe::gpu::DeviceExecutor exec(context, "crop");
  imgpipe::gpu::crop(exec, *src, *dst, left, top);
  return exec.status();
}

extern "C" int imgpipe_cuda_grayscale(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                      const imgpipe_cuda_image* dst, int weights, int keep_channels) {
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "grayscale: " + problem);
  if (weights < 0 || weights > 2)
    return fail(
        context, IMGPIPE_CUDA_BAD_ARGUMENT,
        "grayscale.weights: expected 0 (rec709), 1 (rec601) or 2 (average), got " + std::to_string(weights));
  // Grey input is copied as it is; colour gives one grey channel (three with keep_channels)
  // and its alpha.
  const bool grey = imgpipe::gpu::colour_channels(src->channels) == 1;
  const int channels =
      grey ? src->channels : (keep_channels ? 3 : 1) + (imgpipe::gpu::has_alpha(src->channels) ? 1 : 0);
  if (dst->width != src->width || dst->height != src->height || dst->channels != channels)
    return wrong_dst(context, "grayscale", src->width, src->height, channels, *dst);
  imgpipe::gpu::DeviceExecutor exec(context, "grayscale");
  imgpipe::gpu::grayscale(exec, *src, *dst, weights, keep_channels != 0);
  return exec.status();
}
