#pragma once
// The executor of the CUDA plugin's passes (lib/cuda/pixels.hpp) on the host: every pass runs
// over every pixel in turn, in host memory, with the arithmetic the device runs.

#include <cstddef>
#include <cstring>
#include <memory>
#include <vector>

namespace imgpipe::test::cuda {

class HostExecutor {
 public:
  template <class T>
  T* allocate(std::size_t count) {
    blocks_.push_back(std::make_unique<unsigned char[]>((count ? count : 1) * sizeof(T)));
    return reinterpret_cast<T*>(blocks_.back().get());
  }

  template <class T>
  const T* upload(const std::vector<T>& values) {
    T* copy = allocate<T>(values.size());
    if (!values.empty()) std::memcpy(static_cast<void*>(copy), values.data(), values.size() * sizeof(T));
    return copy;
  }

  template <class Pass>
  void for_each(int width, int height, const Pass& pass) {
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) pass(x, y);
  }

  void copy_rows(void* dst, std::size_t dst_step, const void* src, std::size_t src_step,
                 std::size_t row_bytes, int rows) {
    for (int y = 0; y < rows; ++y)
      std::memcpy(static_cast<unsigned char*>(dst) + static_cast<std::size_t>(y) * dst_step,
                  static_cast<const unsigned char*>(src) + static_cast<std::size_t>(y) * src_step, row_bytes);
  }

 private:
  std::vector<std::unique_ptr<unsigned char[]>> blocks_;
};

}  // namespace imgpipe::test::cuda
