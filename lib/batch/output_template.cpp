// Output templates: where each input's output goes below the output root.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <imgpipe/batch.hpp>
#include <string>

namespace imgpipe {

namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 6> kFields = {"relpath", "stem", "dir", "ext", "variant", "index"};

// A template split into literal text and fields, in order.
struct Piece {
  std::string_view text;
  bool field = false;
};

std::vector<Piece> parse(std::string_view output_template) {
  std::vector<Piece> pieces;
  std::size_t at = 0;
  while (at < output_template.size()) {
    std::size_t open = output_template.find('{', at);
    if (open == std::string_view::npos) {
      pieces.push_back({output_template.substr(at), false});
      break;
    }
    if (open > at) pieces.push_back({output_template.substr(at, open - at), false});
    std::size_t close = output_template.find('}', open);
    if (close == std::string_view::npos)
      throw Error(ErrorCategory::config, fmt::format("output template \"{}\": unclosed brace in \"{}\"",
                                                     output_template, output_template.substr(open)));
    std::string_view name = output_template.substr(open + 1, close - open - 1);
    if (std::find(kFields.begin(), kFields.end(), name) == kFields.end())
      throw Error(ErrorCategory::config,
                  fmt::format("output template \"{}\": unknown field {{{}}}; expected one of {{{}}}",
                              output_template, name, fmt::join(kFields, "} {")));
    pieces.push_back({name, true});
    at = close + 1;
  }
  return pieces;
}

std::string field_value(std::string_view name, const InputFile& input, std::size_t index,
                        std::string_view ext, std::string_view variant) {
  if (name == "relpath") return (input.relpath.parent_path() / input.relpath.stem()).generic_string();
  if (name == "stem") return input.relpath.stem().string();
  if (name == "dir") return input.relpath.parent_path().generic_string();
  if (name == "ext") return std::string(ext);
  if (name == "variant") return std::string(variant);
  return std::to_string(index);
}

}  // namespace

void check_output_template(std::string_view output_template) {
  parse(output_template);
}

fs::path expand_output_template(std::string_view output_template, const InputFile& input, std::size_t index,
                                std::string_view ext, std::string_view variant) {
  const std::vector<Piece> pieces = parse(output_template);
  std::string text;
  bool places_variant = false;
  bool skip_slash = false;
  for (const Piece& piece : pieces) {
    std::string_view part = piece.text;
    // An empty {dir} (a file at the top) takes its following '/' with it, so that
    // "{dir}/{stem}" gives "stem" rather than the absolute "/stem".
    if (skip_slash && !piece.field && part.front() == '/') part.remove_prefix(1);
    skip_slash = false;
    if (!piece.field) {
      text += part;
      continue;
    }
    places_variant = places_variant || part == "variant";
    std::string value = field_value(part, input, index, ext, variant);
    skip_slash = part == "dir" && value.empty();
    text += value;
  }

  fs::path output = fs::path(text).lexically_normal();
  auto refuse = [&](std::string_view problem) {
    throw Error(ErrorCategory::config, fmt::format("output template \"{}\" {} for {} (it gives \"{}\")",
                                                   output_template, problem, input.path.string(), text));
  };
  if (output.empty() || output == "." || !output.has_filename()) refuse("gives no file name");
  if (output.is_absolute() || output.has_root_directory() || *output.begin() == "..")
    refuse("leads outside the output folder");
  if (!places_variant && !variant.empty())
    output = variant_path(output, std::string(variant)).lexically_normal();
  return output;
}

}  // namespace imgpipe
