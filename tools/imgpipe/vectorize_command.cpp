// `imgpipe vectorize`: the vectorize operation's parameters as flags (from its descriptor),
// run through the job runner with SVG output.

#include "vectorize_command.hpp"

#include <fmt/format.h>

#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <memory>
#include <string>

#include "command_io.hpp"
#include "operation_flags.hpp"

namespace imgpipe::cli {

namespace {

struct VectorizeArgs {
  std::string input, output, preset;
  bool profile = false, verbose = false;
  std::unique_ptr<OperationFlags> flags;
};

int run_vectorize(const VectorizeArgs& a) {
  ChainFile file = command_file("imgpipe vectorize", a.preset);
  file.chain.then(a.flags->descriptor(), a.flags->params());
  SaveOptions save;
  save.format = resolve_output_format(a.output, Format::svg, "vectorize's output format");
  PerformanceMonitor monitor;
  Context context = file.context;
  if (a.profile) context.monitor = &monitor;
  {
    MaybeScope total(context.monitor, "vectorize");
    Job job = open_input(file, a.input, context);
    if (a.output == "-") {
      write_stdout(job.encode(save).front().bytes);
    } else {
      const JobResult result = job.run(a.output, save);
      if (a.verbose)
        for (const auto& o : result.outputs)
          std::cerr << fmt::format("{} -> {}: SVG, {} bytes\n", a.input, o.path.string(), o.bytes);
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
  cmd->add_option("input", a->input, "Input image, or - for stdin")->required();
  cmd->add_option("-o,--output", a->output, "Output SVG file, or - for stdout")->required();
  a->flags = std::make_unique<OperationFlags>(*cmd, Registry::global().at("vectorize"));
  cmd->add_option("--preset", a->preset, "Quality preset: ultra, high, balanced, fast, draft");
  cmd->add_flag("--profile", a->profile, "Print where the time goes");
  cmd->footer(
      "Examples:\n  imgpipe vectorize logo.png -o logo.svg --colors 8\n"
      "  imgpipe vectorize photo.jpg -o - --colors 16 --smooth > photo.svg");
  cmd->callback([a, &app, &run] {
    a->verbose = app.get_option("--verbose")->as<bool>();
    run = [a] { return run_vectorize(*a); };
  });
}

}  // namespace imgpipe::cli
