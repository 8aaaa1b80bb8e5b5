#pragma once
#include <cstdint>
#include <vector>

namespace imgpipe::detail {

// Sets the orientation tag (0x0112) of IFD0 in an EXIF block ("Exif\0\0" + TIFF) to 1, in
// place, so that metadata copied to an output agrees with pixels already made upright.
// Leaves a block it cannot parse unchanged.
void reset_exif_orientation(std::vector<std::uint8_t>& exif);

}  // namespace imgpipe::detail
