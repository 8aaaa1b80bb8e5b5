// `imgpipe batch`: the library's batch engine with signals, a report file, a progress line
// and the summary on stderr.
//
// Exit codes: 0 every input ok (or skipped), 1 some input failed or the report could not be
// written, 2 the batch could not start (usage, configuration, output folder), 3 fatal, 130
// after SIGINT, 143 after SIGTERM.

#include "batch_command.hpp"

#include <fmt/format.h>
#include <malloc.h>
#include <pthread.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "access_flags.hpp"
#include "command_io.hpp"
#include "process_tuning.hpp"
#include "signals.hpp"

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

struct BatchArgs {
  std::string chain;
  std::vector<std::string> inputs;
  std::string output;
  std::optional<std::string> output_template, report, shard, cache_dir, cache_size;
  std::optional<int> shard_count;
  std::vector<std::string> include, exclude;
  bool hidden = false, follow_symlinks = false, resume = false, no_cache = false, dry_run = false,
       fsync = false, progress = false, no_progress = false;
  AccessFlags access;
  int jobs = 0, threads = 0;
  double timeout = 0;
  // Settings shared with `run`: flag → place in the chain file.
  std::vector<std::pair<const char*, std::optional<std::string>>> settings = {
      {"output.format", {}},      {"output.quality", {}},         {"performance.quality", {}},
      {"performance.device", {}}, {"performance.max_memory", {}}, {"performance.max_pixels", {}},
      {"on_error", {}},           {"performance.formats", {}},
  };
  bool quiet = false, verbose = false;
};

// "[#####·····]  45/98  12.3 img/s  ETA 0:04", redrawn in place on a terminal.
class Progress {
 public:
  Progress(std::size_t total, bool enabled)
      : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
    const char* no_colour = std::getenv("NO_COLOR");
    colour_ = !(no_colour && *no_colour);
  }
  void step(std::size_t failed) {
    ++done_;
    if (!enabled_) return;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0;
    const auto eta = rate > 0 ? static_cast<long>(static_cast<double>(total_ - done_) / rate) : 0L;
    const int width = 24;
    const int filled = total_ ? static_cast<int>(width * done_ / total_) : width;
    const std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                            std::string(static_cast<std::size_t>(width - filled), '.');
    const std::string errors = failed == 0 ? ""
                               : colour_   ? fmt::format("  \033[31m{} failed\033[0m", failed)
                                           : fmt::format("  {} failed", failed);
    std::cerr << fmt::format("\r[{}] {}/{}  {:.1f} img/s  ETA {}:{:02}{}\033[K", bar, done_, total_, rate,
                             eta / 60, eta % 60, errors)
              << std::flush;
  }
  void finish() {
    if (enabled_ && done_ > 0) std::cerr << "\r\033[K" << std::flush;
  }

 private:
  std::size_t total_, done_ = 0;
  bool enabled_, colour_ = true;
  std::chrono::steady_clock::time_point start_;
};

// Where the report goes: a file written as the batch goes (so a killed batch leaves what it
// did), or stdout. A line that cannot be written (a full disk) stops the report there, so that
// it is cut short rather than missing lines in its middle, and makes the batch fail: a
// report silently empty would tell whoever reads it that nothing happened.
class ReportSink {
 public:
  explicit ReportSink(const std::optional<std::string>& target) : name_(target.value_or("")) {
    if (!target) return;
    if (*target == "-") {
      out_ = stdout;
      name_ = "<stdout>";
      return;
    }
    const fs::path parent = fs::path(*target).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    out_ = std::fopen(target->c_str(), "w");
    owned_ = true;
    if (!out_)
      throw Error(ErrorCategory::io,
                  fmt::format("{}: cannot write the report: {}", *target, std::strerror(errno)));
  }
  ReportSink(const ReportSink&) = delete;
  ReportSink& operator=(const ReportSink&) = delete;
  ~ReportSink() {
    if (owned_) std::fclose(out_);
  }
  void line(const std::string& text) {
    if (!out_ || error_) return;
    errno = 0;
    if (std::fputs(text.c_str(), out_) == EOF || std::fputc('\n', out_) == EOF || std::fflush(out_) == EOF)
      error_ = errno ? errno : EIO;
  }
  // "" or why the report is incomplete.
  std::string error() const {
    return error_ ? fmt::format("{}: cannot write the report: {}", name_, std::strerror(error_)) : "";
  }

 private:
  std::FILE* out_ = nullptr;
  bool owned_ = false;
  std::string name_;
  int error_ = 0;
};

std::string megabytes(std::uint64_t bytes) {
  return fmt::format("{} MB", (bytes + (1u << 19)) >> 20);
}

struct Prepared {
  ChainFile file;
  BatchOptions options;
  BatchPlan plan;
};

// Everything that must hold before the first image: settings, inputs, outputs, shard.
Prepared prepare(const BatchArgs& a) {
  Prepared p;
  ChainFile& file = p.file;
  BatchOptions& options = p.options;
  file = load_chain_file(a.chain, a.access.resolve());
  apply_environment(file);
  static const char* const origins[] = {"--format",     "--quality",    "--preset",   "--device",
                                        "--max-memory", "--max-pixels", "--on-error", "--formats"};
  for (std::size_t i = 0; i < a.settings.size(); ++i)
    if (a.settings[i].second) apply_setting(file, a.settings[i].first, *a.settings[i].second, origins[i]);
  if (a.fsync) file.output.fsync = true;

  options.output_root = a.output;
  options.output_template = a.output_template.value_or("");
  options.walk.include = a.include;
  options.walk.exclude = a.exclude;
  options.walk.hidden = a.hidden;
  options.walk.follow_symlinks = a.follow_symlinks;
  options.walk.skip.push_back(a.output);  // a rerun must not take its own outputs as inputs
  options.jobs = a.jobs;
  options.threads = a.threads;
  options.resume = a.resume;
  options.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
  options.shard = resolve_shard(a.shard, a.shard_count);
  // The result cache is off unless asked for: a CLI that also runs in containers and CI should
  // not write up to 2 GiB under the home folder unasked (docs/cli.md).
  std::optional<std::string> cache_dir = a.cache_dir;
  if (const char* env = std::getenv("IMGPIPE_CACHE"); !cache_dir && env && *env) cache_dir = env;
  if (a.cache_size && (!cache_dir || a.no_cache))
    throw Error(ErrorCategory::config,
                "--cache-size: the result cache is off; give it a folder with --cache DIR");
  if (cache_dir && !a.no_cache) {
    options.cache_dir = fs::path(*cache_dir);
    if (a.cache_size) {
      auto bytes = parse_byte_size(*a.cache_size);
      if (!bytes || *bytes == 0)
        throw Error(ErrorCategory::config,
                    fmt::format("--cache-size: expected a size such as 2GB, got \"{}\"", *a.cache_size));
      options.cache_max_bytes = *bytes;
    }
  }

  std::vector<fs::path> roots(a.inputs.begin(), a.inputs.end());
  std::error_code ec;
  for (const auto& root : roots)
    if (fs::is_directory(root, ec) && fs::exists(a.output, ec) && fs::equivalent(root, a.output, ec))
      throw Error(
          ErrorCategory::config,
          fmt::format("{}: the output folder is an input folder; write to another folder (one inside the "
                      "input folder is fine: it is not walked)",
                      a.output));
  p.plan = plan_batch(file, find_inputs(roots, options.walk), options);
  if (p.plan.total_inputs == 0 && !a.quiet)
    std::cerr << warning_line(
        fmt::format("no input files matched in {}{}; nothing to do", fmt::join(a.inputs, ", "),
                    a.include.empty() ? std::string(" (image extensions only: --include widens that)")
                                      : fmt::format(" with --include {}", fmt::join(a.include, " "))));
  return p;
}

int run_batch_command(const BatchArgs& a) {
  std::optional<Prepared> prepared;
  std::optional<ReportSink> report;
  try {
    prepared = prepare(a);
    if (!a.dry_run) report.emplace(a.report);
  } catch (const Error& e) {
    // Whatever stops a batch from starting — a bad flag, chain or template, a missing input
    // folder, an output folder or report that cannot be written — is the "could not start" code.
    std::cerr << error_line(e);
    return e.category() == ErrorCategory::internal ? 3 : 2;
  }
  const ChainFile& file = prepared->file;
  BatchOptions& options = prepared->options;
  const BatchPlan& plan = prepared->plan;

  if (a.dry_run) {
    for (const auto& item : plan.items)
      std::cout << fmt::format("{} -> {}\n", item.input.path.string(),
                               (options.output_root / item.output).string());
    std::cerr << fmt::format("{} of {} inputs in this shard{}; nothing was processed (--dry-run)\n",
                             plan.items.size(), plan.total_inputs,
                             options.shard ? fmt::format(" ({}/{} from {})", options.shard->index,
                                                         options.shard->count, options.shard->origin)
                                           : "");
    return 0;
  }

  const bool tty = isatty(STDERR_FILENO) != 0;
  Progress progress(plan.items.size(), !a.quiet && !a.no_progress && (a.progress || tty));
  std::size_t failed = 0;
  BatchSummary summary;
  int signal = 0;
  {
    // Process-wide settings are the program's to choose, not the library's. TBB's global
    // parallelism capped to the batch's threads keeps OpenCV's loops from starting more.
    // With a memory budget, glibc's mmap threshold is fixed at 1 MiB: it raises it after large
    // frees, so later images would come from the heap arenas of whichever threads ran them and
    // stay resident; a fixed threshold keeps every image mmapped and returned when freed.
    // Without one, image buffers are kept for the next image: 40 photos to 1200x800 WebP made
    // 129 K page faults and 1.1 s of system time; kept, 9 K and 0.1 s, for 2 MB more peak RSS.
    const int threads = options.threads > 0 ? options.threads : file.context.threads;
    std::optional<tbb::global_control> parallelism;
    if (threads > 0)
      parallelism.emplace(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    if (file.context.max_memory)
      mallopt(M_MMAP_THRESHOLD, 1 << 20);
    else
      cli::keep_freed_memory(16 << 20);
    SignalWatcher signals(SignalWatcher::Reaction::stop_then_abort);
    options.stop = signals.stop();
    options.abort = signals.abort();
    summary = run_batch(file, plan, options, [&](const BatchRecord& r) {
      if (r.status == BatchStatus::failed) {
        ++failed;  // errors are printed even with --quiet
        std::cerr << (tty ? "\r\033[K" : "") << error_line(*r.error_category, r.error);
      } else if (a.verbose) {
        std::cerr << (tty ? "\r\033[K" : "")
                  << fmt::format("{} -> {}: {}, {}x{}, {:.0f} ms ({})\n", r.input, fmt::join(r.outputs, ", "),
                                 to_string(r.status), r.width, r.height, r.ms, r.strategy);
      }
      if (!a.quiet)
        for (const auto& warning : r.warnings) std::cerr << (tty ? "\r\033[K" : "") << warning_line(warning);
      report->line(to_json_line(r));
      progress.step(failed);
    });
    signal = signals.signal();
  }
  progress.finish();
  report->line(to_json_line(summary));
  if (!a.quiet) {
    const std::size_t processed = summary.ok + summary.failed;
    std::string extra;
    if (summary.skipped) extra += fmt::format(", {} already done", summary.skipped);
    if (summary.cache_hits) extra += fmt::format(", {} from cache", summary.cache_hits);
    if (summary.cancelled) extra += fmt::format(", {} not finished", summary.cancelled);
    std::cerr << fmt::format("Processed {} image{}, {} error{}{}, {:.0f} ms/image avg, peak {}\n", processed,
                             processed == 1 ? "" : "s", summary.failed, summary.failed == 1 ? "" : "s", extra,
                             summary.ms_per_image, megabytes(summary.peak_rss));
    if (options.cache_dir) std::cerr << fmt::format("Result cache: {}\n", options.cache_dir->string());
  }
  const std::string report_error = report->error();
  if (!report_error.empty()) std::cerr << error_line(ErrorCategory::io, report_error);
  if (signal == SIGINT) return 130;
  if (signal == SIGTERM) return 143;
  return summary.failed > 0 || summary.cancelled > 0 || !report_error.empty() ? 1 : 0;
}

}  // namespace

void add_batch_command(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<BatchArgs>();
  auto* cmd = app.add_subcommand(
      "batch", "Run a chain over folders and files: imgpipe batch CHAIN --input DIR|FILE... --output DIR");
  cmd->add_option("chain", a->chain, "YAML chain file")->required();
  cmd->add_option("-i,--input", a->inputs,
                  "Input folder or file (repeatable); folders are walked recursively")
      ->required();
  cmd->add_option("-o,--output", a->output, "Output folder")->required();
  cmd->add_option("--output-template", a->output_template,
                  "Output path under the folder: {relpath} {stem} {dir} {ext} {variant} {index} "
                  "(default: output.path of the chain file, else {relpath}.{ext})");
  cmd->add_option("--include", a->include,
                  "Only files matching this glob (repeatable; default: image extensions)");
  cmd->add_option("--exclude", a->exclude, "Skip files matching this glob (repeatable)");
  cmd->add_flag("--hidden", a->hidden, "Also take files and folders whose names start with '.'");
  cmd->add_flag("--follow-symlinks", a->follow_symlinks, "Follow symbolic links (loops are detected)");
  cmd->add_option("-j,--jobs", a->jobs,
                  "Images in flight (default: performance.parallel_images, else threads)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--threads", a->threads, "Worker threads in all (0 = all cores)")
      ->check(CLI::Range(0, 1024));
  const char* names[] = {"-f,--format",  "--quality",    "--preset",   "--device",
                         "--max-memory", "--max-pixels", "--on-error", "--formats"};
  // The last help is parenthesised: one string over two lines, not a missing comma (clang's
  // -Wstring-concatenation).
  const char* help[] = {"Output format: jpeg, png, webp, tiff (default: output.format, else the input's)",
                        "Output quality 1..100 (JPEG, WebP)",
                        "Quality preset: ultra, high, balanced, fast, draft",
                        "auto, cpu, opencl, cuda",
                        "Memory budget for the images in flight, e.g. 2GB",
                        "Refuse inputs with more pixels",
                        "continue (default: the chain file's on_error, else stop) or stop",
                        ("Input formats read, e.g. \"jpeg,png,ppm\" (default jpeg, png, webp, tiff, gif; "
                         "docs/security.md)")};
  for (std::size_t i = 0; i < a->settings.size(); ++i)
    cmd->add_option(names[i], a->settings[i].second, help[i]);
  cmd->add_option("--timeout", a->timeout, "Give up on one image after this many seconds (0 = never)")
      ->check(CLI::Range(0.0, 1e7));
  cmd->add_flag("--resume", a->resume,
                "Skip inputs whose outputs a previous run finished (journal in the output folder)");
  cmd->add_option("--report", a->report, "Write a JSON Lines report to this file (- = stdout)");
  cmd->add_option("--shard", a->shard,
                  "Process only shard I of N (I/N, from 0); default: from the job engine's environment");
  cmd->add_option("--shard-count", a->shard_count, "Shard count with JOB_COMPLETION_INDEX (Kubernetes)")
      ->check(CLI::Range(1, 1 << 30));
  auto* cache_dir =
      cmd->add_option("--cache", a->cache_dir,
                      "Keep results in this folder and reuse them for unchanged inputs (default: no cache, "
                      "or $IMGPIPE_CACHE)")
          ->type_name("DIR");
  cmd->add_flag("--no-cache", a->no_cache,
                "Do not read or write the result cache, even with IMGPIPE_CACHE set")
      ->excludes(cache_dir);
  cmd->add_option("--cache-size", a->cache_size, "Result cache size cap (default 2GiB)");
  cmd->add_flag("--dry-run", a->dry_run, "List the inputs and outputs of this shard, then stop");
  a->access.add_to(*cmd);
  cmd->add_flag("--fsync", a->fsync, "Flush each output to disk before it is renamed into place");
  auto* progress =
      cmd->add_flag("--progress", a->progress, "Show progress even when stderr is not a terminal");
  cmd->add_flag("--no-progress", a->no_progress, "Never show progress")->excludes(progress);
  cmd->footer(
      "Examples:\n  imgpipe batch examples/default.yaml -i photos/ -o out/ --report report.jsonl\n"
      "  imgpipe batch chain.yaml -i photos/ -o out/ --resume --shard 3/16\n"
      "  imgpipe batch chain.yaml -i a.jpg -i b.png -o out/ --format webp --quality 80 --cache "
      "~/.cache/imgpipe");
  cmd->callback([a, &app, &run] {
    a->quiet = app.get_option("--quiet")->as<bool>();
    a->verbose = app.get_option("--verbose")->as<bool>();
    run = [a] { return run_batch_command(*a); };
  });
}

}  // namespace imgpipe::cli
