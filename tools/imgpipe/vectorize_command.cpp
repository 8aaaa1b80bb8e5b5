#include "vectorize_command.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <memory>
#include <span>
#include <string>

namespace imgpipe::cli {

namespace {

struct VectorizeArgs {
  std::string input, output, preset;
  kernels::VectorizeOptions options;
  bool profile = false;
};

int run_vectorize(const VectorizeArgs& a) {
  kernels::VectorizeOptions options = a.options;
  if (!a.preset.empty()) {
    const auto q = parse_quality_preset(a.preset);
    if (!q)
      throw Error(
          ErrorCategory::config,
          fmt::format("--preset: expected one of ultra, high, balanced, fast, draft, got \"{}\"", a.preset));
    options.quality = *q;
  }
  PerformanceMonitor monitor;
  PerformanceMonitor* mon = a.profile ? &monitor : nullptr;
  std::string svg;
  {
    MaybeScope total(mon, "vectorize");
    Image image;
    {
      MaybeScope s(mon, "decode");
      image = load(a.input);
    }
    MaybeScope s(mon, "cluster + trace");
    svg = kernels::vectorize(image, options);
  }
  write_file_atomic(a.output, std::span(reinterpret_cast<const std::uint8_t*>(svg.data()), svg.size()));
  if (mon) std::cerr << monitor.report_text();
  return 0;
}

}  // namespace

void add_vectorize_command(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<VectorizeArgs>();
  auto* cmd = app.add_subcommand("vectorize", "Trace an image's colour regions into an SVG file");
  cmd->add_option("input", a->input, "Input image")->required();
  cmd->add_option("-o,--output", a->output, "Output SVG file")->required();
  cmd->add_option("--colors", a->options.colors, "Number of colours (0 = choose from the image)")
      ->check(CLI::Range(0, 254));
  cmd->add_option("--tolerance", a->options.tolerance, "Outline simplification distance in pixels")
      ->check(CLI::Range(0.0, 1.0e6));
  cmd->add_flag("--smooth", a->options.smooth, "Curves (cubic Béziers) instead of straight segments");
  cmd->add_option("--max-nodes", a->options.max_nodes, "Most outline points in the SVG (0 = no limit)")
      ->check(CLI::Range(0, 2147483647));
  cmd->add_option("--min-area", a->options.min_area,
                  "Merge regions smaller than this many pixels into their neighbours")
      ->check(CLI::Range(0, 2147483647));
  cmd->add_option("--seed", a->options.seed, "Seed of the colour clustering");
  cmd->add_option("--preset", a->preset, "Quality preset: ultra, high, balanced, fast, draft");
  cmd->add_flag("--profile", a->profile, "Print where the time goes");
  cmd->callback([a, &run] { run = [a] { return run_vectorize(*a); }; });
}

}  // namespace imgpipe::cli
