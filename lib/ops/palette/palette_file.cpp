// Palette files: JSON or YAML (read with yaml-cpp, which gives line and column for every
// value), GIMP .gpl, or plain text with one hex colour a line.

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/palette.hpp>
#include <opencv2/core.hpp>
#include <sstream>

namespace imgpipe {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_at(const std::string& file, int line, const std::string& what) {
  throw Error(ErrorCategory::config,
              line > 0 ? fmt::format("{}:{}: {}", file, line, what) : fmt::format("{}: {}", file, what));
}

// Palette names become file names (<name>.png) and variant names, so one that is empty, "."
// or "..", or holds a path separator, would write outside the output folder.
std::string checked_name(const std::string& name, const std::string& file, int line) {
  if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string::npos)
    fail_at(file, line, "not a palette name (it names output files: not empty, no /, \\, \".\" or \"..\")");
  return name;
}

constexpr std::size_t kMaxColours = 256;

// The limit of the line-based formats, checked before the colour that would exceed it.
void check_room(const Palette& palette, const std::string& file, int line) {
  if (palette.colours.size() == kMaxColours)
    fail_at(file, line,
            fmt::format("more than {} colours; a palette holds at most {}", kMaxColours, kMaxColours));
}

Colour hex_colour(const std::string& text, const std::string& file, int line) {
  auto c = parse_colour(text);
  if (!c) fail_at(file, line, "not a colour (expected #rrggbb, #rgb or a colour name)");
  return *c;
}

std::vector<Colour> yaml_colours(const YAML::Node& list, const std::string& file) {
  if (!list.IsSequence() || list.size() == 0)
    fail_at(file, list.Mark().line + 1,
            "expected a non-empty list of colours such as [\"#2b1b3f\", \"#7a2e5a\"]");
  std::vector<Colour> out;
  for (const auto& item : list) {
    if (!item.IsScalar()) fail_at(file, item.Mark().line + 1, "expected a colour string such as \"#2b1b3f\"");
    out.push_back(hex_colour(item.Scalar(), file, item.Mark().line + 1));
  }
  if (out.size() > kMaxColours)
    fail_at(file, list.Mark().line + 1,
            fmt::format("{} colours; a palette holds at most {}", out.size(), kMaxColours));
  return out;
}

std::vector<Palette> parse_yaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail_at(file, e.mark.line + 1, "not valid JSON or YAML: " + e.msg);
  }
  if (root.IsSequence()) return {Palette{fs::path(file).stem().string(), yaml_colours(root, file)}};
  if (!root.IsMap() || root.size() == 0)
    fail_at(file, 0, "expected {name: [colours], ...} or a list of colours");
  std::vector<Palette> out;
  for (const auto& entry : root) {
    if (!entry.first.IsScalar())
      fail_at(file, entry.first.Mark().line + 1, "a palette name must be text, such as sunset:");
    out.push_back({checked_name(entry.first.Scalar(), file, entry.first.Mark().line + 1),
                   yaml_colours(entry.second, file)});
  }
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

// GIMP palette: "GIMP Palette", optional "Name:" and "Columns:", '#' comments, "R G B name".
std::vector<Palette> parse_gpl(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  std::string line;
  int number = 0;
  Palette palette{fs::path(file).stem().string(), {}};
  bool header = false;
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (!header) {
      if (line != "GIMP Palette") fail_at(file, number, "a .gpl file starts with the line \"GIMP Palette\"");
      header = true;
      continue;
    }
    if (line.empty() || line[0] == '#' || line.rfind("Columns:", 0) == 0) continue;
    if (line.rfind("Name:", 0) == 0) {
      palette.name = checked_name(trim(line.substr(5)), file, number);
      continue;
    }
    std::istringstream fields(line);
    int r = -1, g = -1, b = -1;
    if (!(fields >> r >> g >> b) || r < 0 || r > 255 || g < 0 || g > 255 || b < 0 || b > 255)
      fail_at(file, number, "expected \"R G B [name]\" with values 0..255");
    check_room(palette, file, number);
    palette.colours.push_back(
        {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b), 255});
  }
  if (!header) fail_at(file, 0, "empty palette file");
  if (palette.colours.empty()) fail_at(file, number, "the palette has no colours");
  return {palette};
}

std::vector<Palette> parse_plain(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  std::string line;
  int number = 0;
  Palette palette{fs::path(file).stem().string(), {}};
  while (std::getline(in, line)) {
    ++number;
    line = trim(line);
    if (line.empty() || line.rfind("//", 0) == 0) continue;
    check_room(palette, file, number);
    palette.colours.push_back(hex_colour(line, file, number));
  }
  if (palette.colours.empty()) fail_at(file, 0, "the palette has no colours");
  return {palette};
}

}  // namespace

std::vector<Palette> load_palettes(const fs::path& path) {
  // A palette file is a few kilobytes; 1 MB holds thousands of palettes.
  const auto bytes = read_referenced_file(path, "palette file", std::uint64_t{1} << 20);
  const std::string text(bytes.begin(), bytes.end());
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  const std::string file = path.string();
  if (ext == ".gpl") return parse_gpl(text, file);
  if (ext == ".json" || ext == ".yaml" || ext == ".yml") return parse_yaml(text, file);
  return parse_plain(text, file);
}

cv::Mat load_mask(const fs::path& path) {
  Image image = load_referenced_image(path, "palette mask");
  cv::Mat pixels = image.pixels;
  if (pixels.depth() == CV_16U) pixels.convertTo(pixels, CV_8U, 1.0 / 257.0);
  cv::Mat mask;
  cv::extractChannel(pixels, mask, image.has_alpha() && image.colour_channels() == 1 ? 1 : 0);
  return mask;
}

std::vector<Palette> parse_palettes(const std::string& text, const std::string& name) {
  if (text.size() > (std::size_t{1} << 20))
    throw Error(ErrorCategory::limit,
                fmt::format("{}: {} bytes of palettes; at most 1 MB", name, text.size()));
  return parse_yaml(text, name);
}

Palette parse_palette_list(const std::string& text, const std::string& name) {
  Palette palette{name, {}};
  std::string token;
  auto flush = [&] {
    if (token.empty()) return;
    auto c = parse_colour(token);
    if (!c)
      throw Error(ErrorCategory::config, fmt::format("palette '{}': \"{}\" is not a colour", name, token));
    palette.colours.push_back(*c);
    token.clear();
  };
  for (char ch : text) {
    if (ch == ',' || std::isspace(static_cast<unsigned char>(ch)))
      flush();
    else
      token += ch;
  }
  flush();
  if (palette.colours.empty())
    throw Error(ErrorCategory::config, fmt::format("palette '{}': no colours given", name));
  if (palette.colours.size() > 256)
    throw Error(ErrorCategory::config, fmt::format("palette '{}': {} colours; a palette holds at most 256",
                                                   name, palette.colours.size()));
  return palette;
}

}  // namespace imgpipe
