// Large tables and images on their own 2 MB-aligned mappings, advised for huge pages
// (lib/core/zeroed.hpp, imgpipe::large_page_allocator).
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <imgpipe/image.hpp>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>

#include "core/zeroed.hpp"

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

bool aligned_to_huge_page(const void* p) {
  return (reinterpret_cast<std::uintptr_t>(p) & (kHugePage - 1)) == 0;
}

// The kernel's transparent huge page mode: "always", "madvise" or "never" ("" unknown).
std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;
  std::getline(in, text);
  const auto open = text.find('['), close = text.find(']');
  return open == std::string::npos || close == std::string::npos ? ""
                                                                 : text.substr(open + 1, close - open - 1);
}

// AnonHugePages (kB) of the mapping of /proc/self/smaps that holds `p`.
long huge_kb_of_mapping(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> begin >> dash >> end && dash == '-') {
      inside = address >= begin && address < end;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) return std::stol(line.substr(14));
  }
  return -1;
}

TEST(ZeroedArray, IsZeroWritableAndAlignedWhenLarge) {
  imgpipe::detail::ZeroedArray<std::uint32_t> table(3'000'001);  // 12 MB, not a page multiple
  EXPECT_TRUE(aligned_to_huge_page(table.data()));
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < table.size(); i += 997) sum += table[i];
  EXPECT_EQ(sum, 0u);
  table[0] = 1;
  table[table.size() - 1] = 2;  // the last element lies in the mapping's partial last page
  EXPECT_EQ(table[0] + table[table.size() - 1], 3u);

  imgpipe::detail::ZeroedArray<std::uint32_t> moved(std::move(table));
  EXPECT_EQ(moved[moved.size() - 1], 2u);
  EXPECT_EQ(table.size(), 0u);  // NOLINT(bugprone-use-after-move): a moved-from array is empty

  imgpipe::detail::ZeroedArray<std::uint8_t> small(1000);
  EXPECT_EQ(small[999], 0);
}

TEST(LargePageAllocator, ImagesLargeAndSmallBehaveAsOpenCVsOwn) {
  cv::Mat large;
  large.allocator = imgpipe::large_page_allocator();
  large.create(2048, 2048, CV_8UC3);
  large.setTo(cv::Scalar(1, 2, 3));

  // A view keeps the buffer alive after the image that made it is gone.
  cv::Mat view = large(cv::Rect(100, 200, 50, 60));
  large.release();
  EXPECT_EQ(view.at<cv::Vec3b>(59, 49), cv::Vec3b(1, 2, 3));
  cv::Mat copy = view.clone();  // default allocator
  view.release();
  EXPECT_EQ(copy.at<cv::Vec3b>(0, 0), cv::Vec3b(1, 2, 3));

  cv::Mat small;
  small.allocator = imgpipe::large_page_allocator();
  small.create(64, 64, CV_16UC4);
  small.setTo(cv::Scalar::all(65535));
  EXPECT_EQ(cv::countNonZero(small.reshape(1) != 65535), 0);

  // Any image type and a 3-D Mat go through the same step arithmetic as OpenCV's own.
  const int sizes[] = {4, 1024, 1024};
  cv::Mat cube;
  cube.allocator = imgpipe::large_page_allocator();
  cube.create(3, sizes, CV_8UC1);
  EXPECT_EQ(cube.step[0], 1024u * 1024u);
  EXPECT_EQ(cube.step[1], 1024u);
}

TEST(LargePageAllocator, LargeImagesLieOnHugePagesWhereTheKernelOffersThem) {
  const std::string mode = thp_mode();
  if (mode != "madvise" && mode != "always")
    GTEST_SKIP() << "transparent huge pages are '" << mode << "' on this kernel: nothing to observe";
  // 64 MB: over malloc's largest mmap threshold, so a fresh mapping whatever came before.
  cv::Mat large;
  large.allocator = imgpipe::large_page_allocator();
  large.create(8192, 8192, CV_8UC1);
  large.setTo(cv::Scalar(7));
  const long kb = huge_kb_of_mapping(large.data + large.total() / 2);
  if (kb < 0) GTEST_SKIP() << "/proc/self/smaps does not list the mapping";
  EXPECT_GT(kb, 0) << "no huge page backs the 64 MB image (THP mode " << mode << ")";
}

}  // namespace
