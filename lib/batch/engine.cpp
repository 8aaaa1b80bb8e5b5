// Running a batch: a TBB pipeline of admit → decode → process → encode + write → report.
//
// Admission is where memory is governed: each input's working set is estimated from its
// header, and an input enters only while the sum of the admitted estimates fits the budget
// (or when nothing else is in flight, so that one large image can always run alone). The
// admit stage is serial and is the only place that waits; a thread waiting there holds no
// image, so the images it waits for keep moving on the other threads.
//
// All work runs in one task arena of `threads` threads, so operations' own parallel loops (and
// OpenCV's, which uses TBB) share those threads instead of multiplying them by the images in
// flight. Each input is one Job (job.hpp): opened and probed at admission, then decoded, run
// and encoded (or streamed) by the job runner every front end uses.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <tbb/info.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <imgpipe/batch.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/version.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

namespace imgpipe {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// One JSON line; bytes that are not UTF-8 (a file name can hold any) become U+FFFD rather
// than an exception.
std::string json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string_view to_string(BatchStatus status) noexcept {
  switch (status) {
    case BatchStatus::ok: return "ok";
    case BatchStatus::failed: return "failed";
    case BatchStatus::skipped: return "skipped";
    case BatchStatus::cancelled: return "cancelled";
  }
  return "failed";
}

// ---- Report ------------------------------------------------------------------------------

std::string to_json_line(const BatchRecord& r) {
  nlohmann::json j = {{"type", "input"},
                      {"input", r.input},
                      {"status", to_string(r.status)},
                      {"outputs", r.outputs},
                      {"width", r.width},
                      {"height", r.height},
                      {"input_bytes", r.input_bytes},
                      {"output_bytes", r.output_bytes},
                      {"ms", std::round(r.ms * 10) / 10},
                      {"strategy", r.strategy},
                      {"cache_hit", r.cache_hit}};
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  for (const DeviceRun& d : r.devices) {
    const auto ms = [](double v) { return std::round(v * 100) / 100; };
    j["devices"].push_back(
        {{"steps", d.first_step == d.last_step ? std::to_string(d.first_step)
                                               : fmt::format("{}-{}", d.first_step, d.last_step)},
         {"device", to_string(d.device)},
         {"name", d.name},
         {"upload_ms", ms(d.upload_ms)},
         {"run_ms", ms(d.run_ms)},
         {"download_ms", ms(d.download_ms)}});
  }
  for (const AnalysisReport& a : r.analyses) {
    nlohmann::json entry = {{"step", a.step},
                            {"operation", a.operation},
                            {"strategy", a.strategy},
                            {"analysed", {a.analysed_width, a.analysed_height}}};
    for (const auto& [name, value] : a.values) entry[name] = std::round(value * 1e4) / 1e4;
    j["analyses"].push_back(std::move(entry));
  }
  if (r.error_category) {
    j["error_category"] = to_string(*r.error_category);
    j["error"] = r.error;
  }
  return json_line(j);
}

std::string to_json_line(const BatchSummary& s) {
  const nlohmann::json j = {{"type", "summary"},
                            {"inputs", s.inputs},
                            {"ok", s.ok},
                            {"failed", s.failed},
                            {"skipped", s.skipped},
                            {"cancelled", s.cancelled},
                            {"cache_hits", s.cache_hits},
                            {"wall_ms", std::round(s.wall_ms)},
                            {"ms_per_image", std::round(s.ms_per_image * 10) / 10},
                            {"peak_rss_bytes", s.peak_rss},
                            {"memory_budget_bytes", s.memory_budget},
                            {"jobs", s.jobs},
                            {"threads", s.threads},
                            {"stopped", s.stopped},
                            {"version", version()}};
  return json_line(j);
}

// ---- Journal (resume) --------------------------------------------------------------------

namespace {

// One journal a shard: workers sharing an output folder never write the same file, which
// network file systems (NFS, Cloud Storage FUSE) do not merge safely.
std::string journal_name(const std::optional<Shard>& shard) {
  return shard && shard->count > 1 ? fmt::format(".imgpipe-journal-{}of{}.jsonl", shard->index, shard->count)
                                   : std::string(".imgpipe-journal.jsonl");
}

std::string hex64(std::uint64_t v) {
  return fmt::format("{:016x}", v);
}

// What an input's outputs depend on besides its bytes: the chain, the output settings, the
// template and the library. An input whose stamp or settings changed is done again.
std::string settings_hash(const ChainFile& file, const BatchPlan& plan) {
  const std::string text = file.chain.canonical() + '\n' +
                           canonical_output_settings(file.output, file.context.quality) + '\n' +
                           plan.output_template + '\n' + version();
  return hex64(XXH3_64bits(text.data(), text.size()));
}

// Size and modification time: enough to notice a replaced input without reading it.
std::string stamp_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return fmt::format("{}:{}.{:09}", st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

struct JournalEntry {
  std::string stamp, settings;
  std::vector<std::pair<std::string, std::uint64_t>> outputs;  // relative to the root, size
};

// Every journal in the folder (any shard's, any shard count's); a line cut short by a kill is
// ignored, and the last complete line for an input wins.
std::map<std::string, JournalEntry> read_journal(const fs::path& root) {
  std::vector<fs::path> journals;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(".imgpipe-journal", 0) == 0 && entry.path().extension() == ".jsonl")
      journals.push_back(entry.path());
  }
  std::sort(journals.begin(), journals.end());
  std::map<std::string, JournalEntry> entries;
  std::string line;
  for (const auto& journal : journals) {
    std::ifstream in(journal);
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object() || !j.contains("input") || !j.contains("outputs")) continue;
      try {
        JournalEntry e;
        e.stamp = j.at("stamp").get<std::string>();
        e.settings = j.at("settings").get<std::string>();
        for (const auto& o : j.at("outputs"))
          e.outputs.emplace_back(o.at("path").get<std::string>(), o.at("bytes").get<std::uint64_t>());
        entries[j.at("input").get<std::string>()] = std::move(e);
      } catch (const nlohmann::json::exception&) {
        continue;
      }
    }
  }
  return entries;
}

class Journal {
 public:
  Journal(fs::path path, bool fsync) : path_(std::move(path)), fsync_(fsync) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd_ < 0)
      throw Error(ErrorCategory::io,
                  fmt::format("{}: cannot open the journal: {}", path_.string(), std::strerror(errno)));
  }
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal() { ::close(fd_); }

  // One write() per line with O_APPEND: lines from several processes do not interleave.
  void append(const std::string& input, const std::string& stamp, const std::string& settings,
              const std::vector<std::pair<std::string, std::uint64_t>>& outputs) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& [path, bytes] : outputs) list.push_back({{"path", path}, {"bytes", bytes}});
    const std::string line =
        json_line(
            nlohmann::json{{"input", input}, {"stamp", stamp}, {"settings", settings}, {"outputs", list}}) +
        "\n";
    std::lock_guard lock(mutex_);
    const ssize_t written = ::write(fd_, line.data(), line.size());
    if (written != static_cast<ssize_t>(line.size()))
      throw Error(ErrorCategory::io,
                  fmt::format("{}: cannot append to the journal: {}", path_.string(),
                              written < 0 ? std::strerror(errno)
                                          : fmt::format("{} of {} bytes written", written, line.size())));
    if (fsync_) ::fdatasync(fd_);
  }

 private:
  fs::path path_;
  int fd_ = -1;
  bool fsync_;
  std::mutex mutex_;
};

// One input on its way through the pipeline.
struct Work {
  const BatchItem* item = nullptr;
  BatchRecord record;
  Clock::time_point begun;     // work started: the time limit and the reported time count from here
  std::uint64_t admitted = 0;  // bytes held in the governor
  std::string stamp;
  std::unique_ptr<Job> job;  // opened and probed at admission
  std::string cache_key;
  std::vector<CachedOutput> encoded;
  bool streamed = false;  // over the budget alone: streamed file to file, holding the whole budget
  bool done = false;      // nothing more to do but report
};

void fail(Work& w, const Error& e) {
  w.record.status = e.category() == ErrorCategory::cancelled ? BatchStatus::cancelled : BatchStatus::failed;
  w.record.error_category = e.category();
  w.record.error = e.what();
  w.done = true;
}

// Runs `body` for a work item unless it is done, turning every exception into its record.
template <class F>
void guarded(Work& w, F&& body) {
  if (w.done) return;
  try {
    body();
  } catch (const Error& e) {
    fail(w, e);
  } catch (const std::bad_alloc&) {
    fail(w, Error(ErrorCategory::limit, fmt::format("{}: out of memory", w.record.input)));
  } catch (const std::exception& e) {
    fail(w, Error(ErrorCategory::internal, fmt::format("{}: {}", w.record.input, e.what())));
  }
}

// All cores means the cores this process may run on: TBB's default concurrency follows the
// CPU affinity mask (taskset, Slurm's pinning, Kubernetes' static CPU manager).
int automatic_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1, tbb::info::default_concurrency());
}

}  // namespace

// ---- The run -----------------------------------------------------------------------------

BatchSummary run_batch(const ChainFile& file, const BatchPlan& plan, const BatchOptions& options,
                       const std::function<void(const BatchRecord&)>& on_record) {
  const auto started = Clock::now();
  BatchSummary summary;
  summary.inputs = plan.items.size();
  summary.threads = automatic_threads(options.threads > 0 ? options.threads : file.context.threads);
  summary.jobs = options.jobs > 0                   ? options.jobs
                 : file.context.parallel_images > 0 ? file.context.parallel_images
                                                    : summary.threads;
  // A thread waiting in the admit stage holds no image; with one thread it would be the
  // only one, so one thread means one image at a time.
  if (summary.threads == 1) summary.jobs = 1;
  summary.memory_budget = file.context.max_memory;
  const fs::path& root = options.output_root;
  const std::string settings = settings_hash(file, plan);
  std::map<std::string, JournalEntry> finished;
  if (options.resume) {
    finished = read_journal(root);
    // Temporaries of writes cut short by a kill; those of a live writer are younger.
    remove_stale_temporary_files(root, std::chrono::minutes(2));
  }
  Journal journal(root / journal_name(options.shard), file.output.fsync);
  std::optional<ResultCache> cache;
  if (options.cache_dir) cache.emplace(*options.cache_dir, options.cache_max_bytes);
  const std::string chain_text = file.chain.canonical();
  // The settings as each input is written: its format may come from the template or the input.
  auto save_options = [&](const BatchItem& item) {
    SaveOptions save = file.output;
    save.format = item.format;
    return save;
  };

  MemoryGovernor governor(file.context.max_memory);
  std::stop_source halt;  // on_error: stop
  std::mutex written_mutex;
  std::set<fs::path> written;  // every output of this run, to refuse a second write to one path
  double ran_ms = 0;
  std::size_t ran = 0;
  std::size_t next = 0;

  Context context = file.context;
  context.threads = 0;  // the chain runs in this arena
  context.monitor = nullptr;
  context.cancel = options.abort;

  auto stop_requested = [&] {
    return options.stop.stop_requested() || options.abort.stop_requested() || halt.stop_requested();
  };

  auto admit = [&](tbb::flow_control& fc) -> Work* {
    if (next >= plan.items.size() || stop_requested()) {
      fc.stop();
      return nullptr;
    }
    auto w = std::make_unique<Work>();
    w->item = &plan.items[next++];
    w->begun = Clock::now();
    w->record.input = w->item->input.path.string();
    w->record.input_bytes = w->item->input.bytes;
    w->record.strategy = "in-memory";
    guarded(*w, [&] {
      w->stamp = stamp_of(w->item->input.path);
      const std::string key = w->item->input.relpath.generic_string();
      if (auto it = finished.find(key); options.resume && it != finished.end() &&
                                        it->second.stamp == w->stamp && it->second.settings == settings) {
        const bool complete =
            std::all_of(it->second.outputs.begin(), it->second.outputs.end(), [&](const auto& o) {
              std::error_code ec;
              return fs::file_size(root / o.first, ec) == o.second && !ec;
            });
        if (complete) {
          w->record.status = BatchStatus::skipped;
          w->record.strategy = "resume";
          for (const auto& o : it->second.outputs) {
            w->record.outputs.push_back((root / o.first).string());
            w->record.output_bytes += o.second;
          }
          w->done = true;
          return;
        }
      }
      w->job = std::make_unique<Job>(file, w->item->input.path, context);
      const ImageInfo& info = w->job->info();
      w->record.width = info.oriented_width();
      w->record.height = info.oriented_height();
      std::uint64_t need = w->job->working_set();
      // Too large for the budget on its own: the job streams it, alone (a job that cannot
      // stream it was refused when it was opened).
      if (w->job->schedule() == Schedule::streamed) {
        w->streamed = true;
        w->record.strategy = "streamed";
        need = summary.memory_budget;
      }
      if (!governor.admit(need, options.stop))
        throw Error(ErrorCategory::cancelled,
                    fmt::format("{}: not started: the batch was stopped", w->record.input));
      w->admitted = need;
    });
    return w.release();
  };

  auto decode = [&](Work* w) -> Work* {
    guarded(*w, [&] {
      w->begun = Clock::now();
      if (options.timeout.count() > 0) w->job->context().deadline = w->begun + options.timeout;
      if (w->streamed || !cache) return;
      w->cache_key =
          ResultCache::key(w->job->input_digest(), chain_text,
                           canonical_output_settings(save_options(*w->item), file.context.quality));
      if (auto hit = cache->get(w->cache_key)) {
        w->encoded = std::move(*hit);
        w->record.cache_hit = true;
        w->record.strategy = "cache";
        w->job.reset();
      }
    });
    return w;
  };

  auto process = [&](Work* w) -> Work* {
    guarded(*w, [&] {
      if (w->record.cache_hit) return;
      const SaveOptions save = save_options(*w->item);
      if (w->streamed) {
        w->job->run(root / w->item->output, save);
      } else {
        for (auto& e : w->job->encode(save)) w->encoded.push_back({e.variant, std::move(e.bytes)});
      }
      for (const auto& line : w->job->strategies()) w->record.strategy += "; " + line;
      w->record.devices = w->job->devices();
      w->record.analyses = w->job->analyses();
      w->record.warnings = w->job->warnings();
      if (w->streamed) return;
      if (options.timeout.count() > 0 && Clock::now() > w->begun + options.timeout)
        throw Error(ErrorCategory::timeout, fmt::format("{}: over the time limit of {} s", w->record.input,
                                                        options.timeout.count() / 1000.0));
      if (cache) {
        try {
          cache->put(w->cache_key, w->encoded);
        } catch (const Error&) {
          // A full or read-only cache costs speed, never results.
        }
      }
    });
    return w;
  };

  auto write = [&](Work* w) -> Work* {
    guarded(*w, [&] {
      std::vector<std::pair<std::string, std::uint64_t>> journal_outputs;
      if (w->streamed) {
        const fs::path target = root / w->item->output;
        const auto size = fs::file_size(target);
        w->record.outputs.push_back(target.string());
        w->record.output_bytes = size;
        journal_outputs.emplace_back(w->item->output.generic_string(), size);
      }
      for (const auto& out : w->encoded) {
        const fs::path relative = variant_path(w->item->output, out.variant);
        const fs::path target = root / relative;
        {
          std::lock_guard lock(written_mutex);
          if (!written.insert(target).second)
            throw Error(
                ErrorCategory::config,
                fmt::format("{}: another input's output already went to {}; change the output template",
                            w->record.input, target.string()));
        }
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        write_file_atomic(target, out.bytes, file.output.fsync);
        w->record.outputs.push_back(target.string());
        w->record.output_bytes += out.bytes.size();
        journal_outputs.emplace_back(relative.generic_string(), out.bytes.size());
      }
      w->encoded = {};
      try {
        journal.append(w->item->input.relpath.generic_string(), w->stamp, settings, journal_outputs);
      } catch (const Error& e) {
        // The output is whole, but a later --resume will not know: say which input that is.
        throw Error(e.category(), fmt::format("{}: written, but not recorded for --resume (it will be done "
                                              "again): {}",
                                              w->record.input, e.what()));
      }
    });
    w->encoded = {};
    w->job.reset();
    if (w->admitted) governor.release(std::exchange(w->admitted, 0));
    return w;
  };

  auto report = [&](Work* raw) {
    std::unique_ptr<Work> w(raw);
    w->record.ms = std::chrono::duration<double, std::milli>(Clock::now() - w->begun).count();
    switch (w->record.status) {
      case BatchStatus::ok: ++summary.ok; break;
      case BatchStatus::failed: ++summary.failed; break;
      case BatchStatus::skipped: ++summary.skipped; break;
      case BatchStatus::cancelled: ++summary.cancelled; break;
    }
    if (w->record.cache_hit) ++summary.cache_hits;
    if (w->record.status != BatchStatus::skipped) {
      ran_ms += w->record.ms;
      ++ran;
    }
    if (w->record.status == BatchStatus::failed && file.on_error == OnError::stop) halt.request_stop();
    if (on_record) on_record(w->record);
  };

  tbb::task_arena arena(summary.threads);
  arena.execute([&] {
    tbb::parallel_pipeline(static_cast<std::size_t>(summary.jobs),
                           tbb::make_filter<void, Work*>(tbb::filter_mode::serial_in_order, admit) &
                               tbb::make_filter<Work*, Work*>(tbb::filter_mode::parallel, decode) &
                               tbb::make_filter<Work*, Work*>(tbb::filter_mode::parallel, process) &
                               tbb::make_filter<Work*, Work*>(tbb::filter_mode::parallel, write) &
                               tbb::make_filter<Work*, void>(tbb::filter_mode::serial_in_order, report));
  });

  // Inputs never admitted after a stop still get their record: the report names every input.
  for (; next < plan.items.size(); ++next) {
    BatchRecord record;
    record.input = plan.items[next].input.path.string();
    record.input_bytes = plan.items[next].input.bytes;
    record.status = BatchStatus::cancelled;
    record.error_category = ErrorCategory::cancelled;
    record.error = fmt::format("{}: not started: the batch was stopped", record.input);
    ++summary.cancelled;
    if (on_record) on_record(record);
  }
  summary.stopped = stop_requested();
  summary.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  summary.ms_per_image = ran ? ran_ms / static_cast<double>(ran) : 0;
  summary.peak_rss = peak_rss_bytes();
  return summary;
}

}  // namespace imgpipe
