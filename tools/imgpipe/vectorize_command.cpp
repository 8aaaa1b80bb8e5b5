// `imgpipe vectorize`: the vectorize operation's parameters as flags (from its descriptor),
// run through the job runner with SVG output.

#include "vectorize_command.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "operation_flags.hpp"

namespace imgpipe::cli {

namespace {

struct VectorizeArgs {
  std::string input, output, preset;
  bool profile = false;
  std::unique_ptr<OperationFlags> flags;
};

int run_vectorize(const VectorizeArgs& a) {
  ChainFile file;
  file.source = "imgpipe vectorize";
  if (!a.preset.empty()) {
    const auto q = parse_quality_preset(a.preset);
    if (!q)
      throw Error(
          ErrorCategory::config,
          fmt::format("--preset: expected one of ultra, high, balanced, fast, draft, got \"{}\"", a.preset));
    file.context.quality = *q;
  }
  file.chain.then(a.flags->descriptor(), a.flags->params());
  SaveOptions save;
  save.format = resolve_output_format(a.output, Format::svg, "vectorize's output format");
  PerformanceMonitor monitor;
  Context context = file.context;
  if (a.profile) context.monitor = &monitor;
  {
    MaybeScope total(context.monitor, "vectorize");
    Job job(file, a.input, context);
    if (a.output == "-") {
      const auto bytes = job.encode(save).front().bytes;
      if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
        throw Error(ErrorCategory::io, "<stdout>: write failed");
    } else {
      job.run(a.output, save);
    }
  }
  if (a.profile) std::cerr << monitor.report_text();
  return 0;
}

}  // namespace

void add_vectorize_command(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<VectorizeArgs>();
  auto* cmd = app.add_subcommand(
      "vectorize",
      "Trace an image's colour regions into an SVG file (the vectorize operation's parameters as flags: "
      "imgpipe ops vectorize)");
  cmd->add_option("input", a->input, "Input image")->required();
  cmd->add_option("-o,--output", a->output, "Output SVG file, or - for stdout")->required();
  a->flags = std::make_unique<OperationFlags>(*cmd, Registry::global().at("vectorize"));
  cmd->add_option("--preset", a->preset, "Quality preset: ultra, high, balanced, fast, draft");
  cmd->add_flag("--profile", a->profile, "Print where the time goes");
  cmd->callback([a, &run] { run = [a] { return run_vectorize(*a); }; });
}

}  // namespace imgpipe::cli
