#pragma once
// The label images the clustering writes and the palette application reads.

#include <cstdint>

namespace imgpipe {

// The label of a pixel outside the mask: it keeps its own colour.
inline constexpr std::uint8_t kMasked = 255;

}  // namespace imgpipe
