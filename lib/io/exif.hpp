#pragma once
#include <cstdint>
#include <vector>

namespace imgpipe {
struct Image;
}

namespace imgpipe::detail {

// Sets the orientation tag (0x0112) of IFD0 in an EXIF block ("Exif\0\0" + TIFF) in place.
// Leaves a block it cannot parse, or one without the tag, unchanged.
void set_exif_orientation(std::vector<std::uint8_t>& exif, int orientation);

// The image's EXIF block as it should be written: its orientation tag agreeing with the
// pixels (Image::orientation), whatever an earlier step left in the block.
std::vector<std::uint8_t> exif_for_output(const Image& image);

}  // namespace imgpipe::detail
