#pragma once
// The inputs of tools/gpu-check, shared by the golden generator (built with libimgpipe) and the
// standalone harness (built with nothing but the C++ standard library): one real photo is
// stored raw (1024x640 RGBA, 8-bit) and every other input is derived from it here with integer
// arithmetic, so both programs see the same bytes without a 42 MB image travelling.
//
//   RGB        the stored image without its alpha
//   4096x2560  4x pixel replication plus a per-sample hash dither of -2..+2 levels, so that no
//              4x4 block is flat (a kernel that only ever sees flat blocks proves little)
//   16-bit     v * 257 plus a per-sample hash dither of -128..+128, so the low byte varies
//
// Alpha keeps its fully transparent (0) and fully opaque (255 / 65535) samples exactly, so the
// premultiplied paths still meet both; other alpha values are dithered like the colour.
//
// Plain C++17, no dependencies: the harness is built with whatever g++ the GPU machine has.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace gpu_check {

// The stored photo.
constexpr int kBaseWidth = 1024;
constexpr int kBaseHeight = 640;
constexpr int kBaseChannels = 4;
constexpr const char* kBaseFile = "input_1024x640_rgba8.raw";

// The layout of one derived input: `scale` 1 or 4, `channels` 3 or 4, `depth` 1 or 2 bytes.
struct InputLayout {
  int scale = 1;
  int channels = 4;
  int depth = 1;
  int width() const { return kBaseWidth * scale; }
  int height() const { return kBaseHeight * scale; }
  std::size_t row_bytes() const { return static_cast<std::size_t>(width()) * channels * depth; }
  std::size_t bytes() const { return row_bytes() * static_cast<std::size_t>(height()); }
};

// A 32-bit mix of (x, y, channel) (the finaliser of MurmurHash3): deterministic and without
// visible pattern.
inline std::uint32_t sample_hash(std::uint32_t x, std::uint32_t y, std::uint32_t c) {
  std::uint32_t h = x * 0x9E3779B1u ^ (y + 0x7F4A7C15u) * 0x85EBCA77u ^ (c + 1u) * 0xC2B2AE3Du;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

// One derived sample from the stored 8-bit value `v`; `alpha` says the sample is alpha.
inline int derive_sample(int v, bool alpha, const InputLayout& layout, int x, int y, int c) {
  const std::uint32_t h = sample_hash(static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y),
                                      static_cast<std::uint32_t>(c));
  int max = 255, out = v;
  if (layout.depth == 2) {
    max = 65535;
    out = v * 257 + static_cast<int>(h % 257u) - 128;
  } else if (layout.scale > 1) {
    out = v + static_cast<int>(h % 5u) - 2;
  } else {
    return v;
  }
  if (alpha) {
    if (v == 0) return 0;
    if (v == 255) return max;
    return std::clamp(out, 1, max - 1);
  }
  return std::clamp(out, 0, max);
}

// Writes the input of `layout` derived from the stored RGBA photo `base` into `out`
// (layout.bytes() bytes, rows packed; 16-bit samples in native byte order).
inline void derive_input(const std::uint8_t* base, const InputLayout& layout, std::uint8_t* out) {
  const int width = layout.width(), height = layout.height(), channels = layout.channels;
  for (int y = 0; y < height; ++y) {
    const std::uint8_t* source_row =
        base + static_cast<std::size_t>(y / layout.scale) * kBaseWidth * kBaseChannels;
    std::uint8_t* row = out + static_cast<std::size_t>(y) * layout.row_bytes();
    for (int x = 0; x < width; ++x) {
      const std::uint8_t* source = source_row + static_cast<std::size_t>(x / layout.scale) * kBaseChannels;
      for (int c = 0; c < channels; ++c) {
        const bool alpha = channels == 4 && c == 3;
        const int v = derive_sample(source[c], alpha, layout, x, y, c);
        const std::size_t at = static_cast<std::size_t>(x) * channels + static_cast<std::size_t>(c);
        if (layout.depth == 1) {
          row[at] = static_cast<std::uint8_t>(v);
        } else {
          const std::uint16_t v16 = static_cast<std::uint16_t>(v);
          std::memcpy(row + at * 2, &v16, 2);
        }
      }
    }
  }
}

inline std::vector<std::uint8_t> derive_input(const std::vector<std::uint8_t>& base,
                                              const InputLayout& layout) {
  std::vector<std::uint8_t> out(layout.bytes());
  derive_input(base.data(), layout, out.data());
  return out;
}

// 64-bit FNV-1a of one row: what the goldens of the exact kernels hold, one per row.
inline std::uint64_t fnv1a(const std::uint8_t* bytes, std::size_t size) {
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= bytes[i];
    h *= 0x100000001B3ull;
  }
  return h;
}

// "rgb8", "rgba16", ... as the manifest and the table name layouts.
inline std::string layout_name(int channels, int depth) {
  static const char* const names[] = {"", "grey", "grey+a", "rgb", "rgba"};
  return std::string(channels >= 1 && channels <= 4 ? names[channels] : "?") + (depth == 2 ? "16" : "8");
}

}  // namespace gpu_check
