#pragma once
// Per-call tables in device memory, and the launch helpers the one-thread-per-pixel kernels
// share. A call places its tables (add() a copy of host values, reserve() zeroes), allocate()
// gathers them in host memory and takes one block of device memory for all of them from the
// stream-ordered pool, upload() queues the copy, and the block is given back on the same stream
// when the DeviceTables goes: after the kernels queued before it, so a table outlives the work
// that reads it.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "context.hpp"

namespace imgpipe::cuda {

class DeviceTables {
 public:
  explicit DeviceTables(imgpipe_cuda_context* context) : context_(context) {}
  ~DeviceTables() {
    if (device_) cudaFreeAsync(device_, context_->stream);
  }
  DeviceTables(const DeviceTables&) = delete;
  DeviceTables& operator=(const DeviceTables&) = delete;

  // Room for `count` values of T, zeroed; returns its offset.
  template <typename T>
  std::size_t reserve(std::size_t count) {
    return place(alignof(T), count * sizeof(T), nullptr);
  }
  // A copy of `count` values (taken by allocate(), so they must live until then); returns its
  // offset.
  template <typename T>
  std::size_t add(const T* values, std::size_t count) {
    return place(alignof(T), count * sizeof(T), values);
  }

  // The host copy and the device block for everything placed so far; 0 or the failure's status.
  int allocate() {
    host_.assign(bytes_, 0);
    for (const Part& part : parts_)
      if (part.values && part.bytes) std::memcpy(host_.data() + part.offset, part.values, part.bytes);
    if (bytes_ == 0) return IMGPIPE_CUDA_OK;
    void* block = nullptr;
    if (const int status =
            check(context_, cudaMallocAsync(&block, bytes_, context_->stream), "allocating the tables"))
      return status;
    device_ = static_cast<unsigned char*>(block);
    return IMGPIPE_CUDA_OK;
  }
  // Queues the copy of the host tables to the device block.
  int upload() {
    if (bytes_ == 0) return IMGPIPE_CUDA_OK;
    return check(context_,
                 cudaMemcpyAsync(device_, host_.data(), bytes_, cudaMemcpyHostToDevice, context_->stream),
                 "copying the tables");
  }

  // The host and the device copy of the values at `offset`, valid after allocate().
  template <typename T>
  T* host(std::size_t offset) {
    return reinterpret_cast<T*>(host_.data() + offset);
  }
  template <typename T>
  const T* device(std::size_t offset) const {
    return reinterpret_cast<const T*>(device_ + offset);
  }

 private:
  struct Part {
    std::size_t offset, bytes;
    const void* values;
  };

  std::size_t place(std::size_t align, std::size_t bytes, const void* values) {
    const std::size_t boundary = align > 16 ? align : 16;
    const std::size_t offset = (bytes_ + boundary - 1) / boundary * boundary;
    parts_.push_back({offset, bytes, values});
    bytes_ = offset + bytes;
    return offset;
  }

  imgpipe_cuda_context* context_;
  std::vector<Part> parts_;
  std::size_t bytes_ = 0;
  std::vector<unsigned char> host_;
  unsigned char* device_ = nullptr;
};

// One thread per pixel, in blocks of 32 x 8.
inline dim3 pixel_block() {
  return {32, 8, 1};
}
inline dim3 pixel_grid(int width, int height) {
  return {static_cast<unsigned>((width + 31) / 32), static_cast<unsigned>((height + 7) / 8), 1};
}

// Whether the kernel just queued was launched; the status of its failure otherwise.
inline int launched(imgpipe_cuda_context* context, const char* what) {
  return check(context, cudaGetLastError(), what);
}

}  // namespace imgpipe::cuda
