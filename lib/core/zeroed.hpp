#pragma once
#include <cstddef>
#include <new>
#include <span>
#include <type_traits>

namespace imgpipe::detail {

// Zero-filled memory straight from the kernel, for large tables that are filled once and
// dropped (histograms, colour tables). From 2 MB up it is aligned to 2 MB and advised for
// transparent huge pages where the kernel offers them (Linux "madvise" mode, the Debian
// default): a 4 MB table then costs two page faults instead of a thousand, and on virtual
// machines, where one fault costs microseconds, that was most of the time a 2048² palette
// histogram took. Pages never written stay unmapped below 2 MB; above, a huge page maps
// 2 MB at a time, so tables that touch only a few scattered entries should not use it.
void* map_zeroed(std::size_t bytes);  // throws std::bad_alloc
void unmap_zeroed(void* p, std::size_t bytes) noexcept;
// Advises the whole 2 MB pages inside [p, p + bytes) for transparent huge pages.
void advise_huge_pages(void* p, std::size_t bytes) noexcept;

template <class T>
class ZeroedArray {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "all-zero bytes must be a valid T");

 public:
  explicit ZeroedArray(std::size_t n) : size_(n), data_(static_cast<T*>(map_zeroed(n * sizeof(T)))) {}
  ~ZeroedArray() { unmap_zeroed(data_, size_ * sizeof(T)); }
  ZeroedArray(ZeroedArray&& other) noexcept : size_(other.size_), data_(other.data_) {
    other.size_ = 0;
    other.data_ = nullptr;
  }
  ZeroedArray& operator=(ZeroedArray&& other) noexcept {
    std::swap(size_, other.size_);
    std::swap(data_, other.data_);
    return *this;
  }

  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  T* data() { return data_; }
  std::size_t size() const { return size_; }
  std::span<const T> span() const { return {data_, size_}; }

 private:
  std::size_t size_;
  T* data_;
};

}  // namespace imgpipe::detail
