#pragma once
// What every command does the same way: `-` for stdin and stdout where one file is read or
// written, the output folder made when missing, the one style of messages on stderr, and the
// JSON form of dominant colours that the command and the service share.

#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/palette.hpp>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
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

// A job on a file, or on what stdin holds for "-" (which cannot stream: `options` is for files).
inline Job open_input(const ChainFile& file, const std::string& input, const Context& context,
                      const JobOptions& options = {}) {
  return input == "-" ? Job(file, read_stdin(), "<stdin>", context) : Job(file, input, context, options);
}

// Makes `folder` (and its parents) when missing, as batch does for its output folder.
inline void make_output_folder(const std::filesystem::path& folder) {
  if (folder.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (ec || !std::filesystem::is_directory(folder))
    throw Error(ErrorCategory::io, fmt::format("{}: cannot create the output folder: {}", folder.string(),
                                               ec ? ec.message() : std::string("a file is in the way")));
}

// "imgpipe: io error: photo.jpg: no such file": every error, whichever command prints it.
inline std::string error_line(ErrorCategory category, std::string_view message) {
  return fmt::format("imgpipe: {} error: {}\n", to_string(category), message);
}
inline std::string error_line(const Error& e) {
  return error_line(e.category(), e.what());
}

inline std::string warning_line(std::string_view message) {
  return fmt::format("imgpipe: warning: {}\n", message);
}

// `extract-palette --json` and POST /v1/extract-palette: [{hex, rgb, lab, fraction}].
inline nlohmann::json dominant_colours_json(const std::vector<DominantColour>& colours) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : colours)
    out.push_back({{"hex", to_hex(c.colour).substr(0, 7)},
                   {"rgb", {c.colour.r, c.colour.g, c.colour.b}},
                   {"lab", {c.lab.L, c.lab.a, c.lab.b}},
                   {"fraction", c.fraction}});
  return out;
}

}  // namespace imgpipe::cli
