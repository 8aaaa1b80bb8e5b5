#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace imgpipe {
struct Image;
}

namespace imgpipe::detail {

// What the loader reads from IFD0 of an EXIF block ("Exif\0\0" + TIFF): the orientation
// (1 when absent or out of range), the resolution (0 when absent) and its unit (TIFF's
// ResolutionUnit: 1 none, 2 inch — the default —, 3 centimetre).
struct ExifFields {
  int orientation = 1;
  double xres = 0, yres = 0;
  int resolution_unit = 2;
};
ExifFields read_exif(std::span<const std::uint8_t> exif);

// The TIFF structure of an EXIF block: the block without its "Exif\0\0" prefix (JPEG's APP1
// and libvips keep it; PNG's eXIf and WebP's EXIF chunks do not), or the block itself.
std::span<const std::uint8_t> exif_tiff(std::span<const std::uint8_t> exif);

// Sets the orientation tag (0x0112) of IFD0 in an EXIF block ("Exif\0\0" + TIFF) in place.
// Leaves a block it cannot parse, or one without the tag, unchanged.
void set_exif_orientation(std::vector<std::uint8_t>& exif, int orientation);

// The image's EXIF block as it should be written: its orientation tag agreeing with the
// pixels (Image::orientation), whatever an earlier step left in the block.
std::vector<std::uint8_t> exif_for_output(const Image& image);

}  // namespace imgpipe::detail
