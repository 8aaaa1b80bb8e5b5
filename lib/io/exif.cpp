#include "exif.hpp"

#include <algorithm>
#include <cstring>
#include <imgpipe/image.hpp>

namespace imgpipe::detail {

void set_exif_orientation(std::vector<std::uint8_t>& exif, int orientation) {
  std::size_t base = 0;
  if (exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0) base = 6;
  if (exif.size() < base + 8) return;
  const bool little = exif[base] == 'I' && exif[base + 1] == 'I';
  const bool big = exif[base] == 'M' && exif[base + 1] == 'M';
  if (!little && !big) return;
  auto u16 = [&](std::size_t at) -> std::uint32_t {
    return little ? exif[at] | exif[at + 1] << 8 : exif[at] << 8 | exif[at + 1];
  };
  auto u32 = [&](std::size_t at) -> std::uint32_t {
    return little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2);
  };
  std::size_t ifd = base + u32(base + 4);
  if (ifd + 2 > exif.size()) return;
  std::uint32_t entries = u16(ifd);
  const auto value = static_cast<std::uint8_t>(std::clamp(orientation, 1, 8));
  for (std::uint32_t i = 0; i < entries; ++i) {
    std::size_t entry = ifd + 2 + i * 12;
    if (entry + 12 > exif.size()) return;
    if (u16(entry) == 0x0112 && u16(entry + 2) == 3 /* SHORT */) {
      exif[entry + 8] = little ? value : 0;
      exif[entry + 9] = little ? 0 : value;
      return;
    }
  }
}

std::vector<std::uint8_t> exif_for_output(const Image& image) {
  std::vector<std::uint8_t> exif = image.exif;
  set_exif_orientation(exif, image.orientation);
  return exif;
}

}  // namespace imgpipe::detail
