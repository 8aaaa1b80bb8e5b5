// libFuzzer target: the EXIF orientation patcher (lib/io/exif.hpp) that every encoder runs on
// the input's EXIF block. The first byte is the orientation to set, the rest the block. It
// never throws; any exception, crash or sanitizer report is a finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>
#include <imgpipe/image.hpp>
#include <vector>

#include "io/exif.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int orientation = static_cast<int>(data[0] % 10);  // 0 and 9 are out of range on purpose
  std::vector<std::uint8_t> exif(data + 1, data + size);
  imgpipe::detail::set_exif_orientation(exif, orientation);
  imgpipe::Image image;
  image.exif.assign(data + 1, data + size);
  image.orientation = orientation;
  (void)imgpipe::detail::exif_for_output(image);
  return 0;
}
