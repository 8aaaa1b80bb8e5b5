#pragma once
// DeviceExecutor: runs the passes of filter.hpp and geometry.hpp on a context's stream, one
// thread per pixel. Scratch memory and tables come from the stream-ordered pool and go back to
// it on the same stream when the executor goes, after the work queued before. The first CUDA
// error stops everything after it and becomes the call's status and the context's last error.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "context.hpp"
#include "tables.hpp"

namespace imgpipe::gpu {

template <class Pass>
__global__ void each_pixel(int width, int height, Pass pass) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x < width && y < height) pass(x, y);
}

class DeviceExecutor {
 public:
  // `what` names the calling function in error messages.
  DeviceExecutor(imgpipe_cuda_context* context, const char* what) : context_(context), what_(what) {
    record(cudaSetDevice(context->device), "selecting the device");
  }
  ~DeviceExecutor() {
    for (void* block : blocks_) cudaFreeAsync(block, context_->stream);
  }
  DeviceExecutor(const DeviceExecutor&) = delete;
  DeviceExecutor& operator=(const DeviceExecutor&) = delete;

  template <class T>
  T* allocate(std::size_t count) {
    if (status_) return nullptr;
    void* block = nullptr;
    record(cudaMallocAsync(&block, (count ? count : 1) * sizeof(T), context_->stream),
           "allocating scratch memory");
    if (status_) return nullptr;
    blocks_.push_back(block);
    return static_cast<T*>(block);
  }

  // The copy of a host table is taken before this returns (pageable memory is staged).
  template <class T>
  const T* upload(const std::vector<T>& values) {
    T* device = allocate<T>(values.size());
    if (device && !values.empty())
      record(cudaMemcpyAsync(device, values.data(), values.size() * sizeof(T), cudaMemcpyHostToDevice,
                             context_->stream),
             "copying a table");
    return device;
  }

  template <class Pass>
  void for_each(int width, int height, const Pass& pass) {
    if (status_) return;
    each_pixel<<<cuda::pixel_grid(width, height), cuda::pixel_block(), 0, context_->stream>>>(width, height,
                                                                                              pass);
    record(cudaGetLastError(), "launching a kernel");
  }

  void copy_rows(void* dst, std::size_t dst_step, const void* src, std::size_t src_step,
                 std::size_t row_bytes, int rows) {
    if (status_) return;
    record(cudaMemcpy2DAsync(dst, dst_step, src, src_step, row_bytes, static_cast<std::size_t>(rows),
                             cudaMemcpyDeviceToDevice, context_->stream),
           "copying rows");
  }

  // IMGPIPE_CUDA_OK, or the status of the first failure (recorded as the context's last error).
  int status() const { return status_; }

 private:
  void record(cudaError_t result, const char* doing) {
    if (result == cudaSuccess || status_) return;
    status_ = cuda::check(context_, result, (what_ + ": " + doing).c_str());
  }

  imgpipe_cuda_context* context_;
  std::string what_;
  std::vector<void*> blocks_;
  int status_ = IMGPIPE_CUDA_OK;
};

// What the kernel entry points check of their images: valid (context.hpp), not sharing pixels
// (dst is never src), and of one depth. "" when they are fine.
inline std::string image_problem(const imgpipe_cuda_image* src, const imgpipe_cuda_image* dst) {
  if (!cuda::valid_image(src)) return "src is not a valid image";
  if (!cuda::valid_image(dst)) return "dst is not a valid image";
  if (src->data == dst->data) return "dst must not be src";
  // 16-bit samples are read as such: their rows must start on even addresses.
  for (const imgpipe_cuda_image* image : {src, dst})
    if (image->depth == 2 && (reinterpret_cast<std::uintptr_t>(image->data) % 2 || image->step % 2))
      return std::string(image == src ? "src" : "dst") + ": 16-bit rows must start at even addresses";
  if (src->depth != dst->depth)
    return "dst must have src's depth (" + std::to_string(src->depth * 8) + " bits), got " +
           std::to_string(dst->depth * 8) + " bits";
  return "";
}

inline std::string describe(const imgpipe_cuda_image& image) {
  return std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
         std::to_string(image.channels);
}

}  // namespace imgpipe::gpu
