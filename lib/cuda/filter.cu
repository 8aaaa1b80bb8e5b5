// imgpipe_cuda_gaussian_blur and imgpipe_cuda_sharpen: the passes of filter.hpp run by a
// DeviceExecutor on the context's stream.

#include <cmath>
#include <string>

#include "executor.cuh"
#include "filter.hpp"
#include "imgpipe_cuda.h"

namespace {

// The checks both filters make: their images, dst of src's size and layout.
std::string filter_problem(const imgpipe_cuda_image* src, const imgpipe_cuda_image* dst) {
  if (std::string problem = imgpipe::gpu::image_problem(src, dst); !problem.empty()) return problem;
  if (src->width != dst->width || src->height != dst->height || src->channels != dst->channels)
    return "dst must have src's size and channels (" + imgpipe::gpu::describe(*src) + "), got " +
           imgpipe::gpu::describe(*dst);
  return "";
}

// A Gaussian's sigma: ImgPipe's operations take 0.1..1000; wider kernels are not sensible.
bool valid_sigma(double sigma) {
  return sigma > 0 && sigma <= 1000;
}

}  // namespace

extern "C" int imgpipe_cuda_gaussian_blur(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                          const imgpipe_cuda_image* dst, double sigma) {
  using imgpipe::cuda::fail;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = filter_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "gaussian_blur: " + problem);
  if (!valid_sigma(sigma))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "gaussian_blur.sigma: expected more than 0 and at most 1000, got " + std::to_string(sigma));
  imgpipe::gpu::DeviceExecutor exec(context, "gaussian_blur");
  imgpipe::gpu::gaussian_blur(exec, *src, *dst, sigma);
  return exec.status();
}

extern "C" int imgpipe_cuda_sharpen(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                    const imgpipe_cuda_image* dst, double amount, double radius,
                                    double threshold) {
  using imgpipe::cuda::fail;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (const std::string problem = filter_problem(src, dst); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "sharpen: " + problem);
  if (!std::isfinite(amount))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "sharpen.amount: expected a number, got " + std::to_string(amount));
  if (!valid_sigma(radius))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "sharpen.radius: expected more than 0 and at most 1000, got " + std::to_string(radius));
  if (!(threshold >= 0 && threshold <= 1))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "sharpen.threshold: expected 0..1, got " + std::to_string(threshold));
  imgpipe::gpu::DeviceExecutor exec(context, "sharpen");
  imgpipe::gpu::sharpen(exec, *src, *dst, amount, radius, threshold);
  return exec.status();
}
