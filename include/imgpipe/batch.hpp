#pragma once
/// \file
/// Batch: one chain over many files.
///
/// ```cpp
/// imgpipe::BatchOptions options;
/// options.output_root = "out";
/// auto inputs = imgpipe::find_inputs({"photos"}, options.walk);
/// auto plan = imgpipe::plan_batch(chain_file, inputs, options);   // refuses bad plans early
/// imgpipe::BatchSummary summary = imgpipe::run_batch(chain_file, plan, options,
///     [](const imgpipe::BatchRecord& r) { /* one record per input, in input order */ });
/// ```
///
/// Inputs are found and sorted, mapped to output paths through a template, filtered to this
/// worker's shard, then run through a pipeline (admit → decode → process → encode + write →
/// report) that keeps several images in flight while their estimated working sets fit the
/// memory budget. Outputs are written atomically; a journal in the output folder lets a
/// rerun with `resume` skip finished inputs. docs/cli.md and docs/distributed.md say more.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <imgpipe/chain.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe {

// ---- Finding inputs ----------------------------------------------------------------------

/// Which files find_inputs() takes from the folders it walks.
struct WalkOptions {
  /// Globs matched against the path relative to its root, with '/' separators: `*` and `?`
  /// stay within one path component, `**` spans any number of them, `[abc]` and `[!abc]` are
  /// classes. A pattern without '/' is matched against the file name alone. A file is taken
  /// when it matches an `include` pattern and no `exclude` pattern.
  /// Empty `include` = every file with an image extension (jpg, jpeg, png, webp, tif, tiff, gif).
  ///@{
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  ///@}
  bool hidden = false;           ///< enter and take names starting with '.'
  bool follow_symlinks = false;  ///< when true, directory loops are detected by device + inode
  /// Folders never entered (the batch's output folder when it lies inside an input folder).
  std::vector<std::filesystem::path> skip;
};

/// One input file find_inputs() found.
struct InputFile {
  std::filesystem::path path;     ///< the file as found: root / relpath, or as given
  std::filesystem::path relpath;  ///< relative to its root; the file name for a file given directly
  std::uint64_t bytes = 0;        ///< file size when found
};

/// Roots may be files or folders; folders are walked recursively. The result keeps the roots'
/// order and sorts each folder's files by relpath (byte order). A file reached twice (two
/// roots, or a link to a file already taken) is listed once. Throws Error(io) for a root that
/// does not exist or a folder that cannot be read, naming it.
std::vector<InputFile> find_inputs(const std::vector<std::filesystem::path>& roots,
                                   const WalkOptions& options);

/// The glob rules of WalkOptions, for a relative path with '/' separators.
bool glob_match(std::string_view pattern, std::string_view path) noexcept;

// ---- Output paths ------------------------------------------------------------------------

/// Fields of an output template:
/// - `{relpath}`  the input's relative path without its extension ("2024/beach/img_001")
/// - `{stem}`     the input's file name without its extension ("img_001")
/// - `{dir}`      the input's relative folder ("2024/beach", or "" at the top)
/// - `{ext}`      the output format's extension without the dot ("webp")
/// - `{variant}`  the variant's name ("" for a chain without variants)
/// - `{index}`    the input's position in the sorted list, from 0
///
/// The default, "{relpath}.{ext}", mirrors the input tree. A variant whose name the template
/// does not place gets `"-<variant>"` before the extension, as with `imgpipe run`.
inline constexpr std::string_view kDefaultOutputTemplate = "{relpath}.{ext}";

/// Throws Error(config) for an unknown field or an unclosed brace.
void check_output_template(std::string_view output_template);

/// The output path relative to the output root, lexically normal. Throws Error(config) when
/// the result is empty, absolute or leaves the root ("..").
std::filesystem::path expand_output_template(std::string_view output_template, const InputFile& input,
                                             std::size_t index, std::string_view ext,
                                             std::string_view variant = "");

// ---- Sharding ----------------------------------------------------------------------------

/// One worker's share of a batch: the inputs whose relative path hashes to `index`.
struct Shard {
  int index = 0;       ///< this worker's shard, 0..count-1
  int count = 1;       ///< how many shards the batch is split into
  std::string origin;  ///< "--shard", "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT", ...
};

/// The shard of this worker: `flag` ("I/N", from `--shard`) when given; otherwise from the
/// environment — CLOUD_RUN_TASK_INDEX + CLOUD_RUN_TASK_COUNT (Cloud Run Jobs);
/// JOB_COMPLETION_INDEX with `count` or IMGPIPE_SHARD_COUNT (Kubernetes Indexed Jobs give no
/// count); SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT and
/// SLURM_ARRAY_TASK_STEP (IDs need not start at 0; they are mapped to 0..COUNT-1). nullopt when
/// nothing says: one worker does everything. Malformed or inconsistent values are
/// Error(config) naming their origin. `getenv` is injectable for tests.
std::optional<Shard> resolve_shard(const std::optional<std::string>& flag,
                                   std::optional<int> count = std::nullopt,
                                   const std::function<const char*(const char*)>& getenv = nullptr);

/// Stable assignment: a hash of the relative path (with '/' separators) modulo the count, so
/// every input belongs to exactly one shard whatever order or machine the shards run on.
bool in_shard(const Shard& shard, const std::filesystem::path& relpath) noexcept;

// ---- Result cache ------------------------------------------------------------------------

/// Encoded outputs of one input, by variant name.
struct CachedOutput {
  std::string variant;              ///< the variant's name; "" for a chain without variants
  std::vector<std::uint8_t> bytes;  ///< the encoded file
};

/// An on-disk cache of finished outputs, keyed by the content hash of the input bytes, the
/// canonical chain, the output settings and the library version. Entries are written with
/// temporary file + rename, so several processes may share a folder; a damaged entry is a
/// miss. When the folder grows over `max_bytes` the least recently used entries go.
class ResultCache {
 public:
  /// A cache in the folder `dir` (made on the first put()), kept under `max_bytes`. Throws
  /// Error(config) when `dir` is empty.
  ResultCache(std::filesystem::path dir, std::uint64_t max_bytes);

  /// $XDG_CACHE_HOME/imgpipe when it is absolute, else $HOME/.cache/imgpipe when HOME is an
  /// existing folder; otherwise Error(config). The CLI uses no cache unless given a folder.
  static std::filesystem::path default_dir(const std::function<const char*(const char*)>& getenv = nullptr);
  /// The size limit when none is given: 2 GiB.
  static constexpr std::uint64_t kDefaultMaxBytes = 2ull << 30;

  /// A 32-hex-digit key (XXH3-128) of everything that determines the outputs.
  /// `input_digest` is content_digest() of the input file's bytes (Job::input_digest()).
  static std::string key(std::string_view input_digest, std::string_view chain_canonical,
                         std::string_view output_settings);

  /// The outputs stored under `key`, which becomes the most recently used entry; nullopt on a
  /// miss (a damaged entry is removed and is a miss).
  std::optional<std::vector<CachedOutput>> get(const std::string& key) const;
  /// Stores `outputs` under `key`, replacing any entry there, then evicts the least recently
  /// used entries while the folder is over max_bytes(). Throws Error(io) when it cannot write.
  void put(const std::string& key, const std::vector<CachedOutput>& outputs);

  /// The cache's folder.
  const std::filesystem::path& dir() const { return dir_; }
  /// The size the folder is kept under, in bytes.
  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  void evict_if_needed();
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
};

/// A stable text form of the output settings, for cache keys.
std::string canonical_output_settings(const SaveOptions& options, QualityPreset preset);

// ---- Memory governor ---------------------------------------------------------------------

/// Admission by memory: work enters while the sum of the admitted working sets (each estimated
/// from its header, estimate_working_set()) fits the budget, or when nothing else is admitted,
/// so that one large image can always run alone. A batch waits for room; a service waits a
/// little, then refuses (HTTP 503). Thread-safe.
class MemoryGovernor {
 public:
  /// A governor of `budget` bytes; 0 = no budget (everything is admitted at once).
  explicit MemoryGovernor(std::uint64_t budget) : budget_(budget) {}
  MemoryGovernor(const MemoryGovernor&) = delete;
  MemoryGovernor& operator=(const MemoryGovernor&) = delete;

  /// Waits until `bytes` fit, then holds them. False when `stop` was requested while waiting.
  bool admit(std::uint64_t bytes, const std::stop_token& stop);
  /// Waits at most `wait` for `bytes` to fit, then holds them; false when they did not fit in
  /// time (nothing held).
  bool try_admit(std::uint64_t bytes, std::chrono::milliseconds wait);
  /// Gives back what one admit() or try_admit() held.
  void release(std::uint64_t bytes);

  /// The budget in bytes (0 = none).
  std::uint64_t budget() const { return budget_; }
  /// The bytes held now, and by how many admissions.
  ///@{
  std::uint64_t used() const;
  int in_flight() const;
  ///@}

 private:
  bool fits(std::uint64_t bytes) const { return in_flight_ == 0 || budget_ == 0 || used_ + bytes <= budget_; }
  std::uint64_t budget_;
  std::uint64_t used_ = 0;
  int in_flight_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable released_;
};

// ---- Running -----------------------------------------------------------------------------

/// How a batch runs: where its inputs come from and its outputs go, its share of the work,
/// its parallelism, and how it may stop.
struct BatchOptions {
  WalkOptions walk;                   ///< which files of the input folders are taken
  std::filesystem::path output_root;  ///< the folder the outputs go under
  std::string output_template;        ///< empty = the chain file's output.path, else kDefaultOutputTemplate
  std::optional<Shard> shard;         ///< this worker's shard; nullopt = every input
  int jobs = 0;     ///< images in flight; 0 = the chain file's parallel_images, else automatic
  int threads = 0;  ///< worker threads in all; 0 = the chain file's, else all cores
  /// Skip inputs that the journal in the output folder records as finished with the same
  /// settings, and whose outputs are all still there.
  bool resume = false;
  std::chrono::milliseconds timeout{0};                           ///< per image; 0 = none
  std::optional<std::filesystem::path> cache_dir;                 ///< nullopt = no on-disk cache
  std::uint64_t cache_max_bytes = ResultCache::kDefaultMaxBytes;  ///< the on-disk cache's size limit
  /// Stop admitting new inputs when requested (in-flight inputs finish).
  std::stop_token stop;
  /// Abandon in-flight inputs at their next step when requested (nothing partial is written).
  std::stop_token abort;
};

/// One input of the plan.
struct BatchItem {
  InputFile input;               ///< the input file
  std::size_t index = 0;         ///< position among all inputs, before sharding
  Format format = Format::png;   ///< the output format
  std::filesystem::path output;  ///< relative to the output root; variants derive from it
};

/// What plan_batch() decided: this shard's inputs and their outputs.
struct BatchPlan {
  std::vector<BatchItem> items;  ///< this shard's inputs, in input order
  std::size_t total_inputs = 0;  ///< before sharding
  std::string output_template;   ///< the template the outputs were named by
};

/// Maps every input to its output and keeps this shard's. Refuses, before any work: a template
/// that leaves the output root, two inputs mapping to one output, an output that is an input,
/// and an output root that cannot be created or written (Error(config) or Error(io)).
BatchPlan plan_batch(const ChainFile& file, const std::vector<InputFile>& inputs,
                     const BatchOptions& options);

/// How one input of a batch ended: `ok` (its outputs written, from the cache too), `failed`,
/// `skipped` (finished by an earlier run, with `resume`) or `cancelled` (stopped or never
/// started).
enum class BatchStatus { ok, failed, skipped, cancelled };
/// The status's name in reports: "ok", "failed", "skipped", "cancelled".
std::string_view to_string(BatchStatus status) noexcept;

/// What happened to one input: one line of the report.
struct BatchRecord {
  std::string input;                     ///< path as found
  BatchStatus status = BatchStatus::ok;  ///< how it ended
  std::vector<std::string> outputs;      ///< paths written (or already present, when skipped)
  /// Of the input, upright.
  ///@{
  int width = 0, height = 0;
  ///@}
  /// The input file's size and the outputs' sizes together, in bytes.
  ///@{
  std::uint64_t input_bytes = 0, output_bytes = 0;
  ///@}
  double ms = 0;  ///< wall time for this input
  /// How it ran: "in-memory", "streamed", "cache" or "resume"; an in-memory run adds the
  /// planner's choice for each analysis step ("in-memory; step 1: palette: scaled 512x341, k 10").
  std::string strategy;
  /// The runs of steps on a device (Job::devices()); in the report as "devices": [{"steps": "2-4",
  /// "device": "cuda", "name": …, "upload_ms": …, "run_ms": …, "download_ms": …}], left out when none.
  std::vector<DeviceRun> devices;
  /// What each analysis step planned and chose (Job::analyses()); in the report as
  /// "analyses": [{"step": 2, "operation": "palette", "strategy": "pyramid", "analysed": [w, h],
  /// "complexity": 0.42, "k": 8, "k_max": 9, "stride": 3}], every value a JSON number.
  std::vector<AnalysisReport> analyses;
  bool cache_hit = false;                       ///< whether the outputs came from the result cache
  std::vector<std::string> warnings;            ///< Job::warnings(): metadata over the limits left out
  std::optional<ErrorCategory> error_category;  ///< set when it failed or was cancelled
  std::string error;                            ///< the message, naming the file
};

/// What a whole batch did: the last line of the report.
struct BatchSummary {
  std::size_t inputs = 0;  ///< in this shard's plan
  /// Inputs by status (BatchStatus), and how many of them came from the result cache.
  ///@{
  std::size_t ok = 0, failed = 0, skipped = 0, cancelled = 0, cache_hits = 0;
  ///@}
  double wall_ms = 0;               ///< wall time of the whole run
  double ms_per_image = 0;          ///< mean wall time of the inputs that ran
  std::uint64_t peak_rss = 0;       ///< the process's peak resident bytes at the end
  std::uint64_t memory_budget = 0;  ///< the chain file's max_memory; 0 = none
  /// Images in flight and worker threads, as the batch ran.
  ///@{
  int jobs = 0, threads = 0;
  ///@}
  bool stopped = false;  ///< stop or abort was requested, or on_error: stop ended the run early
};

/// Runs the plan. `on_record` is called once per input, in input order, from one thread at a
/// time. Errors of single inputs are records, not exceptions (on_error: stop ends the run
/// after the first one); what makes the whole batch impossible throws.
BatchSummary run_batch(const ChainFile& file, const BatchPlan& plan, const BatchOptions& options,
                       const std::function<void(const BatchRecord&)>& on_record = nullptr);

/// JSON Lines for the report: one object per record, and the summary (its "type" is "summary").
///@{
std::string to_json_line(const BatchRecord& record);
std::string to_json_line(const BatchSummary& summary);
///@}

}  // namespace imgpipe
