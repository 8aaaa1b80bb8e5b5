// imgpipe: the command-line front end. It parses arguments and calls the public API; every
// operation, parameter and message comes from the library.
//
// Exit codes: 0 ok, 1 an input failed, 2 usage or configuration error, 3 fatal.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <imgpipe/imgpipe.hpp>

namespace fs = std::filesystem;
using namespace imgpipe;

namespace {

enum Exit { kOk = 0, kInputFailed = 1, kUsage = 2, kFatal = 3 };

int exit_code_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::config: return kUsage;
    case ErrorCategory::decode:
    case ErrorCategory::limit:
    case ErrorCategory::io:
    case ErrorCategory::unsupported:
    case ErrorCategory::device: return kInputFailed;
    case ErrorCategory::internal: return kFatal;
  }
  return kFatal;
}

struct Global {
  bool quiet = false;
  bool verbose = false;
};

struct RunArgs {
  std::string chain, input, output;
  std::optional<std::string> format, preset, device, max_memory, profile_json;
  std::optional<int> quality, threads;
  std::optional<std::uint64_t> max_pixels;
  bool profile = false;
};

std::vector<std::uint8_t> read_stdin() {
  std::vector<std::uint8_t> bytes;
  std::vector<char> chunk(1 << 16);
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), stdin)) > 0)
    bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  if (std::ferror(stdin)) throw Error(ErrorCategory::io, "<stdin>: read failed");
  return bytes;
}

void write_stdout(const std::vector<std::uint8_t>& bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() || std::fflush(stdout) != 0)
    throw Error(ErrorCategory::io, "<stdout>: write failed");
}

// Flags override the environment, which overrides the file.
void apply_flags(const RunArgs& a, ChainFile& file) {
  auto fail = [](const std::string& m) { throw Error(ErrorCategory::config, m); };
  if (a.format) {
    auto f = parse_format(*a.format);
    if (!f) fail(fmt::format("--format: expected one of jpeg, png, webp, tiff, got \"{}\"", *a.format));
    file.output.format = *f;
    file.output_format_set = true;
  }
  if (a.quality) file.output.quality = *a.quality;
  if (a.threads) file.context.threads = *a.threads;
  if (a.max_pixels) file.context.limits.max_input_pixels = *a.max_pixels;
  if (a.preset) {
    auto q = parse_quality_preset(*a.preset);
    if (!q) fail(fmt::format("--preset: expected one of ultra, high, balanced, fast, draft, got \"{}\"", *a.preset));
    file.context.quality = *q;
  }
  if (a.device) {
    auto d = parse_device(*a.device);
    if (!d) fail(fmt::format("--device: expected one of auto, cpu, opencl, cuda, got \"{}\"", *a.device));
    file.context.device = *d;
  }
  if (a.max_memory) {
    auto b = parse_byte_size(*a.max_memory);
    if (!b) fail(fmt::format("--max-memory: expected a size such as 4GB, got \"{}\"", *a.max_memory));
    file.context.max_memory = *b;
  }
}

Format choose_format(const RunArgs& a, const ChainFile& file) {
  if (a.format) {
    auto by_extension = format_from_path(a.output);
    if (a.output != "-" && by_extension && *by_extension != file.output.format)
      throw Error(ErrorCategory::config,
                  fmt::format("--format {} does not match the output name {}", *a.format, a.output));
    return file.output.format;
  }
  auto format = a.output == "-" ? (file.output_format_set ? std::optional(file.output.format) : std::nullopt)
                                : file.format_for(a.output);
  if (!format)
    throw Error(ErrorCategory::config,
                fmt::format("cannot tell the output format of '{}': use a .jpg, .png, .webp or .tif "
                            "name, --format, or output.format in the chain",
                            a.output));
  return *format;
}

int run(const RunArgs& a, const Global& g) {
  ChainFile file = load_chain_file(a.chain);
  apply_environment(file);
  apply_flags(a, file);
  file.output.format = choose_format(a, file);
  if (a.input != "-" && a.output != "-") {
    std::error_code ec;
    if (fs::exists(a.output, ec) && fs::equivalent(a.input, a.output, ec))
      throw Error(ErrorCategory::config, fmt::format("{}: refusing to overwrite the input", a.output));
  }
  PerformanceMonitor monitor;
  const bool profiling = a.profile || a.profile_json;
  if (profiling) file.context.monitor = &monitor;
  if (g.verbose) std::cerr << fmt::format("chain {}: {}\n", file.source, file.chain.canonical());

  Image output;
  std::vector<std::uint8_t> encoded;
  {
    MaybeScope total(file.context.monitor, "run");
    Image input;
    {
      MaybeScope s(file.context.monitor, "decode");
      if (a.input == "-") {
        auto bytes = read_stdin();
        input = load_buffer(bytes, "<stdin>", file.load_options(), file.context.limits);
      } else {
        input = load(a.input, file.load_options(), file.context.limits);
      }
    }
    if (g.verbose)
      std::cerr << fmt::format("{}: decoded {}x{}, {} channels, {}-bit\n", input.source, input.width(),
                               input.height(), input.channels(), input.bit_depth());
    output = file.chain.run(input, file.context);
    MaybeScope s(file.context.monitor, "encode");
    encoded = encode(output, file.output, file.context.quality);
  }
  if (a.output == "-") write_stdout(encoded);
  else write_file_atomic(a.output, encoded, file.output.fsync);
  if (g.verbose)
    std::cerr << fmt::format("{}: wrote {}x{} {} ({} bytes)\n", a.output, output.width(), output.height(),
                             to_string(file.output.format), encoded.size());
  if (a.profile) std::cerr << monitor.report_text();
  if (a.profile_json) {
    const std::string json = monitor.report_json() + "\n";
    write_file_atomic(*a.profile_json, {reinterpret_cast<const std::uint8_t*>(json.data()), json.size()});
  }
  return kOk;
}

int info(const std::string& path, bool json, const Global& g) {
  ImageInfo i;
  std::vector<std::uint8_t> bytes;
  if (path == "-") {
    bytes = read_stdin();
    i = probe_buffer(bytes, "<stdin>");
  } else {
    i = probe(path);
  }
  if (json) {
    nlohmann::json j = {{"file", i.source},          {"format", i.format},       {"width", i.width},
                        {"height", i.height},        {"bands", i.bands},         {"bit_depth", i.bit_depth},
                        {"interpretation", i.interpretation}, {"orientation", i.orientation},
                        {"upright_width", i.oriented_width()}, {"upright_height", i.oriented_height()},
                        {"has_alpha", i.has_alpha},  {"has_icc", i.has_icc},     {"pages", i.pages},
                        {"file_bytes", i.file_bytes}};
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  if (g.quiet) return kOk;
  std::cout << fmt::format(
      "{}: {} {}x{}, {} band{} ({}), {}-bit, orientation {}{}{}{}, {} bytes\n", i.source, i.format,
      i.width, i.height, i.bands, i.bands == 1 ? "" : "s", i.interpretation, i.bit_depth, i.orientation,
      i.has_alpha ? ", alpha" : "", i.has_icc ? ", ICC profile" : "",
      i.pages > 1 ? fmt::format(", {} frames (imgpipe uses the first)", i.pages) : "", i.file_bytes);
  return kOk;
}

int ops(const std::optional<std::string>& name, bool json, bool markdown) {
  std::vector<const OpDescriptor*> selected;
  if (name) selected.push_back(&Registry::global().at(*name));
  std::cout << (json ? describe_ops_json(selected) : markdown ? describe_ops_markdown(selected)
                                                          : describe_ops_text(selected));
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  // libvips loads its optional modules (HEIF, JPEG XL, PDF, ImageMagick, OpenSlide) from
  // $VIPSHOME/lib at start-up, ~25 ms of every run; imgpipe reads JPEG, PNG, WebP, TIFF and
  // GIF, all built into libvips. IMGPIPE_VIPS_MODULES=1 keeps the modules.
  const char* modules = std::getenv("IMGPIPE_VIPS_MODULES");
  if (!(modules && std::string(modules) == "1")) setenv("VIPSHOME", "/nonexistent/imgpipe-no-vips-modules", 0);

  CLI::App app{"imgpipe: fast, bounded-memory image pipelines driven by YAML chains"};
  app.set_version_flag("--version", std::string("imgpipe ") + imgpipe::version());
  app.require_subcommand(1);
  Global g;
  app.add_flag("-q,--quiet", g.quiet, "Print nothing but errors");
  app.add_flag("-v,--verbose", g.verbose, "Print what happens to each image");

  RunArgs r;
  auto* run_cmd = app.add_subcommand("run", "Run a chain on one image: imgpipe run CHAIN INPUT OUTPUT ('-' = stdin/stdout)");
  run_cmd->add_option("chain", r.chain, "YAML chain file")->required();
  run_cmd->add_option("input", r.input, "Input image, or - for stdin")->required();
  run_cmd->add_option("output", r.output, "Output image, or - for stdout")->required();
  run_cmd->add_option("-f,--format", r.format, "Output format: jpeg, png, webp, tiff (default: from the output name)");
  run_cmd->add_option("--quality", r.quality, "Output quality 1..100 (JPEG, WebP)")->check(CLI::Range(1, 100));
  run_cmd->add_option("--preset", r.preset, "Quality preset: ultra, high, balanced, fast, draft");
  run_cmd->add_option("--threads", r.threads, "Worker threads (0 = all cores)")->check(CLI::Range(0, 1024));
  run_cmd->add_option("--device", r.device, "auto, cpu, opencl, cuda");
  run_cmd->add_option("--max-memory", r.max_memory, "Memory budget, e.g. 4GB");
  run_cmd->add_option("--max-pixels", r.max_pixels, "Refuse inputs with more pixels (default 268402689)");
  run_cmd->add_flag("--profile", r.profile, "Print per-step time and peak memory to stderr");
  run_cmd->add_option("--profile-json", r.profile_json, "Write the profile as JSON to this file");

  std::string info_path;
  bool info_json = false;
  auto* info_cmd = app.add_subcommand("info", "Read an image's header: size, bands, depth, format, orientation, ICC, alpha");
  info_cmd->add_option("file", info_path, "Image file, or - for stdin")->required();
  info_cmd->add_flag("--json", info_json, "Print JSON");

  std::optional<std::string> op_name;
  bool ops_as_json = false, ops_as_markdown = false;
  auto* ops_cmd = app.add_subcommand("ops", "List operations and their parameters");
  ops_cmd->add_option("name", op_name, "Show one operation");
  auto* json_flag = ops_cmd->add_flag("--json", ops_as_json, "Print JSON");
  ops_cmd->add_flag("--markdown", ops_as_markdown, "Print Markdown (docs/operations.md)")->excludes(json_flag);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  }

  try {
    if (*run_cmd) return run(r, g);
    if (*info_cmd) return info(info_path, info_json, g);
    if (*ops_cmd) return ops(op_name, ops_as_json, ops_as_markdown);
  } catch (const Error& e) {
    std::cerr << fmt::format("imgpipe: {} error: {}\n", to_string(e.category()), e.what());
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
