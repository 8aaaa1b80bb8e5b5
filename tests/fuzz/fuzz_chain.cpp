// libFuzzer target: a YAML chain file from text (imgpipe::parse_chain), as `imgpipe run` and
// `imgpipe batch` read one. imgpipe::Error other than Error(internal) is the expected answer to a bad file;
// any other exception, a crash or a sanitizer report is a finding (docs/reliability.md).
#include <cstddef>
#include <cstdint>
#include <imgpipe/config.hpp>
#include <string_view>

#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  imgpipe::fuzz::expect_user_errors([&] {
    imgpipe::ChainFile file = imgpipe::parse_chain(text, "fuzz.yaml");
    // What a caller does next with a loaded chain: its load options and its description.
    (void)file.load_options();
    (void)file.chain.min_decode_size({4000, 3000}, file.context.quality);
    (void)file.chain.canonical();
  });
  return 0;
}
