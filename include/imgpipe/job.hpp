#pragma once
/// \file
/// The job runner: one input through one chain to its outputs. Every front end — `imgpipe run`,
/// `batch`, `palette`, `extract-palette`, `vectorize` — hands its input, chain and Context here.
///
/// ```cpp
/// imgpipe::Job job(chain_file, "photo.jpg", context);          // opens and probes once
/// imgpipe::JobResult result = job.run("photo.webp", save_options);
/// ```
///
/// A Job opens its input once for the header, then decides by one policy how the chain runs:
/// in memory (tiled where an image is larger than a tile), or streamed through libvips when
/// asked to (JobOptions::stream) or when the in-memory working set, estimated from the header,
/// is over the memory budget and the chain can stream. The file is opened once (ImageFile): in
/// memory it is decoded through that descriptor (only what the decoder needs is read, and a
/// batch hashes it in blocks through the same descriptor); streamed, libvips decodes it top to
/// bottom from the same descriptor (an analysis step that streams
/// opens it once more, for its shrink-on-load thumbnail). Outputs are written through io's
/// one write path (atomic).

#include <cstdint>
#include <filesystem>
#include <functional>
#include <imgpipe/chain.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/io.hpp>
#include <opencv2/core/types.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace imgpipe {

/// How a job runs its chain: on the whole image in memory, or streamed through libvips.
enum class Schedule { in_memory, streamed };
/// The schedule's name in reports: "in-memory" or "streamed".
std::string_view to_string(Schedule schedule) noexcept;

/// How a Job made from a file may run.
struct JobOptions {
  bool stream = false;  ///< stream whatever the budget; Error(unsupported) when the chain cannot
};

/// One encoded variant of the job's output.
struct EncodedOutput {
  std::string variant;              ///< "" for a chain without variants
  std::vector<std::uint8_t> bytes;  ///< the encoded file
  cv::Size size;                    ///< of the image encoded ({} for a streamed output)
};

/// One file a job wrote.
struct WrittenOutput {
  std::string variant;         ///< the variant's name; "" for a chain without variants
  std::filesystem::path path;  ///< where it was written
  std::uint64_t bytes = 0;     ///< the file's size
  cv::Size size;               ///< of the image encoded; {} for a streamed output
};

/// What Job::run() did.
struct JobResult {
  Schedule schedule = Schedule::in_memory;  ///< how the chain ran
  cv::Size decoded;                         ///< the decoded size (after shrink-on-load); {} when streamed
  std::vector<WrittenOutput> outputs;       ///< every file written, one per variant
  /// The planner's choice for each analysis step ("step 1: palette: scaled 512x341, k 10").
  std::vector<std::string> strategies;
  /// The same steps' plans and choices as numbers (AnalysisReport: complexity, k, ...).
  std::vector<AnalysisReport> analyses;
  /// Each run of steps on a device: which steps, where, and how long the copies took.
  std::vector<DeviceRun> devices;
  /// What the user should be told: metadata over the limits left out when decoding.
  std::vector<std::string> warnings;
};

/// The long side, in pixels, of a draft by default (PreviewOptions::max_side): a screen's
/// preview pane; a JPEG up to 4096 pixels on its long side decodes for it at 1/8 scale.
inline constexpr int kDefaultPreviewSide = 512;

/// A quick draft of a job's outputs (Job::draft()): the same chain at QualityPreset::draft,
/// at most PreviewOptions::max_side on its long side.
struct Draft {
  std::vector<EncodedOutput> outputs;  ///< every variant's draft, encoded with the final's SaveOptions
  std::vector<WrittenOutput> written;  ///< the files written (PreviewOptions::path); empty when none
  /// How many leading steps ran on the input at its full size before the image was shrunk:
  /// 0 when the whole chain ran on the shrunk input (see Job::draft()).
  std::size_t full_size_steps = 0;
  double seconds = 0;  ///< decoding, the chain, encoding and writing the draft
};

/// What Job::draft() makes, and where it goes.
struct PreviewOptions {
  /// The draft's long side at most this many pixels; 0 = kDefaultPreviewSide.
  int max_side = kDefaultPreviewSide;
  /// Where the draft is written, atomically, before the final is computed: the unnamed variant
  /// here, each named one at variant_path(path, name). Empty: not written.
  std::filesystem::path path;
  /// Called with the draft (written already when `path` is set) before the final is computed.
  std::function<void(const Draft&)> on_draft;
};

/// The working set of one input, in bytes, estimated from its header before decoding: the
/// encoded file, the decoded image (after shrink-on-load), each step's input, output and
/// scratch, and every variant's image and encoded bytes. `peak`, when given, is set to the phase
/// that needs the most: "decoding", a step's label ("step 2: border") or "encoding".
std::uint64_t estimate_working_set(const ChainFile& file, const ImageInfo& info, std::string* peak = nullptr);

/// Throws Error(limit) naming `name` and the step when an image the chain makes from this input
/// — after any step, enlargements and borders included — has more pixels than
/// limits.max_input_pixels. Every Job checks this before it decodes.
void check_step_sizes(const ChainFile& file, const ImageInfo& info, const std::string& name,
                      const Limits& limits);

/// One input through one chain to its outputs (see the file's description). The ChainFile
/// must outlive the job.
class Job {
 public:
  /// A file: checked and its header read (one open). Throws Error (io, decode, limit,
  /// unsupported) naming the file; with options.stream, Error(unsupported) when the chain
  /// cannot stream this input. Every constructor refuses, before any pixel is decoded, an input
  /// that would make an image over the pixel limit at any step (check_step_sizes), and one whose
  /// working set is over the memory budget (Context::max_memory) when the chain cannot stream
  /// it: Error(limit) naming the step that needs the most.
  Job(const ChainFile& file, const std::filesystem::path& input, const Context& context,
      JobOptions options = {});
  /// Bytes already in memory (stdin, an upload), named `name` in messages; never streamed.
  Job(const ChainFile& file, std::vector<std::uint8_t> bytes, std::string name, const Context& context);
  /// An image already decoded (an array from Python, a frame from a service): checked against
  /// the pixel limit like a header; never streamed, and has no bytes().
  Job(const ChainFile& file, Image image, const Context& context);

  /// The input's header (for a decoded input, its size, bands and depth).
  const ImageInfo& info() const { return info_; }
  /// How the chain runs, decided when the job was made.
  Schedule schedule() const { return schedule_; }
  /// Why the job streams (`"--stream"`, "about 900 MB in memory is over the budget of 512 MB");
  /// "" in memory.
  const std::string& reason() const { return reason_; }
  /// The input's estimated working set in bytes (estimate_working_set()).
  std::uint64_t working_set() const { return working_set_; }
  /// The context the job runs with (a copy of the one given); a batch sets the deadline when
  /// the job starts.
  Context& context() { return context_; }
  /// The planner's choices of the last run or encode().
  const std::vector<std::string>& strategies() const { return result_.strategies; }
  /// The analysis reports of the last run or encode() (JobResult::analyses).
  const std::vector<AnalysisReport>& analyses() const { return result_.analyses; }
  /// The runs of steps on a device of the last run or encode() (JobResult::devices).
  const std::vector<DeviceRun>& devices() const { return result_.devices; }
  /// Warnings of the decode (JobResult::warnings).
  const std::vector<std::string>& warnings() const { return result_.warnings; }

  /// The input's bytes, read once (in-memory jobs decode from them). Ask before load(),
  /// encode() or run(): decoding releases them.
  std::span<const std::uint8_t> bytes();
  /// content_digest() of the input's bytes (a batch's cache key): a file is hashed in blocks
  /// without being read whole. Not for a decoded input.
  std::string input_digest();

  /// Decodes the input in memory, as the chain would get it (shrink-on-load included), for
  /// front ends that analyse an image rather than run a chain (extract-palette).
  Image load();

  /// In memory: decodes and runs the chain, giving every variant's image.
  std::vector<Variant> variants();
  /// In memory: decodes, runs the chain and encodes every variant with `save`, the variants
  /// in parallel.
  std::vector<EncodedOutput> encode(const SaveOptions& save);

  /// Runs and writes: the unnamed variant to `output`, each named one to variant_path(output,
  /// name), atomically. A streamed job writes one output, file to file.
  JobResult run(const std::filesystem::path& output, const SaveOptions& save);

  /// A progressive preview's draft: the chain at the draft preset on the input shrunk to
  /// preview.max_side, encoded with `save`, written to preview.path when set, then handed to
  /// preview.on_draft. Steps whose result depends on the image's size in pixels — a geometry
  /// step whose output is not in proportion to its input (resize to a width, a crop or border in
  /// pixels) and neighbourhood steps (radii in pixels) — run on the input at its full size
  /// (decoded as the final is, shrink-on-load included), up to the last of them; the image is
  /// shrunk after it and the steps after it run on the small image. So the draft is the final at
  /// a smaller scale, not the chain applied to a thumbnail. Point and whole-image (global) steps
  /// run on the shrunk image. Every variant gets its draft. Ask before load(), encode() or
  /// run() (they release the input). Throws what the chain throws; Error(config) for a
  /// max_side outside 0..65535; Error(unsupported) for a streamed job whose chain has such
  /// steps (the full-size part would not fit the memory budget).
  Draft draft(const SaveOptions& save, const PreviewOptions& preview = {});
  /// run() after draft(): the draft is made, written and handed on before the final is
  /// computed. An error in the draft is the run's error (the same steps run on the same input
  /// for the final) and nothing of the final is written.
  JobResult run(const std::filesystem::path& output, const SaveOptions& save, const PreviewOptions& preview);

 private:
  void choose_schedule(const JobOptions& options);
  std::vector<Variant> run_in_memory(const Context& context);
  // The input decoded for a draft, without releasing it for the final; shrink-on-load to
  // `shrink_to` on the long side when it is above 0.
  Image decode_for_draft(int shrink_to);
  // The job's context for one run, collecting the planner's choices in result_.
  Context run_context();
  const ChainFile& file_;
  Context context_;
  std::optional<ImageFile> input_;  // a file input, opened once
  std::string name_;
  std::vector<std::uint8_t> bytes_;
  std::optional<Image> image_;  // a decoded input, until load() hands it on
  bool bytes_read_ = false;
  bool bytes_released_ = false;
  ImageInfo info_;
  Schedule schedule_ = Schedule::in_memory;
  std::string reason_;
  std::uint64_t working_set_ = 0;
  JobResult result_;
};

/// The one output-format check before any work: the format `save` names must be one the chain
/// can make (svg only from a chain that ends in a step that traces vector graphics).
void check_output_format(const Chain& chain, Format format);

}  // namespace imgpipe
