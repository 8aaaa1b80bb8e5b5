#include "metadata.hpp"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <imgpipe/error.hpp>

namespace imgpipe::detail {

namespace {

std::uint32_t big_endian(const std::uint8_t* bytes, int length) {
  std::uint32_t value = 0;
  for (int i = 0; i < length; ++i) value = value << 8 | bytes[i];
  return value;
}

// Decides segment by segment, in file order, what stays.
class Budget {
 public:
  Budget(MetadataScan& scan, std::uint64_t max_bytes, std::uint64_t max_segments)
      : scan_(scan), max_bytes_(max_bytes), max_segments_(max_segments) {}

  void segment(std::uint64_t begin, std::uint64_t end, bool always_kept) {
    const std::uint64_t length = end - begin;
    ++scan_.segments;
    scan_.bytes += length;
    const bool fits = (max_segments_ == 0 || kept_segments_ < max_segments_) &&
                      (max_bytes_ == 0 || kept_bytes_ + length <= max_bytes_);
    if (fits || always_kept) {
      ++kept_segments_;
      kept_bytes_ += length;
      return;
    }
    ++scan_.dropped_segments;
    scan_.dropped_bytes += length;
    if (!scan_.drop.empty() && scan_.drop.back().second == begin)
      scan_.drop.back().second = end;  // adjacent ranges as one
    else
      scan_.drop.emplace_back(begin, end);
  }

 private:
  MetadataScan& scan_;
  std::uint64_t max_bytes_, max_segments_;
  std::uint64_t kept_bytes_ = 0, kept_segments_ = 0;
};

// ITU T.81 B.1.1: after SOI, marker segments FF xx + a 16-bit length (that counts itself)
// until the first scan (SOS, DA); fill bytes FF may precede a marker.
void scan_jpeg(const ReadAt& read, std::uint64_t size, Budget& budget) {
  std::uint64_t at = 2;
  std::array<std::uint8_t, 4> head{};
  while (at + 4 <= size) {
    if (read(at, head) < head.size() || head[0] != 0xff) return;
    const std::uint8_t marker = head[1];
    if (marker == 0xff) {
      ++at;
      continue;
    }
    if (marker == 0xda || marker == 0xd9) return;                // the first scan, or the end
    if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {  // no length
      at += 2;
      continue;
    }
    const std::uint64_t end = at + 2 + big_endian(head.data() + 2, 2);
    if (end > size) return;
    const bool app = marker >= 0xe0 && marker <= 0xef;
    if (app || marker == 0xfe) budget.segment(at, end, marker == 0xe0 || marker == 0xee);
    at = end;
  }
}

// PNG: chunks of a 32-bit length, a 4-byte type, the data and a CRC, after the signature.
void scan_png(const ReadAt& read, std::uint64_t size, Budget& budget) {
  std::uint64_t at = 8;
  std::array<std::uint8_t, 8> head{};
  while (at + 12 <= size) {
    if (read(at, head) < head.size()) return;
    const std::uint64_t end = at + 12 + big_endian(head.data(), 4);
    if (end > size) return;
    const char* type = reinterpret_cast<const char*>(head.data() + 4);
    if (std::memcmp(type, "IEND", 4) == 0) return;
    for (const char* metadata : {"tEXt", "zTXt", "iTXt", "eXIf", "iCCP"})
      if (std::memcmp(type, metadata, 4) == 0) budget.segment(at, end, false);
    at = end;
  }
}

std::string megabytes(std::uint64_t bytes) {
  return fmt::format("{:.1f} MB", static_cast<double>(bytes) / 1e6);
}

}  // namespace

std::string MetadataScan::describe(std::uint64_t max_bytes, std::uint64_t max_segments) const {
  return fmt::format(
      "{} metadata segments ({}): {} of them ({}) left out, over the limits of {} segments and {} bytes "
      "(max_metadata_segments, max_metadata_size)",
      segments, megabytes(bytes), dropped_segments, megabytes(dropped_bytes), max_segments, max_bytes);
}

MetadataScan scan_metadata(const ReadAt& read, std::uint64_t size, std::uint64_t max_bytes,
                           std::uint64_t max_segments) {
  MetadataScan scan;
  if (max_bytes == 0 && max_segments == 0) return scan;
  std::array<std::uint8_t, 8> magic{};
  if (size < magic.size() || read(0, magic) < magic.size()) return scan;
  static constexpr std::uint8_t kPng[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  Budget budget(scan, max_bytes, max_segments);
  if (magic[0] == 0xff && magic[1] == 0xd8)
    scan_jpeg(read, size, budget);
  else if (std::memcmp(magic.data(), kPng, sizeof kPng) == 0)
    scan_png(read, size, budget);
  return scan;
}

std::vector<std::uint8_t> without_dropped(const ReadAt& read, std::uint64_t size, const MetadataScan& scan) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size - scan.dropped_bytes));
  std::size_t filled = 0;
  auto copy = [&](std::uint64_t begin, std::uint64_t end) {
    const auto length = static_cast<std::size_t>(end - begin);
    if (read(begin, std::span(out).subspan(filled, length)) != length)
      throw Error(ErrorCategory::io, "the file changed while it was read");
    filled += length;
  };
  std::uint64_t at = 0;
  for (const auto& [begin, end] : scan.drop) {
    copy(at, begin);
    at = end;
  }
  copy(at, size);
  return out;
}

}  // namespace imgpipe::detail
