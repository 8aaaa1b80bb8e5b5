// libFuzzer target: palette files (imgpipe::load_palettes) and palette lists
// (imgpipe::parse_palette_list). The first byte picks the file kind the parser is chosen by —
// .json, .yaml, .gpl or plain text — and the rest is the file. imgpipe::Error is the expected
// answer to a bad file; anything else escaping is a finding (docs/reliability.md).
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <imgpipe/palette.hpp>
#include <string>

#include "fuzz_common.hpp"

namespace {

const std::filesystem::path& scratch_folder() {
  static const std::filesystem::path folder = [] {
    auto path = std::filesystem::temp_directory_path() / ("imgpipe-fuzz-palette-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return folder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr std::array<const char*, 4> kExtensions = {".json", ".yaml", ".gpl", ".txt"};
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto path = scratch_folder() / (std::string("palette") + kExtensions[data[0] % kExtensions.size()]);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  imgpipe::fuzz::expect_user_errors([&] { (void)imgpipe::load_palettes(path); });
  imgpipe::fuzz::expect_user_errors([&] { (void)imgpipe::parse_palette_list(text); });
  return 0;
}
