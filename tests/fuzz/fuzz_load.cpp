// libFuzzer target: an image from memory through imgpipe's checks — imgpipe::probe_buffer
// (the header) and imgpipe::load_buffer (the pixels), default formats and a small pixel limit
// so that each input stays fast. imgpipe::Error other than Error(internal) is the expected answer to a bad
// file; anything else escaping is a finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>
#include <imgpipe/io.hpp>
#include <span>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  imgpipe::Limits limits;
  limits.max_input_pixels = 512 * 512;
  const std::span<const std::uint8_t> bytes(data, size);
  imgpipe::fuzz::expect_user_errors([&] { (void)imgpipe::probe_buffer(bytes, "fuzz", limits); });
  imgpipe::fuzz::expect_user_errors([&] {
    imgpipe::Image image = imgpipe::load_buffer(bytes, "fuzz", {}, limits);
    (void)image;
  });
  return 0;
}
