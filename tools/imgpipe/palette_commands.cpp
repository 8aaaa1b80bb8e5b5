#include "palette_commands.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <tbb/global_control.h>
#include <tbb/parallel_for.h>

#include <imgpipe/imgpipe.hpp>

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

struct PaletteArgs {
  std::string input, palettes, output_dir, format = "png", mapping = "lightness", mask, masked = "keep", preset, centres;
  int k = 10, threads = 0;
  bool preserve_shading = false, profile = false;
};

struct ExtractArgs {
  std::string input, preset;
  int k = 5;
  bool json = false;
};

QualityPreset preset_or_default(const std::string& text) {
  if (text.empty()) return QualityPreset::balanced;
  auto q = parse_quality_preset(text);
  if (!q) throw Error(ErrorCategory::config, fmt::format("--preset: expected one of ultra, high, balanced, fast, draft, got \"{}\"", text));
  return *q;
}

cv::Mat mask_for(const std::string& path, cv::Size expected) {
  cv::Mat mask = load_mask(path);
  if (mask.size() != expected)
    throw Error(ErrorCategory::config, fmt::format("{}: the mask is {}x{}, the image {}x{}", path, mask.cols, mask.rows,
                                                   expected.width, expected.height));
  return mask;
}

// The image recoloured with its own cluster centres: what clustering quality is judged on.
void save_centres(const Clustering& clustering, const std::string& path) {
  SaveOptions png;
  png.format = Format::png;
  png.compression = 1;
  save(clustering.apply_centres(), path, png);
}

int run_palette(const PaletteArgs& a) {
  std::optional<tbb::global_control> threads;
  if (a.threads > 0) threads.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(a.threads));
  SaveOptions save;
  const auto format = parse_format(a.format);
  if (!format || (*format != Format::png && *format != Format::webp))
    throw Error(ErrorCategory::config, fmt::format("--format: expected png or webp, got \"{}\"", a.format));
  save.format = *format;
  save.lossless = true;      // a few flat colours: lossless WebP is smaller and exact
  save.compression = 1;      // index images compress well at low levels (see docs/performance.md)
  const auto palettes = load_palettes(a.palettes);
  PerformanceMonitor monitor;
  PerformanceMonitor* mon = a.profile ? &monitor : nullptr;

  ClusterOptions options;
  options.k = a.k;
  options.monitor = mon;
  options.quality = preset_or_default(a.preset);
  ApplyOptions apply;
  apply.mapping = a.mapping == "nearest" ? ApplyOptions::Mapping::nearest : ApplyOptions::Mapping::lightness;
  apply.preserve_shading = a.preserve_shading;
  apply.mask_mode = a.masked == "transparent" ? MaskMode::transparent : a.masked == "fill" ? MaskMode::fill : MaskMode::keep;

  std::error_code ec;
  fs::create_directories(a.output_dir, ec);
  if (ec || !fs::is_directory(a.output_dir))
    throw Error(ErrorCategory::io, fmt::format("{}: cannot create the output folder: {}", a.output_dir, ec.message()));

  std::optional<Clustering> clustering;
  {
    MaybeScope total(mon, "palette");
    Image image;
    {
      MaybeScope s(mon, "decode");
      image = load(a.input);
    }
    if (!a.mask.empty()) options.mask = mask_for(a.mask, image.pixels.size());
    {
      MaybeScope s(mon, "cluster");
      clustering = cluster(image, options);
    }
    MaybeScope s(mon, "apply + encode + write");
    // Every variant shares the cluster indices, so the PNG index stream is compressed once
    // (by whichever variant gets there first) and reused by the others.
    tbb::parallel_for(std::size_t{0}, palettes.size(), [&](std::size_t i) {
      auto indexed = save.format == Format::png ? clustering->apply_indexed(palettes[i], apply) : nullptr;
      const auto bytes = indexed ? encode_indexed_png(*indexed, save.compression)
                                 : encode(clustering->apply(palettes[i], apply), save, options.quality);
      write_file_atomic(fs::path(a.output_dir) / fmt::format("{}.{}", palettes[i].name, a.format), bytes);
    });
  }
  if (!a.centres.empty()) save_centres(*clustering, a.centres);
  if (mon) {
    // The error figure needs every pixel in Lab, so it is only computed when asked for.
    std::cerr << fmt::format("{}: {} palettes, k = {}, strategy {}, mean Lab error {:.2f}\n", a.input, palettes.size(),
                             clustering->k(), clustering->strategy(), clustering->mean_lab_error());
    std::cerr << monitor.report_text();
  }
  return 0;
}

int run_extract(const ExtractArgs& a) {
  const auto colours = extract_palette(load(a.input), a.k, preset_or_default(a.preset));
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : colours)
      out.push_back({{"hex", to_hex(c.colour).substr(0, 7)},
                     {"rgb", {c.colour.r, c.colour.g, c.colour.b}},
                     {"lab", {c.lab.L, c.lab.a, c.lab.b}},
                     {"fraction", c.fraction}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  for (const auto& c : colours)
    std::cout << fmt::format("{}  rgb({:3}, {:3}, {:3})  {:5.1f} %\n", to_hex(c.colour).substr(0, 7), c.colour.r,
                             c.colour.g, c.colour.b, 100.0 * c.fraction);
  return 0;
}

}  // namespace

void add_palette_commands(CLI::App& app, std::function<int()>& run) {
  auto p = std::make_shared<PaletteArgs>();
  auto* palette = app.add_subcommand("palette", "Cluster an image's colours once and write one recoloured file per palette");
  palette->add_option("input", p->input, "Input image")->required();
  palette->add_option("--palettes", p->palettes, "Palette file: JSON, YAML, GIMP .gpl or hex lines")->required();
  palette->add_option("-o,--output", p->output_dir, "Output folder (one <palette name>.<format> each)")->required();
  palette->add_option("--k", p->k, "Colour clusters (0 = choose from the image)")->check(CLI::Range(0, 254));
  palette->add_option("--mask", p->mask, "Mask image: black pixels are left out");
  palette->add_option("--masked", p->masked, "Left-out pixels: keep, transparent, fill")
      ->check(CLI::IsMember({"keep", "transparent", "fill"}));
  palette->add_option("--mapping", p->mapping, "lightness (rank) or nearest (Lab)")->check(CLI::IsMember({"lightness", "nearest"}));
  palette->add_flag("--preserve-shading", p->preserve_shading, "Keep the original's luminance detail");
  palette->add_option("--format", p->format, "png or webp (lossless)")->check(CLI::IsMember({"png", "webp"}));
  palette->add_option("--preset", p->preset, "Quality preset: ultra, high, balanced, fast, draft");
  palette->add_flag("--profile", p->profile, "Print where the time goes");
  palette->add_option("--threads", p->threads, "Worker threads (0 = all cores); the output is the same for any number")
      ->check(CLI::Range(0, 1024));
  palette->add_option("--centers", p->centres, "Also write the image recoloured with its cluster centres (PNG), to judge the clustering");
  palette->callback([p, &run] { run = [p] { return run_palette(*p); }; });

  auto e = std::make_shared<ExtractArgs>();
  auto* extract = app.add_subcommand("extract-palette", "Print an image's dominant colours, most frequent first");
  extract->add_option("input", e->input, "Input image")->required();
  extract->add_option("--k", e->k, "How many colours")->check(CLI::Range(1, 254));
  extract->add_option("--preset", e->preset, "Quality preset: ultra, high, balanced, fast, draft");
  extract->add_flag("--json", e->json, "Print [{hex, rgb, lab, fraction}] as JSON");
  extract->callback([e, &run] { run = [e] { return run_extract(*e); }; });
}

}  // namespace imgpipe::cli
