#pragma once
// `-` for stdin and stdout, for every command that reads or writes one file.

#include <cstdint>
#include <cstdio>
#include <imgpipe/error.hpp>
#include <span>
#include <vector>

namespace imgpipe::cli {

inline std::vector<std::uint8_t> read_stdin() {
  std::vector<std::uint8_t> bytes;
  std::vector<char> chunk(1 << 16);
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), stdin)) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  if (std::ferror(stdin)) throw Error(ErrorCategory::io, "<stdin>: read failed");
  return bytes;
}

inline void write_stdout(std::span<const std::uint8_t> bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
    throw Error(ErrorCategory::io, "<stdout>: write failed");
}

}  // namespace imgpipe::cli
