#include "zeroed.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <imgpipe/image.hpp>
#include <opencv2/core.hpp>

namespace imgpipe::detail {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

}  // namespace

void* map_zeroed(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  if (bytes < kHugePage) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return p;
  }
  // Map a huge page more than asked, keep the 2 MB-aligned part (whole pages: munmap takes
  // page-aligned addresses).
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  bytes = (bytes + page - 1) / page * page;
  const std::size_t padded = bytes + kHugePage;
  void* raw = mmap(nullptr, padded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const std::size_t tail = start + padded - (aligned + bytes);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: without huge pages it is ordinary memory
#endif
  return p;
}

void advise_huge_pages(void* p, std::size_t bytes) noexcept {
#ifdef MADV_HUGEPAGE
  const auto begin = (reinterpret_cast<std::uintptr_t>(p) + kHugePage - 1) & ~(kHugePage - 1);
  const auto end = (reinterpret_cast<std::uintptr_t>(p) + bytes) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

void unmap_zeroed(void* p, std::size_t bytes) noexcept {
  if (p) munmap(p, bytes);
}

}  // namespace imgpipe::detail

namespace imgpipe {
namespace {

// OpenCV's StdMatAllocator, with the 2 MB-aligned inside of large buffers advised for huge
// pages. The memory still comes from malloc, so a program that decodes image after image
// reuses it without faulting it in again (mapping each buffer afresh made a batch's system
// time double); a buffer malloc maps anew gets huge pages for all but its ends. Aligning the
// buffer itself (malloc'ing 2 MB more) saved another 8 % of a palette run but added 4-5 MB
// to a batch's peak RSS.
class LargePageAllocator final : public cv::MatAllocator {
 public:
  static constexpr std::size_t kLarge = std::size_t{4} << 20;

  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data0, std::size_t* step, cv::AccessFlag,
                         cv::UMatUsageFlags) const override {
    std::size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
      if (step) {
        if (data0 && step[i] != cv::Mat::AUTO_STEP) {
          CV_Assert(total <= step[i]);
          total = step[i];
        } else {
          step[i] = total;
        }
      }
      total *= static_cast<std::size_t>(sizes[i]);
    }
    auto* u = new cv::UMatData(this);
    u->size = total;
    if (data0) {
      u->data = u->origdata = static_cast<uchar*>(data0);
      u->flags |= cv::UMatData::USER_ALLOCATED;
    } else {
      u->data = u->origdata = static_cast<uchar*>(cv::fastMalloc(total));
      if (total >= kLarge) detail::advise_huge_pages(u->origdata, total);
    }
    return u;
  }

  bool allocate(cv::UMatData* u, cv::AccessFlag, cv::UMatUsageFlags) const override { return u != nullptr; }

  void deallocate(cv::UMatData* u) const override {
    if (!u) return;
    CV_Assert(u->urefcount == 0 && u->refcount == 0);
    if (!(u->flags & cv::UMatData::USER_ALLOCATED)) cv::fastFree(u->origdata);
    delete u;
  }
};

}  // namespace

cv::MatAllocator* large_page_allocator() {
  static auto* allocator = new LargePageAllocator;  // never destroyed: images may outlive statics
  return allocator;
}

}  // namespace imgpipe
