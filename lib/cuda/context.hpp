#pragma once
// The context behind imgpipe_cuda.h's opaque handle, and the helpers every kernel file uses to
// report a failure and to check the images it is given. Private to the plugin.

#include <cuda_runtime.h>

#include <string>
#include <utility>
#include <vector>

#include "imgpipe_cuda.h"

struct imgpipe_cuda_context {
  int device = 0;
  cudaStream_t stream = nullptr;  // every kernel and copy of the context is queued here
  std::string name;               // imgpipe_cuda_device_name()
  std::string error;              // imgpipe_cuda_last_error(); "" while no call has failed
  // imgpipe_cuda_record()'s events, numbered from 0, destroyed with the context.
  std::vector<cudaEvent_t> events;
};

namespace imgpipe::cuda {

// Records `what` as the context's last error and returns `status`, so that a kernel file can
// write `return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "...")`.
inline int fail(imgpipe_cuda_context* context, imgpipe_cuda_status status, std::string what) {
  if (context) context->error = std::move(what);
  return status;
}

// IMGPIPE_CUDA_OK for cudaSuccess; otherwise records "what: CUDA's message" and returns the
// status the error maps to (out of memory, no device, or failed).
inline int check(imgpipe_cuda_context* context, cudaError_t result, const char* what) {
  if (result == cudaSuccess) return IMGPIPE_CUDA_OK;
  const imgpipe_cuda_status status = result == cudaErrorMemoryAllocation ? IMGPIPE_CUDA_OUT_OF_MEMORY
                                     : result == cudaErrorNoDevice || result == cudaErrorInsufficientDriver
                                         ? IMGPIPE_CUDA_NO_DEVICE
                                         : IMGPIPE_CUDA_FAILED;
  return fail(context, status, std::string(what) + ": " + cudaGetErrorString(result));
}

// An image the kernels can take: pixels, a positive size, 1..4 channels of 1 or 2 bytes, and
// rows at least as long as their pixels.
inline bool valid_image(const imgpipe_cuda_image* image) {
  return image && image->data && image->width > 0 && image->height > 0 && image->channels >= 1 &&
         image->channels <= 4 && (image->depth == 1 || image->depth == 2) &&
         image->step >= static_cast<size_t>(image->width) * static_cast<size_t>(image->channels) *
                            static_cast<size_t>(image->depth);
}

}  // namespace imgpipe::cuda
