// Palette PNG written chunk by chunk from an index image. The index stream (filter byte +
// packed row, deflated) depends only on the indices, not on the colour table, so it is
// compressed once and reused by every image that shares the indices.
//
// Compression runs on fixed strips of rows in parallel, each a raw deflate stream ended by a
// full flush, joined into one zlib stream with a combined Adler-32 (the method of pigz). The
// strips are fixed in size, so the bytes are the same for any number of threads.

#include <tbb/parallel_for.h>
#include <zlib.h>

#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <map>
#include <mutex>

#include "encoders.hpp"

namespace imgpipe {

struct IndexedEncodeCache {
  std::mutex mutex;
  std::map<std::pair<int, int>, std::shared_ptr<const std::vector<std::uint8_t>>> idat;  // (bits, level)
};

std::shared_ptr<IndexedEncodeCache> new_encode_cache() {
  return std::make_shared<IndexedEncodeCache>();
}

std::vector<std::uint8_t> encode_indexed_png(const IndexedPixels& indexed, int compression) {
  SaveOptions options;
  options.compression = compression;
  return detail::encode_png_from_indices(indexed, options);
}

namespace detail {

namespace {

constexpr int kStripRows = 128;

int bits_for(std::size_t colours) {
  return colours <= 2 ? 1 : colours <= 4 ? 2 : colours <= 16 ? 4 : 8;
}

// Filter byte 0 and the row's indices packed at `bits` per pixel, most significant first.
void pack_row(const std::uint8_t* indices, int width, int bits, std::uint8_t* out) {
  *out++ = 0;
  if (bits == 8) {
    std::copy(indices, indices + width, out);
    return;
  }
  const int per_byte = 8 / bits;
  for (int x = 0; x < width; x += per_byte) {
    std::uint8_t byte = 0;
    for (int i = 0; i < per_byte; ++i) {
      byte = static_cast<std::uint8_t>(byte << bits);
      if (x + i < width) byte = static_cast<std::uint8_t>(byte | indices[x + i]);
    }
    *out++ = byte;
  }
}

std::vector<std::uint8_t> compress_indices(const cv::Mat& indices, int bits, int level) {
  const int width = indices.cols, height = indices.rows;
  const std::size_t row_bytes =
      1 + (static_cast<std::size_t>(width) * static_cast<std::size_t>(bits) + 7) / 8;
  const int strips = (height + kStripRows - 1) / kStripRows;
  std::vector<std::vector<std::uint8_t>> compressed(static_cast<std::size_t>(strips));
  std::vector<uLong> adlers(static_cast<std::size_t>(strips));
  std::vector<uLong> lengths(static_cast<std::size_t>(strips));
  // Palette indices are long runs: Z_RLE finds them at a fraction of the default's cost;
  // levels 7..9 ask for the smallest file and get the default strategy.
  const int strategy = level <= 6 ? Z_RLE : Z_DEFAULT_STRATEGY;
  tbb::parallel_for(0, strips, [&](int strip) {
    const int y0 = strip * kStripRows, y1 = std::min(height, y0 + kStripRows);
    std::vector<std::uint8_t> raw(row_bytes * static_cast<std::size_t>(y1 - y0));
    for (int y = y0; y < y1; ++y)
      pack_row(indices.ptr<std::uint8_t>(y), width, bits,
               raw.data() + row_bytes * static_cast<std::size_t>(y - y0));
    z_stream z{};
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, strategy) != Z_OK)
      throw Error(ErrorCategory::internal, "zlib could not start");
    auto& out = compressed[static_cast<std::size_t>(strip)];
    out.resize(deflateBound(&z, raw.size()) + 16);
    z.next_in = raw.data();
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const bool last = strip == strips - 1;
    deflate(&z, last ? Z_FINISH : Z_FULL_FLUSH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    adlers[static_cast<std::size_t>(strip)] =
        adler32(adler32(0, nullptr, 0), raw.data(), static_cast<uInt>(raw.size()));
    lengths[static_cast<std::size_t>(strip)] = static_cast<uLong>(raw.size());
  });
  std::vector<std::uint8_t> stream = {0x78, 0x01};  // zlib header: deflate, 32K window
  uLong adler = adler32(0, nullptr, 0);
  for (int s = 0; s < strips; ++s) {
    const auto& part = compressed[static_cast<std::size_t>(s)];
    stream.insert(stream.end(), part.begin(), part.end());
    adler = adler32_combine(adler, adlers[static_cast<std::size_t>(s)],
                            static_cast<z_off_t>(lengths[static_cast<std::size_t>(s)]));
  }
  for (int shift = 24; shift >= 0; shift -= 8) stream.push_back(static_cast<std::uint8_t>(adler >> shift));
  return stream;
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void chunk(std::vector<std::uint8_t>& out, const char* type, const std::uint8_t* data, std::size_t size) {
  put32(out, static_cast<std::uint32_t>(size));
  const std::size_t start = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data, data + size);
  put32(out, static_cast<std::uint32_t>(crc32(0, out.data() + start, static_cast<uInt>(size + 4))));
}

}  // namespace

std::vector<std::uint8_t> encode_png_from_indices(const IndexedPixels& indexed, const SaveOptions& options) {
  const cv::Mat& indices = indexed.indices;
  if (indices.type() != CV_8UC1 || indexed.table.empty() || indexed.table.size() > 256)
    throw Error(ErrorCategory::internal, "indexed pixels need CV_8UC1 indices and 1..256 colours");
  const int bits = bits_for(indexed.table.size());
  const int level = options.compression;
  std::shared_ptr<const std::vector<std::uint8_t>> idat;
  if (indexed.cache) {
    std::lock_guard lock(indexed.cache->mutex);  // variants wait for the one compression
    auto& slot = indexed.cache->idat[{bits, level}];
    if (!slot)
      slot = std::make_shared<const std::vector<std::uint8_t>>(compress_indices(indices, bits, level));
    idat = slot;
  } else {
    idat = std::make_shared<const std::vector<std::uint8_t>>(compress_indices(indices, bits, level));
  }

  std::vector<std::uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<std::uint8_t> header;
  put32(header, static_cast<std::uint32_t>(indices.cols));
  put32(header, static_cast<std::uint32_t>(indices.rows));
  header.insert(header.end(), {static_cast<std::uint8_t>(bits), 3, 0, 0, 0});  // palette, no interlace
  chunk(out, "IHDR", header.data(), header.size());
  std::vector<std::uint8_t> plte, trns;
  for (const auto& c : indexed.table) plte.insert(plte.end(), {c[0], c[1], c[2]});
  std::size_t last_translucent = 0;
  for (std::size_t i = 0; i < indexed.table.size(); ++i)
    if (indexed.table[i][3] != 255) last_translucent = i + 1;
  for (std::size_t i = 0; i < last_translucent; ++i) trns.push_back(indexed.table[i][3]);
  chunk(out, "PLTE", plte.data(), plte.size());
  if (!trns.empty()) chunk(out, "tRNS", trns.data(), trns.size());
  chunk(out, "IDAT", idat->data(), idat->size());
  chunk(out, "IEND", nullptr, 0);
  return out;
}

}  // namespace detail
}  // namespace imgpipe
