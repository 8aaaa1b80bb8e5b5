// imgpipe: the command-line front end. It parses arguments and calls the public API; every
// operation, parameter and message comes from the library.
//
// Exit codes: 0 ok, 1 an input failed, 2 usage or configuration error, 3 fatal.
// Only the image (for `run ... -`) and the requested report go to stdout; every message goes
// to stderr.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "access_flags.hpp"
#include "batch_command.hpp"
#include "cli_reference.hpp"
#include "command_io.hpp"
#include "palette_commands.hpp"
#include "process_tuning.hpp"
#include "serve_command.hpp"
#include "signals.hpp"
#include "vectorize_command.hpp"

namespace fs = std::filesystem;
using namespace imgpipe;
using imgpipe::cli::error_line;
using imgpipe::cli::read_stdin;
using imgpipe::cli::write_stdout;

namespace {

enum Exit { kOk = 0, kInputFailed = 1, kUsage = 2, kFatal = 3 };

int exit_code_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::config:
    case ErrorCategory::device:
      return kUsage;  // a device asked for and absent: the command cannot run as given
    case ErrorCategory::decode:
    case ErrorCategory::limit:
    case ErrorCategory::io:
    case ErrorCategory::unsupported:
    case ErrorCategory::timeout: return kInputFailed;
    case ErrorCategory::cancelled: return kFatal;
    case ErrorCategory::internal: return kFatal;
  }
  return kFatal;
}

[[noreturn]] void usage_error(const std::string& message) {
  throw Error(ErrorCategory::config, message);
}

struct Global {
  bool quiet = false;
  bool verbose = false;
};

// A `run` flag that sets a chain-file setting; the library checks the value, so a flag, its
// IMGPIPE_* variable and the file refuse the same values with the same words.
struct SettingFlag {
  const char* names;
  const char* key;  // the setting's place in the chain file
  const char* value_name;
  std::string help;
  std::optional<std::string> value;

  std::string origin() const {
    const std::string all = names;
    return all.substr(all.rfind(',') + 1);
  }
};

struct RunArgs {
  std::string chain, input, output;
  std::optional<std::string> profile_json;
  bool profile = false;
  bool stream = false;                 // --stream
  std::optional<std::string> preview;  // --preview FILE: a draft first
  int preview_size = 0;                // --preview-size; 0 = the library's default
  cli::AccessFlags access;
  std::vector<SettingFlag> settings = {
      {"-f,--format",
       "output.format",
       "FORMAT",
       "Output format: jpeg, png, webp, tiff (default: from the output name)",
       {}},
      {"--quality", "output.quality", "Q", "Output quality 1..100 (JPEG, WebP)", {}},
      {"--preset", "performance.quality", "PRESET", "Quality preset: ultra, high, balanced, fast, draft", {}},
      {"--threads", "performance.threads", "N", "Worker threads (0 = all cores)", {}},
      {"--device", "performance.device", "DEVICE", "auto, cpu, opencl, cuda", {}},
      {"--max-memory", "performance.max_memory", "SIZE", "Memory budget, e.g. 4GB", {}},
      {"--formats",
       "performance.formats",
       "LIST",
       "Input formats read, e.g. \"jpeg,png,ppm\" (default jpeg, png, webp, tiff, gif; docs/security.md)",
       {}},
      {"--max-pixels",
       "performance.max_pixels",
       "N",
       fmt::format("Refuse inputs with more pixels (default {})", Limits{}.max_input_pixels),
       {}},
  };

  const std::optional<std::string>& format() const { return settings.front().value; }
};

// One line of what a header says, for `info` and `run --verbose`.
std::string describe(const ImageInfo& i) {
  return fmt::format(
      "{}: {} {}x{}, {} band{} ({}), {}-bit, orientation {}{}{}{}, {} bytes\n", i.source, i.format, i.width,
      i.height, i.bands, i.bands == 1 ? "" : "s", i.interpretation, i.bit_depth, i.orientation,
      i.has_alpha ? ", alpha" : "", i.has_icc ? ", ICC profile" : "",
      i.pages > 1 ? fmt::format(", {} frames (imgpipe uses the first)", i.pages) : "", i.file_bytes);
}

// --preview names a file of its own: never the input, never the output, in the output's format.
void check_preview_path(const RunArgs& a, Format format) {
  const std::string& preview = *a.preview;
  if (preview == "-") usage_error("--preview writes a file: give a file name, not -");
  std::error_code ec;
  const auto same = [&](const std::string& other) {
    if (other == "-") return false;
    if (fs::exists(preview, ec) && fs::exists(other, ec)) return fs::equivalent(preview, other, ec);
    return fs::weakly_canonical(preview, ec) == fs::weakly_canonical(other, ec);
  };
  if (same(a.input))
    usage_error(fmt::format("{}: --preview would overwrite the input; choose another name", preview));
  if (same(a.output))
    usage_error(
        fmt::format("{}: --preview is the output's name; the draft needs a file of its own", preview));
  if (const auto named = format_from_path(preview); named && *named != format)
    usage_error(fmt::format("{}: the draft is written as {}, like the output: give --preview a .{} name",
                            preview, to_string(format), extension_of(format)));
}

// Settings: file < environment < flags. Also refuses what would surely go wrong, before any
// pixel is decoded.
ChainFile prepare(const RunArgs& a) {
  ChainFile file = load_chain_file(a.chain, a.access.resolve());
  apply_environment(file);
  for (const auto& flag : a.settings)
    if (flag.value) apply_setting(file, flag.key, *flag.value, flag.origin());
  const bool set = a.format() || file.output_format_set;
  file.output.format = resolve_output_format(a.output, set ? std::optional(file.output.format) : std::nullopt,
                                             a.format() ? "--format" : "output.format");
  check_output_format(file.chain, file.output.format);
  if (a.stream && (a.input == "-" || a.output == "-"))
    usage_error("--stream reads and writes files: give an input and an output file, not -");
  if (a.output == "-" && isatty(STDOUT_FILENO))
    usage_error("refusing to write image data to a terminal: redirect stdout or give an output file");
  std::error_code ec;
  if (a.input != "-" && a.output != "-" && fs::exists(a.output, ec) && fs::equivalent(a.input, a.output, ec))
    usage_error(fmt::format("{}: refusing to overwrite the input; choose another output name", a.output));
  if (a.preview) check_preview_path(a, file.output.format);
  return file;
}

std::string describe_settings(const ChainFile& file) {
  const Context& c = file.context;
  return fmt::format("settings: preset {}, device {}, threads {}, max pixels {}, output {} quality {}\n",
                     to_string(c.quality), to_string(c.device),
                     c.threads == 0 ? std::string("all cores") : std::to_string(c.threads),
                     c.limits.max_input_pixels, to_string(file.output.format),
                     file.output.quality == 0 ? std::string("default") : std::to_string(file.output.quality));
}

// A refusal by the pixel limit says, besides how to raise it, what raising it would cost.
std::optional<Error> explain_limit(const Error& e, const RunArgs& a, const ChainFile& file) {
  const Limits& limits = file.context.limits;
  if (a.input == "-" || e.category() != ErrorCategory::limit || limits.max_input_pixels == 0)
    return std::nullopt;
  Limits unlimited = limits;
  unlimited.max_input_pixels = 0;
  ImageInfo info;
  try {
    info = probe(a.input, unlimited);
  } catch (const Error&) {
    return std::nullopt;
  }
  if (static_cast<std::uint64_t>(info.width) * static_cast<std::uint64_t>(info.height) <=
      limits.max_input_pixels)
    return std::nullopt;  // another limit
  const double decoded_mb =
      static_cast<double>(info.width) * info.height * info.bands * (info.bit_depth / 8) / 1e6;
  std::string why;
  if (can_stream(file.chain, info, file.context.quality, &why))
    return Error(
        ErrorCategory::limit,
        fmt::format("{}; with the limit raised (--max-pixels 0 for none), --stream runs this chain in "
                    "memory bounded by its tiles rather than by the image's {:.0f} MB",
                    e.what(), decoded_mb));
  return Error(ErrorCategory::limit,
               fmt::format("{}; this chain cannot stream ({}), so with the limit raised the image is decoded "
                           "whole (about {:.0f} MB)",
                           e.what(), why, decoded_mb));
}

// --preview: the draft, written before the final is computed; -v says what it took.
PreviewOptions preview_options(const RunArgs& a, const Global& g) {
  PreviewOptions preview{.max_side = a.preview_size, .path = *a.preview, .on_draft = {}};
  if (g.verbose)
    preview.on_draft = [](const Draft& draft) {
      for (const auto& o : draft.written)
        std::cerr << fmt::format("{}: wrote preview {}x{} ({} bytes) in {:.1f} ms\n", o.path.string(),
                                 o.size.width, o.size.height, o.bytes, draft.seconds * 1e3);
    };
  return preview;
}

// Opens the input as the job runner does: a file, or what stdin holds.
Job open_job(const RunArgs& a, const ChainFile& file, const Context& context) {
  try {
    return cli::open_input(file, a.input, context, {.stream = a.stream});
  } catch (const Error& e) {
    if (auto explained = explain_limit(e, a, file)) throw *explained;
    throw;
  }
}

int run(const RunArgs& a, const Global& g) {
  const ChainFile file = prepare(a);
  PerformanceMonitor monitor;
  Context context = file.context;
  if (a.profile || a.profile_json) context.monitor = &monitor;
  if (g.verbose)
    std::cerr << fmt::format("chain {}: {}\n", file.source, file.chain.canonical())
              << describe_settings(file);
  {
    MaybeScope total(context.monitor, "run");
    Job job = open_job(a, file, context);
    if (g.verbose) {
      std::cerr << describe(job.info());
      if (job.schedule() == Schedule::streamed)
        std::cerr << fmt::format("{}: streaming ({})\n", a.input, job.reason());
    }
    // A streamed run's tile temporaries are allocated and freed again thousands of times a
    // second (a fifth of the CPU time of an 8000x8000 blur went to faulting them in anew); an
    // in-memory run's image buffers several times (one photo through the batch benchmark's
    // chain: 298 -> 251 ms, system time 110 -> 82 ms).
    cli::keep_freed_memory(job.schedule() == Schedule::streamed ? 8 << 20 : 32 << 20);
    if (a.preview) {
      cli::make_output_folder(fs::path(*a.preview).parent_path());
      job.draft(file.output, preview_options(a, g));
    }
    if (a.output == "-") {
      auto encoded = job.encode(file.output);
      if (encoded.size() > 1)
        throw Error(
            ErrorCategory::config,
            fmt::format("the chain makes {} variants; give an output file name (each variant gets its "
                        "own, see docs/cli.md), not -",
                        encoded.size()));
      write_stdout(encoded.front().bytes);
    } else {
      cli::make_output_folder(fs::path(a.output).parent_path());
      const JobResult result = job.run(a.output, file.output);
      if (g.verbose) {
        if (result.schedule == Schedule::in_memory)
          std::cerr << fmt::format("{}: decoded {}x{}\n", a.input, result.decoded.width,
                                   result.decoded.height);
        for (const auto& analysis : result.analyses)
          std::cerr << fmt::format("{}: {}\n", a.input, analysis.describe());
        for (const auto& run : result.devices) std::cerr << fmt::format("{}: {}\n", a.input, run.describe());
        for (const auto& o : result.outputs)
          std::cerr << (result.schedule == Schedule::streamed
                            ? fmt::format("{}: wrote {} by streaming ({} bytes)\n", o.path.string(),
                                          to_string(file.output.format), o.bytes)
                            : fmt::format("{}: wrote {}x{} {} ({} bytes)\n", o.path.string(), o.size.width,
                                          o.size.height, to_string(file.output.format), o.bytes));
      }
    }
    if (!g.quiet)
      for (const auto& warning : job.warnings()) std::cerr << cli::warning_line(warning);
  }
  if (a.profile) std::cerr << monitor.report_text();
  if (a.profile_json) {
    const std::string json = monitor.report_json() + "\n";
    write_file_atomic(*a.profile_json, {reinterpret_cast<const std::uint8_t*>(json.data()), json.size()});
  }
  return kOk;
}

nlohmann::json info_json(const ImageInfo& i) {
  return {{"file", i.source},
          {"format", i.format},
          {"width", i.width},
          {"height", i.height},
          {"bands", i.bands},
          {"bit_depth", i.bit_depth},
          {"interpretation", i.interpretation},
          {"orientation", i.orientation},
          {"upright_width", i.oriented_width()},
          {"upright_height", i.oriented_height()},
          {"has_alpha", i.has_alpha},
          {"has_icc", i.has_icc},
          {"pages", i.pages},
          {"file_bytes", i.file_bytes}};
}

// Each file's header; a file that cannot be read is an error on stderr and the others still
// print. --json prints one object for one file, an array for several.
int info(const std::vector<std::string>& paths, bool json) {
  // The limits and the formats read come from IMGPIPE_* as for the other commands.
  ChainFile settings;
  apply_environment(settings);
  const Limits& limits = settings.context.limits;
  int status = kOk;
  nlohmann::json all = nlohmann::json::array();
  for (const auto& path : paths) {
    try {
      const ImageInfo i = path == "-" ? probe_buffer(read_stdin(), "<stdin>", limits) : probe(path, limits);
      if (json)
        all.push_back(info_json(i));
      else
        std::cout << describe(i);
    } catch (const Error& e) {
      std::cerr << error_line(e);
      status = std::max(status, exit_code_for(e.category()));
    }
  }
  if (json && !all.empty()) std::cout << (paths.size() == 1 ? all.front() : all).dump(2) << "\n";
  return status;
}

int ops(const std::optional<std::string>& name, bool json, bool markdown, bool presets) {
  std::vector<const OpDescriptor*> selected;
  if (name) selected.push_back(&Registry::global().at(*name));
  std::cout << (json       ? describe_ops_json(selected)
                : presets  ? describe_presets_markdown(selected)
                : markdown ? describe_ops_markdown(selected)
                           : describe_ops_text(selected));
  return kOk;
}

// `imgpipe --version`: imgpipe's and the libraries' versions, one per line.
std::string version_text() {
  std::string out = fmt::format("imgpipe {}", imgpipe::version());
  for (const auto& [name, version] : library_versions()) out += fmt::format("\n{} {}", name, version);
  return out;
}

// A usage mistake as every other error reads: "imgpipe: config error: ...", and where to look.
std::string usage_message(const CLI::App& app, const std::string& what) {
  std::string command = "imgpipe";
  for (const CLI::App* sub : app.get_subcommands())
    if (sub->parsed()) command += " " + sub->get_name();
  return error_line(ErrorCategory::config, what) + fmt::format("Run '{} --help' for usage.\n", command);
}

// The first word that is not a global flag must name a command; CLI11 alone would say only
// that a command is required.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.starts_with("-")) continue;  // -q, -v, --help, --version: CLI11 checks them
    std::vector<std::string> names;       // the visible commands, for the message
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == word) return std::nullopt;
      if (!sub->get_group().empty()) names.push_back(sub->get_name());
    }
    std::string message = fmt::format("unknown command '{}'", word);
    if (auto near = closest_name(word, names)) message += fmt::format(" (did you mean '{}'?)", *near);
    return error_line(ErrorCategory::config,
                      message + fmt::format("; commands: {}", fmt::join(names, ", "))) +
           "Run 'imgpipe --help' for usage.\n";
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  // libvips loads its optional modules (HEIF, JPEG XL, PDF, ImageMagick, OpenSlide) from
  // $VIPSHOME/lib at start-up, ~25 ms of every run; imgpipe reads JPEG, PNG, WebP, TIFF and
  // GIF, all built into libvips. IMGPIPE_VIPS_MODULES=1 keeps the modules.
  const char* modules = std::getenv("IMGPIPE_VIPS_MODULES");
  if (!(modules && std::string(modules) == "1"))
    setenv("VIPSHOME", "/nonexistent/imgpipe-no-vips-modules", 0);

  CLI::App app{"imgpipe: fast, bounded-memory image pipelines driven by YAML chains", "imgpipe"};
  app.set_version_flag("--version", version_text,
                       "Print imgpipe's version and the libraries' in use, then exit");
  app.require_subcommand(1);
  app.footer(
      "Run 'imgpipe COMMAND --help' for a command's options. Exit codes: 0 ok, 1 an input failed, 2 "
      "usage or configuration error, 3 fatal. Docs: docs/cli.md, man imgpipe.");
  // -q and -v may come after the subcommand too, where people tend to add them.
  app.fallthrough();
  Global g;
  auto* quiet = app.add_flag("-q,--quiet", g.quiet, "Print nothing but errors");
  app.add_flag("-v,--verbose", g.verbose, "Print what happens to each image")->excludes(quiet);

  RunArgs r;
  auto* run_cmd = app.add_subcommand(
      "run", "Run a chain on one image: imgpipe run CHAIN INPUT OUTPUT ('-' = stdin/stdout)");
  run_cmd->add_option("chain", r.chain, "YAML chain file")->required();
  run_cmd->add_option("input", r.input, "Input image, or - for stdin")->required();
  run_cmd->add_option("output", r.output, "Output image, or - for stdout")->required();
  for (auto& flag : r.settings)
    run_cmd->add_option(flag.names, flag.value, flag.help)->type_name(flag.value_name);
  r.access.add_to(*run_cmd);
  auto* preview_flag =
      run_cmd
          ->add_option(
              "--preview", r.preview,
              "First write a quick draft here: the chain at the draft preset, at most --preview-size "
              "pixels on its long side; then the output")
          ->type_name("FILE");
  run_cmd
      ->add_option("--preview-size", r.preview_size,
                   fmt::format("The draft's long side at most (default {})", kDefaultPreviewSide))
      ->type_name("N")
      ->check(CLI::Range(1, 65535))
      ->needs(preview_flag);
  run_cmd->add_flag("--profile", r.profile, "Print per-step time and peak memory to stderr");
  run_cmd->add_option("--profile-json", r.profile_json, "Write the profile as JSON to this file");
  run_cmd->add_flag("--stream", r.stream,
                    "Stream the image through the chain in tiles, in memory bounded by the tiles (file to "
                    "file; point, filter, crop, mirror and area-downscale steps, and one-palette palette and "
                    "complexity analysed on a thumbnail)");

  std::vector<std::string> info_paths;
  bool info_json = false;
  auto* info_cmd =
      app.add_subcommand("info", "Read images' headers: size, bands, depth, format, orientation, ICC, alpha");
  info_cmd->add_option("files", info_paths, "Image files, or - for stdin")->required();
  info_cmd->add_flag("--json", info_json, "Print JSON");

  std::optional<std::string> op_name;
  bool ops_as_json = false, ops_as_markdown = false, ops_presets = false;
  auto* ops_cmd = app.add_subcommand("ops", "List operations and their parameters");
  ops_cmd->add_option("name", op_name, "Show one operation");
  auto* json_flag = ops_cmd->add_flag("--json", ops_as_json, "Print JSON");
  auto* markdown_flag =
      ops_cmd->add_flag("--markdown", ops_as_markdown, "Print Markdown (docs/operations.md)")
          ->excludes(json_flag);
  ops_cmd->add_flag("--presets", ops_presets, "Print what each quality preset sets, as a Markdown table")
      ->excludes(json_flag)
      ->excludes(markdown_flag);

  std::function<int()> command_run;  // set by the subcommands defined in their own files
  cli::add_palette_commands(app, command_run);
  cli::add_vectorize_command(app, command_run);
  cli::add_batch_command(app, command_run);
  cli::add_serve_command(app, command_run);

  // The build writes the man pages and shell completion from these definitions (hidden: in no
  // group, so neither the help nor the reference lists it).
  std::string reference_kind, reference_dir;
  auto* reference_cmd = app.add_subcommand("__reference", "Write the man pages or a completion script");
  reference_cmd->group("");
  reference_cmd->add_option("kind", reference_kind, "man, bash or zsh")->required();
  reference_cmd->add_option("dir", reference_dir, "Output folder")->required();

  run_cmd->footer(
      "Examples:\n  imgpipe run examples/default.yaml photo.jpg photo.webp\n"
      "  imgpipe run chain.yaml - - --format png < in.jpg > out.png\n"
      "  imgpipe run blur.yaml huge.tif out.tif --stream --max-pixels 0");
  info_cmd->footer(
      "Examples:\n  imgpipe info photo.jpg\n  imgpipe info --json photos/*.jpg\n"
      "  curl -s URL | imgpipe info -");
  ops_cmd->footer("Examples:\n  imgpipe ops\n  imgpipe ops resize\n  imgpipe ops --json > ops.json");

  if (argc <= 1) {
    std::cerr << app.help();
    return kUsage;
  }
  if (auto unknown = unknown_command(app, argc, argv)) {
    std::cerr << *unknown;
    return kUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e) == 0 ? kOk : kUsage;  // help and version go to stdout with 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  } catch (const CLI::ParseError& e) {
    // Every mistake in the same words as the library's configuration errors, with the usage code.
    std::cerr << usage_message(app, e.what());
    return kUsage;
  }

  // Commands that write one image's outputs leave nothing partial when interrupted; a batch
  // and the service take their signals themselves (stop admitting, then abandon).
  std::optional<cli::SignalWatcher> signals;
  if (!app.got_subcommand("batch") && !app.got_subcommand("serve"))
    signals.emplace(cli::SignalWatcher::Reaction::exit);
  try {
    if (*run_cmd) return run(r, g);
    if (*info_cmd) return info(info_paths, info_json);
    if (*ops_cmd) return ops(op_name, ops_as_json, ops_as_markdown, ops_presets);
    if (*reference_cmd) {
      cli::write_reference(app, reference_kind, reference_dir, imgpipe::version());
      return kOk;
    }
    if (command_run) return command_run();
  } catch (const Error& e) {
    std::cerr << error_line(e);
    return exit_code_for(e.category());
  } catch (const std::bad_alloc&) {
    std::cerr << "imgpipe: fatal: out of memory\n";
    return kFatal;
  } catch (const std::exception& e) {
    std::cerr << fmt::format("imgpipe: fatal: {}\n", e.what());
    return kFatal;
  }
  return kUsage;
}
