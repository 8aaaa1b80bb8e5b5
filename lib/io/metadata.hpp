#pragma once
// Metadata held to Limits::max_metadata_bytes and max_metadata_segments before a decoder sees
// it: a JPEG with thousands of APP segments or a PNG with a 50 MB eXIf chunk costs a decoder
// hundreds of megabytes and seconds, for data no image needs. What is over the limits is left
// out of the bytes handed to the decoder, with a warning.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace imgpipe::detail {

// Reads up to out.size() bytes at `offset` of a file or buffer; the count read (0 at its end).
using ReadAt = std::function<std::size_t(std::uint64_t offset, std::span<std::uint8_t> out)>;

struct MetadataScan {
  std::uint64_t segments = 0, bytes = 0;  // every metadata segment found, and their bytes
  std::uint64_t dropped_segments = 0, dropped_bytes = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> drop;  // [begin, end) ranges to leave out

  bool over() const { return !drop.empty(); }
  // "3000 metadata segments (190 MB): 2744 (175 MB) left out, over the limits of 256
  // segments and 16777216 bytes"
  std::string describe(std::uint64_t max_bytes, std::uint64_t max_segments) const;
};

// JPEG: the APPn and COM segments before the first scan (APP0, JFIF, and APP14, Adobe's
// colour transform, are always kept); PNG: the tEXt, zTXt, iTXt, eXIf and iCCP chunks,
// wherever they are. Kept in file order while within both limits (0 = no limit); the rest go.
// Other formats, and files that are not well formed, scan as having no metadata (the decoder
// reports what is wrong with them).
MetadataScan scan_metadata(const ReadAt& read, std::uint64_t size, std::uint64_t max_bytes,
                           std::uint64_t max_segments);

// The file's bytes without the ranges the scan leaves out.
std::vector<std::uint8_t> without_dropped(const ReadAt& read, std::uint64_t size, const MetadataScan& scan);

}  // namespace imgpipe::detail
