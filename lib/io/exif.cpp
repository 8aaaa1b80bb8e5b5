#include "exif.hpp"

#include <algorithm>
#include <cstring>
#include <imgpipe/image.hpp>

namespace imgpipe::detail {

std::span<const std::uint8_t> exif_tiff(std::span<const std::uint8_t> exif) {
  const bool prefixed = exif.size() >= 6 && std::memcmp(exif.data(), "Exif\0\0", 6) == 0;
  return prefixed ? exif.subspan(6) : exif;
}

namespace {

// A TIFF structure inside an EXIF block ("Exif\0\0" + TIFF, or TIFF alone), read with bounds
// checks: whatever is out of the block reads as absent.
class Tiff {
 public:
  explicit Tiff(std::span<const std::uint8_t> exif) : exif_(exif) {
    base_ = exif.size() - exif_tiff(exif).size();
    if (exif.size() < base_ + 8) return;
    little_ = exif[base_] == 'I' && exif[base_ + 1] == 'I';
    valid_ = little_ || (exif[base_] == 'M' && exif[base_ + 1] == 'M');
  }

  // Calls f(tag, type, entry offset) for each entry of IFD0 that lies inside the block.
  template <class F>
  void for_each_entry(F&& f) const {
    if (!valid_) return;
    const std::size_t ifd = base_ + u32(base_ + 4);
    if (ifd < base_ || ifd + 2 > exif_.size()) return;
    const std::uint32_t entries = u16(ifd);
    for (std::uint32_t i = 0; i < entries; ++i) {
      const std::size_t entry = ifd + 2 + static_cast<std::size_t>(i) * 12;
      if (entry + 12 > exif_.size()) return;
      f(u16(entry), u16(entry + 2), entry);
    }
  }

  bool little() const { return little_; }
  std::uint32_t u16(std::size_t at) const {
    if (at + 2 > exif_.size()) return 0;
    return little_ ? exif_[at] | exif_[at + 1] << 8 : exif_[at] << 8 | exif_[at + 1];
  }
  std::uint32_t u32(std::size_t at) const {
    return little_ ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2);
  }
  // An unsigned RATIONAL entry's value (stored at an offset from the TIFF header); 0 when
  // absent or with a zero denominator.
  double rational(std::size_t entry) const {
    const std::size_t at = base_ + u32(entry + 8);
    if (at < base_ || at + 8 > exif_.size()) return 0;
    const std::uint32_t numerator = u32(at), denominator = u32(at + 4);
    return denominator ? static_cast<double>(numerator) / denominator : 0;
  }

 private:
  std::span<const std::uint8_t> exif_;
  std::size_t base_ = 0;
  bool little_ = false, valid_ = false;
};

constexpr std::uint32_t kShort = 3, kRational = 5;

}  // namespace

ExifFields read_exif(std::span<const std::uint8_t> exif) {
  ExifFields fields;
  const Tiff tiff(exif);
  tiff.for_each_entry([&](std::uint32_t tag, std::uint32_t type, std::size_t entry) {
    if (tag == 0x0112 && type == kShort) fields.orientation = static_cast<int>(tiff.u16(entry + 8));
    if (tag == 0x011a && type == kRational) fields.xres = tiff.rational(entry);
    if (tag == 0x011b && type == kRational) fields.yres = tiff.rational(entry);
    if (tag == 0x0128 && type == kShort) fields.resolution_unit = static_cast<int>(tiff.u16(entry + 8));
  });
  if (fields.orientation < 1 || fields.orientation > 8) fields.orientation = 1;
  return fields;
}

void set_exif_orientation(std::vector<std::uint8_t>& exif, int orientation) {
  const auto value = static_cast<std::uint8_t>(std::clamp(orientation, 1, 8));
  bool done = false;
  const Tiff tiff(exif);
  tiff.for_each_entry([&](std::uint32_t tag, std::uint32_t type, std::size_t entry) {
    if (done || tag != 0x0112 || type != kShort) return;
    exif[entry + 8] = tiff.little() ? value : 0;
    exif[entry + 9] = tiff.little() ? 0 : value;
    done = true;
  });
}

std::vector<std::uint8_t> exif_for_output(const Image& image) {
  std::vector<std::uint8_t> exif = image.exif;
  set_exif_orientation(exif, image.orientation);
  return exif;
}

}  // namespace imgpipe::detail
