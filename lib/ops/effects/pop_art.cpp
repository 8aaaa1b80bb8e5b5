// pop_art: posterise to a few bold colours with the palette engine (one clustering, shared by
// every panel), as one image or a Warhol-style grid of panels, optionally as halftone dots.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/pop_art.hpp>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "../palette/effort.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

Palette make_palette(const char* name, std::initializer_list<const char*> hex) {
  Palette p{name, {}};
  for (const char* h : hex) p.colours.push_back(*parse_colour(h));
  return p;
}

// The panel's colours at 8 bits, RGB(A).
cv::Mat panel_rgb8(const cv::Mat& pixels) {
  cv::Mat eight, rgb;
  if (pixels.depth() == CV_16U)
    pixels.convertTo(eight, CV_8U, 1.0 / 257.0);
  else
    eight = pixels;
  if (eight.channels() == 1)
    cv::cvtColor(eight, rgb, cv::COLOR_GRAY2RGB);
  else if (eight.channels() == 2) {
    const int from_to[] = {0, 0, 0, 1, 0, 2, 1, 3};
    rgb.create(eight.size(), CV_8UC4);
    cv::mixChannels(&eight, 1, &rgb, 1, from_to, 4);
  } else {
    rgb = eight;
  }
  return rgb;
}

// Replaces every pixel outside its cell's dot with the background colour.
void halftone(cv::Mat& panel, const cv::Mat& rgb, int dot, const Colour& background) {
  cv::Mat luma, weights = cv::Mat::zeros(1, rgb.channels(), CV_32F);
  weights.at<float>(0, 0) = 0.2126f, weights.at<float>(0, 1) = 0.7152f, weights.at<float>(0, 2) = 0.0722f;
  cv::transform(rgb, luma, weights);
  const int cells_x = (panel.cols + dot - 1) / dot, cells_y = (panel.rows + dot - 1) / dot;
  const int cn = panel.channels();
  for (int cy = 0; cy < cells_y; ++cy)
    for (int cx = 0; cx < cells_x; ++cx) {
      const cv::Rect cell = cv::Rect(cx * dot, cy * dot, dot, dot) & cv::Rect(0, 0, panel.cols, panel.rows);
      const double darkness = 1.0 - cv::mean(luma(cell))[0] / 255.0;
      // Disc area = darkness * dot^2.
      const double r2 = dot * dot * darkness / std::numbers::pi;
      const double centre_x = (cx + 0.5) * dot, centre_y = (cy + 0.5) * dot;
      for (int y = cell.y; y < cell.y + cell.height; ++y) {
        std::uint8_t* row = panel.ptr<std::uint8_t>(y);
        const double dy = y + 0.5 - centre_y;
        for (int x = cell.x; x < cell.x + cell.width; ++x) {
          const double dx = x + 0.5 - centre_x;
          if (dx * dx + dy * dy < r2) continue;
          std::uint8_t* d = row + x * cn;
          d[0] = background.r, d[1] = background.g, d[2] = background.b;
        }
      }
    }
}

}  // namespace

const std::vector<Palette>& pop_art_palettes() {
  static const std::vector<Palette> palettes = {
      make_palette("warhol", {"#101010", "#e6007e", "#00a0e9", "#ffe100", "#f5f0e6"}),
      make_palette("pop", {"#1d1160", "#e4002b", "#00b140", "#ffd700", "#ffffff"}),
      make_palette("neon", {"#14003c", "#7a00ff", "#ff00aa", "#00f0ff", "#ccff00"}),
      make_palette("primary", {"#000000", "#0038a8", "#d50000", "#ffd600", "#ffffff"}),
      make_palette("candy", {"#3b0a45", "#ff3c8e", "#00c2c7", "#ffb3d9", "#fff5a5"}),
      make_palette("sunset", {"#2b0f3a", "#b3126f", "#ff5e00", "#ffc300"}),
  };
  return palettes;
}

Palette hue_rotated(const Palette& palette, double degrees) {
  Palette out{palette.name, {}};
  const double turn = degrees * std::numbers::pi / 180.0;
  for (const Colour& c : palette.colours) {
    const Lab lab = srgb_to_lab(c);
    const double chroma = std::hypot(lab.a, lab.b), hue = std::atan2(lab.b, lab.a) + turn;
    Colour rotated = lab_to_srgb({lab.L, chroma * std::cos(hue), chroma * std::sin(hue)});
    rotated.a = c.a;
    out.colours.push_back(rotated);
  }
  return out;
}

void pop_art(cv::InputArray src_array, cv::OutputArray dst, const PopArtOptions& options) {
  if (options.palettes.empty() || options.palettes.front().colours.empty())
    throw Error(ErrorCategory::config, "pop_art: no palette given");
  const cv::Mat src = src_array.getMat();
  const bool alpha = ops::has_alpha(src);
  const int columns = std::clamp(options.columns, 1, 4), rows = std::clamp(options.rows, 1, 4);
  const cv::Size panel_size((src.cols + columns - 1) / columns, (src.rows + rows - 1) / rows);
  cv::Mat small;
  if (panel_size == src.size())
    small = src;
  else
    cv::resize(src, small, panel_size, 0, 0, cv::INTER_AREA);

  // One clustering for every panel: only the colour table differs between them.
  ClusterOptions cluster_options;
  cluster_options.k = static_cast<int>(options.palettes.front().colours.size());
  cluster_options.seed = options.seed;
  cluster_options.quality = options.quality;
  const cv::Mat rgb = panel_rgb8(small);
  cv::Mat alpha8;
  if (alpha) {
    cv::extractChannel(rgb, alpha8, 3);
    // A fully transparent image has nothing the alpha would let through: cluster it all.
    if (cv::countNonZero(alpha8 >= 128) == 0)
      cluster_options.mask = cv::Mat(rgb.size(), CV_8UC1, cv::Scalar(255));
  }
  const Clustering clustering = cluster(Image(small), cluster_options);

  const int cn = alpha ? 4 : 3;
  dst.create(src.size(), CV_8UC(cn));
  cv::Mat out = dst.getMat();
  for (int py = 0; py < rows; ++py)
    for (int px = 0; px < columns; ++px) {
      const std::size_t index = static_cast<std::size_t>(py * columns + px);
      const Palette& palette = options.palettes[index % options.palettes.size()];
      ApplyOptions apply;
      apply.mapping = ApplyOptions::Mapping::lightness;
      // Left-out (mostly transparent) pixels still get a palette colour; alpha is restored below.
      apply.mask_mode = MaskMode::fill;
      apply.fill = palette.colours.front();
      apply.fill.a = 255;
      cv::Mat panel = clustering.apply(palette, apply).pixels;
      if (alpha) cv::insertChannel(alpha8, panel, 3);
      if (options.halftone) halftone(panel, rgb, std::max(1, options.dot_size), options.background);
      const int x0 = px * src.cols / columns, x1 = (px + 1) * src.cols / columns;
      const int y0 = py * src.rows / rows, y1 = (py + 1) * src.rows / rows;
      if (x1 == x0 || y1 == y0) continue;  // more panels than pixels across or down
      panel(cv::Rect(0, 0, x1 - x0, y1 - y0)).copyTo(out(cv::Rect(x0, y0, x1 - x0, y1 - y0)));
    }
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

std::vector<std::string> builtin_names() {
  std::vector<std::string> names;
  for (const auto& p : kernels::pop_art_palettes()) names.push_back(p.name);
  return names;
}

// "CxR" → {columns, rows}; {0, 0} when malformed or out of 1..4.
std::pair<int, int> parse_grid(const std::string& text) {
  int c = 0, r = 0;
  char x = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &c, &x, &r, &extra) != 3 || (x != 'x' && x != 'X')) return {0, 0};
  if (c < 1 || c > 4 || r < 1 || r > 4) return {0, 0};
  return {c, r};
}

class PopArt final : public Operation {
 public:
  explicit PopArt(const Params& p) {
    std::tie(options_.columns, options_.rows) = parse_grid(p.text("grid"));
    const int panels = options_.columns * options_.rows;
    if (p.has("colors")) {
      const Palette given = parse_palette_list(p.text("colors"), "colors");
      for (int i = 0; i < panels; ++i)
        options_.palettes.push_back(kernels::hue_rotated(given, 360.0 * i / panels));
    } else {
      const auto& all = kernels::pop_art_palettes();
      const auto names = builtin_names();
      const auto start =
          static_cast<std::size_t>(std::find(names.begin(), names.end(), p.text("palette")) - names.begin());
      for (int i = 0; i < panels; ++i)
        options_.palettes.push_back(all[(start + static_cast<std::size_t>(i)) % all.size()]);
    }
    options_.halftone = p.boolean("halftone");
    options_.dot_size = static_cast<int>(p.integer("dot_size"));
    options_.background = p.colour("background");
    options_.seed = static_cast<std::uint64_t>(p.integer("seed"));
  }

  Image apply(const Image& input, const Context& context) const override {
    kernels::PopArtOptions options = options_;
    options.quality = context.quality;
    cv::Mat out;
    kernels::pop_art(input.pixels, out, options);
    return input.with_pixels(out);
  }

 private:
  kernels::PopArtOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(pop_art) {
  registry.add(OpDescriptor{
      .name = "pop_art",
      .family = "effects",
      .summary =
          "Posterise to a few bold colours (palette engine, lightness mapping), optionally as a grid of "
          "Warhol-style panels and as halftone dots. Output 8-bit RGB(A): 16-bit input is reduced to 8 bits "
          "(/ 257).",
      .footprint = Footprint::global,
      .params =
          {
              spec::text(
                  "palette", "warhol",
                  "Built-in palette (darkest to lightest): warhol #101010 #e6007e #00a0e9 #ffe100 #f5f0e6; "
                  "pop #1d1160 #e4002b #00b140 #ffd700 #ffffff; neon #14003c #7a00ff #ff00aa #00f0ff "
                  "#ccff00; "
                  "primary #000000 #0038a8 #d50000 #ffd600 #ffffff; candy #3b0a45 #ff3c8e #00c2c7 #ffb3d9 "
                  "#fff5a5; sunset #2b0f3a #b3126f #ff5e00 #ffc300. In a grid, panel i uses the i-th palette "
                  "after this one in that order (wrapping)."),
              spec::text(
                  "colors", {},
                  "Own palette instead: 2..16 hex colours, e.g. \"#000,#f0f,#ff0,#fff\". In a grid, panel i "
                  "uses it with hues turned by i * 360 / panels degrees (CIE LCh; lightness kept)."),
              spec::text(
                  "grid", "1x1",
                  "Panels across x down, each 1..4 (\"2x2\" = four panels). The output keeps the input size; "
                  "each panel is the image shrunk to fit its slot."),
              spec::boolean(
                  "halftone", false,
                  "Render as dots: in each dot_size cell a disc covering the cell's darkness fraction, in "
                  "the region's colour, on the background colour."),
              spec::integer("dot_size", 8, 2, 256, "Halftone cell size in pixels."),
              spec::colour("background", "white",
                           "Halftone background (its alpha is ignored: the image's alpha is kept)."),
              spec::integer("seed", 12345, 0, 2147483647,
                            "Seed of the k-means++ initialisation; the same seed gives the same output."),
          },
      .examples =
          {
              {{"palette", "warhol"}},
              {{"palette", "pop"}, {"grid", "2x2"}},
              {{"palette", "neon"}, {"halftone", true}, {"dot_size", 6}},
          },
      // The clustering's settings in words, from its own table (palette/effort.hpp).
      .presets = clustering_presets("clustering of one panel's size: "),
      .create = [](const Params& p) { return std::make_unique<PopArt>(p); },
      .check = [](const Params& p) -> std::string {
        if (parse_grid(p.text("grid")).first == 0)
          return fmt::format("grid: expected columns x rows, each 1..4 (e.g. \"2x2\"), got \"{}\"",
                             p.text("grid"));
        if (p.has("colors")) {
          try {
            const auto n = parse_palette_list(p.text("colors"), "colors").colours.size();
            if (n < 2 || n > 16) return fmt::format("colors: expected 2..16 colours, got {}", n);
          } catch (const Error& e) {
            return fmt::format("colors: {}", e.what());
          }
          return "";
        }
        const auto names = builtin_names();
        const auto& name = p.text("palette");
        if (std::find(names.begin(), names.end(), name) == names.end()) {
          const auto hint = closest_name(name, names);
          return fmt::format("palette: unknown palette \"{}\"{}; built-in: {}", name,
                             hint ? fmt::format(" (did you mean \"{}\"?)", *hint) : "",
                             fmt::join(names, ", "));
        }
        return "";
      },
  });
}

}  // namespace imgpipe::ops
