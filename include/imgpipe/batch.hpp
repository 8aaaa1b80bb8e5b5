#pragma once
// Batch: one chain over many files.
//
//   imgpipe::BatchOptions options;
//   options.output_root = "out";
//   auto inputs = imgpipe::find_inputs({"photos"}, options.walk);
//   auto plan = imgpipe::plan_batch(chain_file, inputs, options);   // refuses bad plans early
//   imgpipe::BatchSummary summary = imgpipe::run_batch(chain_file, plan, options,
//       [](const imgpipe::BatchRecord& r) { /* one record per input, in input order */ });
//
// Inputs are found and sorted, mapped to output paths through a template, filtered to this
// worker's shard, then run through a pipeline (admit → decode → process → encode + write →
// report) that keeps several images in flight while their estimated working sets fit the
// memory budget. Outputs are written atomically; a journal in the output folder lets a
// rerun with `resume` skip finished inputs. docs/cli.md and docs/distributed.md say more.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <imgpipe/chain.hpp>
#include <imgpipe/error.hpp>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe {

// ---- Finding inputs ----------------------------------------------------------------------

struct WalkOptions {
  // Globs matched against the path relative to its root, with '/' separators: '*' and '?'
  // stay within one path component, '**' spans any number of them, [abc] and [!abc] are
  // classes. A pattern without '/' is matched against the file name alone.
  // Empty `include` = every file with an image extension (jpg, jpeg, png, webp, tif, tiff, gif).
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  bool hidden = false;           // enter and take names starting with '.'
  bool follow_symlinks = false;  // when true, directory loops are detected by device + inode
  // Folders never entered (the batch's output folder when it lies inside an input folder).
  std::vector<std::filesystem::path> skip;
};

struct InputFile {
  std::filesystem::path path;     // the file as found: root / relpath, or as given
  std::filesystem::path relpath;  // relative to its root; the file name for a file given directly
  std::uint64_t bytes = 0;        // file size when found
};

// Roots may be files or folders; folders are walked recursively. The result keeps the roots'
// order and sorts each folder's files by relpath (byte order). A file reached twice (two
// roots, or a link to a file already taken) is listed once. Throws Error(io) for a root that
// does not exist or a folder that cannot be read, naming it.
std::vector<InputFile> find_inputs(const std::vector<std::filesystem::path>& roots,
                                   const WalkOptions& options);

// The glob rules of WalkOptions, for a relative path with '/' separators.
bool glob_match(std::string_view pattern, std::string_view path) noexcept;

// ---- Output paths ------------------------------------------------------------------------

// Fields of an output template:
//   {relpath}  the input's relative path without its extension ("2024/beach/img_001")
//   {stem}     the input's file name without its extension ("img_001")
//   {dir}      the input's relative folder ("2024/beach", or "" at the top)
//   {ext}      the output format's extension without the dot ("webp")
//   {variant}  the variant's name ("" for a chain without variants)
//   {index}    the input's position in the sorted list, from 0
// The default, "{relpath}.{ext}", mirrors the input tree. A variant whose name the template
// does not place gets "-<variant>" before the extension, as with `imgpipe run`.
inline constexpr std::string_view kDefaultOutputTemplate = "{relpath}.{ext}";

// Throws Error(config) for an unknown field or an unclosed brace.
void check_output_template(std::string_view output_template);

// The output path relative to the output root, lexically normal. Throws Error(config) when
// the result is empty, absolute or leaves the root ("..").
std::filesystem::path expand_output_template(std::string_view output_template, const InputFile& input,
                                             std::size_t index, std::string_view ext,
                                             std::string_view variant = "");

// ---- Sharding ----------------------------------------------------------------------------

struct Shard {
  int index = 0;
  int count = 1;
  std::string origin;  // "--shard", "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT", ...
};

// The shard of this worker: `flag` ("I/N", from --shard) when given; otherwise from the
// environment — CLOUD_RUN_TASK_INDEX + CLOUD_RUN_TASK_COUNT (Cloud Run Jobs);
// JOB_COMPLETION_INDEX with `count` or IMGPIPE_SHARD_COUNT (Kubernetes Indexed Jobs give no
// count); SLURM_ARRAY_TASK_ID with SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT and
// SLURM_ARRAY_TASK_STEP (IDs need not start at 0; they are mapped to 0..COUNT-1). nullopt when
// nothing says: one worker does everything. Malformed or inconsistent values are
// Error(config) naming their origin. `getenv` is injectable for tests.
std::optional<Shard> resolve_shard(const std::optional<std::string>& flag,
                                   std::optional<int> count = std::nullopt,
                                   const std::function<const char*(const char*)>& getenv = nullptr);

// Stable assignment: a hash of the relative path (with '/' separators) modulo the count, so
// every input belongs to exactly one shard whatever order or machine the shards run on.
bool in_shard(const Shard& shard, const std::filesystem::path& relpath) noexcept;

// ---- Result cache ------------------------------------------------------------------------

// Encoded outputs of one input, by variant name.
struct CachedOutput {
  std::string variant;
  std::vector<std::uint8_t> bytes;
};

// An on-disk cache of finished outputs, keyed by the content hash of the input bytes, the
// canonical chain, the output settings and the library version. Entries are written with
// temporary file + rename, so several processes may share a folder; a damaged entry is a
// miss. When the folder grows over `max_bytes` the least recently used entries go.
class ResultCache {
 public:
  ResultCache(std::filesystem::path dir, std::uint64_t max_bytes);

  // $XDG_CACHE_HOME/imgpipe, else $HOME/.cache/imgpipe.
  static std::filesystem::path default_dir(const std::function<const char*(const char*)>& getenv = nullptr);
  static constexpr std::uint64_t kDefaultMaxBytes = 2ull << 30;

  // A 32-hex-digit key (XXH3-128) of everything that determines the outputs.
  // `input_digest` is content_digest() of the input file's bytes (Job::input_digest()).
  static std::string key(std::string_view input_digest, std::string_view chain_canonical,
                         std::string_view output_settings);

  std::optional<std::vector<CachedOutput>> get(const std::string& key) const;
  void put(const std::string& key, const std::vector<CachedOutput>& outputs);

  const std::filesystem::path& dir() const { return dir_; }
  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  void evict_if_needed();
  std::filesystem::path dir_;
  std::uint64_t max_bytes_;
};

// A stable text form of the output settings, for cache keys.
std::string canonical_output_settings(const SaveOptions& options, QualityPreset preset);

// ---- Running -----------------------------------------------------------------------------

struct BatchOptions {
  WalkOptions walk;
  std::filesystem::path output_root;
  std::string output_template;  // empty = the chain file's output.path, else kDefaultOutputTemplate
  std::optional<Shard> shard;
  int jobs = 0;     // images in flight; 0 = the chain file's parallel_images, else automatic
  int threads = 0;  // worker threads in all; 0 = the chain file's, else all cores
  bool resume = false;
  std::chrono::milliseconds timeout{0};            // per image; 0 = none
  std::optional<std::filesystem::path> cache_dir;  // nullopt = no on-disk cache
  std::uint64_t cache_max_bytes = ResultCache::kDefaultMaxBytes;
  // Stop admitting new inputs when requested (in-flight inputs finish).
  std::stop_token stop;
  // Abandon in-flight inputs at their next step when requested (nothing partial is written).
  std::stop_token abort;
};

// One input of the plan.
struct BatchItem {
  InputFile input;
  std::size_t index = 0;  // position among all inputs, before sharding
  Format format = Format::png;
  std::filesystem::path output;  // relative to the output root; variants derive from it
};

struct BatchPlan {
  std::vector<BatchItem> items;  // this shard's inputs, in input order
  std::size_t total_inputs = 0;  // before sharding
  std::string output_template;
};

// Maps every input to its output and keeps this shard's. Refuses, before any work: a template
// that leaves the output root, two inputs mapping to one output, an output that is an input,
// and an output root that cannot be created or written (Error(config) or Error(io)).
BatchPlan plan_batch(const ChainFile& file, const std::vector<InputFile>& inputs,
                     const BatchOptions& options);

enum class BatchStatus { ok, failed, skipped, cancelled };
std::string_view to_string(BatchStatus status) noexcept;

struct BatchRecord {
  std::string input;  // path as found
  BatchStatus status = BatchStatus::ok;
  std::vector<std::string> outputs;  // paths written (or already present, when skipped)
  int width = 0, height = 0;         // of the input, upright
  std::uint64_t input_bytes = 0, output_bytes = 0;
  double ms = 0;  // wall time for this input
  // How it ran: "in-memory", "streamed", "cache" or "resume"; an in-memory run adds the
  // planner's choice for each analysis step ("in-memory; step 1: palette: scaled 512x341, k 10").
  std::string strategy;
  bool cache_hit = false;
  std::vector<std::string> warnings;  // Job::warnings(): metadata over the limits left out
  std::optional<ErrorCategory> error_category;
  std::string error;  // the message, naming the file
};

struct BatchSummary {
  std::size_t inputs = 0;  // in this shard's plan
  std::size_t ok = 0, failed = 0, skipped = 0, cancelled = 0, cache_hits = 0;
  double wall_ms = 0;
  double ms_per_image = 0;  // mean wall time of the inputs that ran
  std::uint64_t peak_rss = 0;
  std::uint64_t memory_budget = 0;
  int jobs = 0, threads = 0;
  bool stopped = false;  // stop or abort was requested, or on_error: stop ended the run early
};

// Runs the plan. `on_record` is called once per input, in input order, from one thread at a
// time. Errors of single inputs are records, not exceptions (on_error: stop ends the run
// after the first one); what makes the whole batch impossible throws.
BatchSummary run_batch(const ChainFile& file, const BatchPlan& plan, const BatchOptions& options,
                       const std::function<void(const BatchRecord&)>& on_record = nullptr);

// JSON Lines for the report: one object per record, and the summary (its "type" is "summary").
std::string to_json_line(const BatchRecord& record);
std::string to_json_line(const BatchSummary& summary);

}  // namespace imgpipe
