// `imgpipe palette` and `imgpipe extract-palette`: the palette operation's parameters as flags
// (from its descriptor), run through the job runner like any chain.

#include "palette_commands.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "command_io.hpp"
#include "operation_flags.hpp"
#include "process_tuning.hpp"

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

struct PaletteArgs {
  std::vector<std::string> inputs;
  std::string output_dir, format = "png", preset, centres;
  std::optional<int> threads;  // unset: IMGPIPE_THREADS, else all cores
  bool profile = false, quiet = false, verbose = false;
  std::unique_ptr<OperationFlags> flags;
};

struct ExtractArgs {
  std::string input, preset;
  int k = 5;
  bool json = false;
};

// The stem each input's outputs are named after ("stdin" for -); two inputs with one stem
// would overwrite each other's files, so they are refused before any work.
std::vector<std::string> output_stems(const std::vector<std::string>& inputs) {
  std::vector<std::string> stems;
  std::map<std::string, std::string> seen;
  for (const auto& input : inputs) {
    const std::string stem = input == "-" ? "stdin" : fs::path(input).stem().string();
    if (auto [it, fresh] = seen.emplace(stem, input); !fresh)
      throw Error(
          ErrorCategory::config,
          fmt::format("{} and {} would both write {}-<palette> files; run them into different folders",
                      it->second, input, stem));
    stems.push_back(stem);
  }
  return stems;
}

// One palette step with the given parameters, as a chain file would hold it.
ChainFile palette_chain(const PaletteArgs& a, const Params& params, const SaveOptions& save) {
  ChainFile file = command_file("imgpipe palette", a.preset);
  if (a.threads) file.context.threads = *a.threads;
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

  if (!a.centres.empty() && a.inputs.size() > 1)
    throw Error(ErrorCategory::config, "--centers writes one file: give one input");
  const std::vector<std::string> stems = output_stems(a.inputs);
  make_output_folder(a.output_dir);

  // Each input on its own: one that fails is reported and the others still run.
  int status = 0;
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    const std::string& input = a.inputs[i];
    try {
      std::vector<std::string> strategies;
      {
        MaybeScope total(context.monitor, "palette");
        Job job = open_input(file, input, context);
        // One file per palette, <stem>-<palette>.<ext>; the variants share one compressed
        // index stream.
        const JobResult result =
            job.run(fs::path(a.output_dir) / fmt::format("{}.{}", stems[i], extension_of(save.format)), save);
        strategies = job.strategies();
        if (a.verbose) {
          for (const auto& analysis : result.analyses)
            std::cerr << fmt::format("{}: {}\n", input, analysis.describe());
          for (const auto& o : result.outputs)
            std::cerr << fmt::format("{} -> {}: {}x{} {}, {} bytes\n", input, o.path.string(), o.size.width,
                                     o.size.height, to_string(save.format), o.bytes);
        }
        if (!a.quiet)
          for (const auto& warning : job.warnings()) std::cerr << warning_line(warning);
      }
      if (!a.centres.empty()) {
        // The image recoloured with its own cluster centres, to judge the clustering: the same
        // clustering (same parameters and seed), mapped to its centres.
        SaveOptions png;
        png.format = Format::png;
        png.compression = 1;
        const ChainFile centres =
            palette_chain(a, a.flags->params({{"palettes", "centers"}, {"colors", Value()}}), png);
        Job job = open_input(centres, input, centres.context);
        write_file_atomic(a.centres, job.encode(png).front().bytes);
      }
      if (a.profile)
        for (const auto& line : strategies) std::cerr << fmt::format("{}: {}\n", input, line);
    } catch (const Error& e) {
      if (a.inputs.size() == 1 || e.category() == ErrorCategory::internal) throw;
      std::cerr << error_line(e);
      status = 1;
    }
  }
  if (a.profile) std::cerr << monitor.report_text();
  return status;
}

int run_extract(const ExtractArgs& a) {
  const ChainFile file = command_file("imgpipe extract-palette", a.preset);
  Job job = open_input(file, a.input, file.context);
  const auto colours = extract_palette(job.load(), a.k, file.context.quality);
  if (a.json) {
    std::cout << dominant_colours_json(colours).dump(2) << "\n";
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
  palette->add_option("inputs", p->inputs, "Input images, or - for stdin")->required();
  palette
      ->add_option("-o,--output", p->output_dir,
                   "Output folder: one <input stem>-<palette name>.<format> per input and palette")
      ->required()
      ->type_name("DIR");
  p->flags = std::make_unique<OperationFlags>(*palette, Registry::global().at("palette"));
  palette->add_option("--format", p->format, "png or webp (lossless)")
      ->check(CLI::IsMember({"png", "webp"}))
      ->capture_default_str();
  palette->add_option("--preset", p->preset, "Quality preset: ultra, high, balanced, fast, draft");
  palette->add_flag("--profile", p->profile, "Print where the time goes");
  palette
      ->add_option("--threads", p->threads,
                   "Worker threads (0 = all cores); the output is the same for any number")
      ->check(CLI::Range(0, 1024));
  palette->add_option(
      "--centers", p->centres,
      "Also write the image recoloured with its cluster centres (PNG), to judge the clustering");
  palette->footer(
      "Examples:\n  imgpipe palette photo.jpg --palettes examples/palettes.json -o out/   # "
      "out/photo-<name>.png\n"
      "  imgpipe palette a.jpg b.jpg --colors \"#1d3557,#457b9d,#f1faee\" --name sea -o out/\n"
      "  imgpipe palette photo.jpg --palettes centers --k 8 -o out/");
  palette->callback([p, &app, &run] {
    p->quiet = app.get_option("--quiet")->as<bool>();
    p->verbose = app.get_option("--verbose")->as<bool>();
    run = [p] { return run_palette(*p); };
  });

  auto e = std::make_shared<ExtractArgs>();
  auto* extract =
      app.add_subcommand("extract-palette", "Print an image's dominant colours, most frequent first");
  extract->add_option("input", e->input, "Input image, or - for stdin")->required();
  extract->add_option("--k", e->k, "How many colors")->check(CLI::Range(1, 254))->capture_default_str();
  extract->add_option("--preset", e->preset, "Quality preset: ultra, high, balanced, fast, draft");
  extract->add_flag("--json", e->json, "Print [{hex, rgb, lab, fraction}] as JSON");
  extract->footer(
      "Examples:\n  imgpipe extract-palette photo.jpg --k 5\n  imgpipe extract-palette - --json < photo.jpg");
  extract->callback([e, &run] { run = [e] { return run_extract(*e); }; });
}

}  // namespace imgpipe::cli
