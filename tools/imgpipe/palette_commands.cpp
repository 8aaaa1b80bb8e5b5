// `imgpipe palette` and `imgpipe extract-palette`: the palette operation's parameters as flags
// (from its descriptor), run through the job runner like any chain.

#include "palette_commands.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "operation_flags.hpp"
#include "process_tuning.hpp"

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

struct PaletteArgs {
  std::string input, output_dir, format = "png", preset, centres;
  int threads = 0;
  bool profile = false;
  std::unique_ptr<OperationFlags> flags;
};

struct ExtractArgs {
  std::string input, preset;
  int k = 5;
  bool json = false;
};

QualityPreset preset_or_default(const std::string& text) {
  if (text.empty()) return QualityPreset::balanced;
  auto q = parse_quality_preset(text);
  if (!q)
    throw Error(
        ErrorCategory::config,
        fmt::format("--preset: expected one of ultra, high, balanced, fast, draft, got \"{}\"", text));
  return *q;
}

// One palette step with the given parameters, as a chain file would hold it.
ChainFile palette_chain(const PaletteArgs& a, const Params& params, const SaveOptions& save) {
  ChainFile file;
  file.source = "imgpipe palette";
  file.context.quality = preset_or_default(a.preset);
  file.context.threads = a.threads;
  file.chain.then(a.flags->descriptor(), params);
  file.output = save;
  file.output_format_set = true;
  return file;
}

int run_palette(const PaletteArgs& a) {
  // The clustering's tables, the labels and the encoders' buffers are freed and allocated
  // again between steps; kept in the heap they are not faulted in anew (7 palettes of a 2048²
  // photo: 134 → 108 ms, system time 47 → 31 ms).
  keep_freed_memory(32 << 20);
  SaveOptions save;
  save.format = *parse_format(a.format);
  save.lossless = true;  // a few flat colours: lossless WebP is smaller and exact
  save.compression = 1;  // index images compress well at low levels (see docs/performance.md)
  const ChainFile file = palette_chain(a, a.flags->params(), save);
  PerformanceMonitor monitor;
  Context context = file.context;
  if (a.profile) context.monitor = &monitor;

  std::error_code ec;
  fs::create_directories(a.output_dir, ec);
  if (ec || !fs::is_directory(a.output_dir))
    throw Error(ErrorCategory::io,
                fmt::format("{}: cannot create the output folder: {}", a.output_dir, ec.message()));

  std::vector<std::string> strategies;
  {
    MaybeScope total(context.monitor, "palette");
    Job job(file, a.input, context);
    // One file per palette, named after it; the variants share one compressed index stream.
    job.run(fs::path(a.output_dir) / fmt::format("{{variant}}.{}", extension_of(save.format)), save);
    strategies = job.strategies();
  }
  if (!a.centres.empty()) {
    // The image recoloured with its own cluster centres, to judge the clustering: the same
    // clustering (same parameters and seed), mapped to its centres.
    SaveOptions png;
    png.format = Format::png;
    png.compression = 1;
    const ChainFile centres =
        palette_chain(a, a.flags->params({{"palettes", "centers"}, {"colors", Value()}}), png);
    Job job(centres, a.input, centres.context);
    write_file_atomic(a.centres, job.encode(png).front().bytes);
  }
  if (a.profile) {
    for (const auto& line : strategies) std::cerr << fmt::format("{}: {}\n", a.input, line);
    std::cerr << monitor.report_text();
  }
  return 0;
}

int run_extract(const ExtractArgs& a) {
  ChainFile file;
  file.context.quality = preset_or_default(a.preset);
  Job job(file, a.input, file.context);
  const auto colours = extract_palette(job.load(), a.k, file.context.quality);
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
    std::cout << fmt::format("{}  rgb({:3}, {:3}, {:3})  {:5.1f} %\n", to_hex(c.colour).substr(0, 7),
                             c.colour.r, c.colour.g, c.colour.b, 100.0 * c.fraction);
  return 0;
}

}  // namespace

void add_palette_commands(CLI::App& app, std::function<int()>& run) {
  auto p = std::make_shared<PaletteArgs>();
  auto* palette = app.add_subcommand(
      "palette",
      "Cluster an image's colours once and write one recoloured file per palette (the palette operation's "
      "parameters as flags: imgpipe ops palette)");
  palette->add_option("input", p->input, "Input image")->required();
  palette->add_option("-o,--output", p->output_dir, "Output folder (one <palette name>.<format> each)")
      ->required();
  p->flags = std::make_unique<OperationFlags>(*palette, Registry::global().at("palette"));
  palette->add_option("--format", p->format, "png or webp (lossless)")->check(CLI::IsMember({"png", "webp"}));
  palette->add_option("--preset", p->preset, "Quality preset: ultra, high, balanced, fast, draft");
  palette->add_flag("--profile", p->profile, "Print where the time goes");
  palette
      ->add_option("--threads", p->threads,
                   "Worker threads (0 = all cores); the output is the same for any number")
      ->check(CLI::Range(0, 1024));
  palette->add_option(
      "--centers", p->centres,
      "Also write the image recoloured with its cluster centres (PNG), to judge the clustering");
  palette->callback([p, &run] { run = [p] { return run_palette(*p); }; });

  auto e = std::make_shared<ExtractArgs>();
  auto* extract =
      app.add_subcommand("extract-palette", "Print an image's dominant colours, most frequent first");
  extract->add_option("input", e->input, "Input image")->required();
  extract->add_option("--k", e->k, "How many colours")->check(CLI::Range(1, 254));
  extract->add_option("--preset", e->preset, "Quality preset: ultra, high, balanced, fast, draft");
  extract->add_flag("--json", e->json, "Print [{hex, rgb, lab, fraction}] as JSON");
  extract->callback([e, &run] { run = [e] { return run_extract(*e); }; });
}

}  // namespace imgpipe::cli
