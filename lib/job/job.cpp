#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/error.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/stream.hpp>

#include "../io/jpeg_decode.hpp"
#include "step_size.hpp"

namespace imgpipe {

namespace fs = std::filesystem;

std::string_view to_string(Schedule schedule) noexcept {
  return schedule == Schedule::streamed ? "streamed" : "in-memory";
}

namespace {

// Scratch a step needs beyond its input and output, in multiples of its input's bytes: what
// the operation declares, else the usual for its footprint. The defaults are measured peaks
// (3000×2000 RGB, --profile) with a margin: neighbourhood filters keep strips of float rows
// (blur and sharpen ≈ 0.8×), global analyses labels, tables and masks (palette ≈ 0.3×, dither,
// edges and pop_art ≤ 1×).
double scratch_factor(const Step& step) {
  if (const double declared = step.operation->scratch_factor(); declared >= 0) return declared;
  switch (step.descriptor->footprint) {
    case Footprint::point: return 0.0;
    case Footprint::neighbourhood: return 1.5;
    case Footprint::geometry: return 0.5;
    case Footprint::global: return 2.0;
  }
  return 2.0;
}

// JPEG decodes at any M/8 scale and WebP at any scale when the chain allows it (shrink-on-load,
// io/jpeg_decode.hpp). A CMYK JPEG, which libvips decodes at 1/2, 1/4 or 1/8 only, may come
// out larger than this says.
cv::Size decoded_size(const ChainFile& file, const ImageInfo& info) {
  const cv::Size upright(info.oriented_width(), info.oriented_height());
  if (info.format != "jpeg" && info.format != "webp") return upright;
  const cv::Size least = file.chain.min_decode_size(upright, file.context.quality);
  if (least.width <= 0 || least.height <= 0) return upright;
  if (info.format == "webp") {
    const double scale = std::min(1.0, std::max(static_cast<double>(least.width) / upright.width,
                                                static_cast<double>(least.height) / upright.height));
    return {static_cast<int>(std::ceil(upright.width * scale)),
            static_cast<int>(std::ceil(upright.height * scale))};
  }
  return detail::jpeg_scaled_size(upright, detail::jpeg_scale_for(upright, least));
}

}  // namespace

cv::Size detail::step_output_size(const Step& step, cv::Size in, QualityPreset quality) {
  if (auto declared = step.operation->output_size(in)) return *declared;
  if (const RegionMapping mapping = step.operation->region_map(in, quality); mapping.map)
    return mapping.map->output_size();
  return in;
}

void check_step_sizes(const ChainFile& file, const ImageInfo& info, const std::string& name,
                      const Limits& limits) {
  if (!limits.max_input_pixels) return;
  cv::Size size = decoded_size(file, info);
  for (const Step& step : file.chain.steps()) {
    size = detail::step_output_size(step, size, file.context.quality);
    const auto pixels = static_cast<std::uint64_t>(size.width) * static_cast<std::uint64_t>(size.height);
    if (size.width < 0 || size.height < 0 || pixels > limits.max_input_pixels)
      throw Error(ErrorCategory::limit,
                  fmt::format("{}: {} makes an image of {}x{} ({} pixels), over the limit of {} pixels "
                              "(max_pixels)",
                              name, step.label, size.width, size.height, pixels, limits.max_input_pixels));
  }
}

std::uint64_t estimate_working_set(const ChainFile& file, const ImageInfo& info, std::string* peak_phase) {
  const double sample = info.bit_depth > 8 ? 2.0 : 1.0;
  const double channels = std::min(info.bands, 4);
  auto bytes_of = [&](cv::Size s) { return static_cast<double>(s.width) * s.height * channels * sample; };

  // The largest of the phases: decoding (the file's bytes and the image), each step (its input,
  // output and scratch, for every variant alive), and encoding (every variant's image, one
  // encoder's working copies — libwebp converts to YUV and keeps candidates — and the bytes).
  cv::Size size = decoded_size(file, info);
  double variants = 1;
  double peak = 0;
  auto phase = [&](double bytes, const std::string& name) {
    if (bytes <= peak) return;
    peak = bytes;
    if (peak_phase) *peak_phase = name;
  };
  phase(static_cast<double>(info.file_bytes) + bytes_of(size), "decoding");
  for (const Step& step : file.chain.steps()) {
    const double in = bytes_of(size) * variants;
    size = detail::step_output_size(step, size, file.context.quality);
    variants *= static_cast<double>(step.operation->variant_count());
    const double out = bytes_of(size) * variants;
    phase(in + out + bytes_of(size) * scratch_factor(step), step.label);
  }
  phase(bytes_of(size) * (variants + 2.0), "encoding");
  return static_cast<std::uint64_t>(peak);
}

void check_output_format(const Chain& chain, Format format) {
  if (format != Format::svg) return;
  if (chain.empty() || !chain.steps().back().operation->makes_vector_graphics())
    throw Error(ErrorCategory::config,
                "svg output: the chain must end with a step that traces vector graphics (vectorize); "
                "steps after it make pixels again");
}

namespace {

std::string megabytes(std::uint64_t bytes) {
  return fmt::format("{:.0f} MB", static_cast<double>(bytes) / 1e6);
}

}  // namespace

Job::Job(const ChainFile& file, const fs::path& input, const Context& context, JobOptions options)
    : file_(file), context_(context), input_(std::in_place, input, context.limits), name_(input.string()) {
  // The pixel limit applies to streamed inputs too.
  info_ = input_->probe(context_.limits);
  choose_schedule(options);
}

Job::Job(const ChainFile& file, std::vector<std::uint8_t> bytes, std::string name, const Context& context)
    : file_(file), context_(context), name_(std::move(name)), bytes_(std::move(bytes)), bytes_read_(true) {
  info_ = probe_buffer(bytes_, name_, context_.limits);
  choose_schedule({});
}

Job::Job(const ChainFile& file, Image image, const Context& context)
    : file_(file), context_(context), name_(image.source.empty() ? "<image>" : image.source) {
  if (image.empty()) throw Error(ErrorCategory::config, fmt::format("{}: the image has no pixels", name_));
  info_.source = name_;
  // No format: the image is decoded already, so no shrink-on-load applies to it.
  info_.format.clear();
  info_.width = image.width();
  info_.height = image.height();
  info_.bands = image.channels();
  info_.bit_depth = image.bit_depth();
  info_.has_alpha = image.has_alpha();
  info_.orientation = image.orientation;
  const auto pixels = static_cast<std::uint64_t>(info_.width) * static_cast<std::uint64_t>(info_.height);
  if (context_.limits.max_input_pixels && pixels > context_.limits.max_input_pixels)
    throw Error(ErrorCategory::limit,
                fmt::format("{}: {}x{} is {} pixels, over the limit of {}", name_, info_.width, info_.height,
                            pixels, context_.limits.max_input_pixels));
  image_ = std::move(image);
  bytes_read_ = true;
  choose_schedule({});
}

void Job::choose_schedule(const JobOptions& options) {
  // Every image the chain makes is held to the pixel limit, before any pixel is decoded.
  check_step_sizes(file_, info_, name_, context_.limits);
  std::string peak;
  working_set_ = estimate_working_set(file_, info_, &peak);
  const std::uint64_t budget = context_.max_memory;
  if (!options.stream && (budget == 0 || working_set_ <= budget)) return;
  std::string why;
  const bool streams = input_ && can_stream(file_.chain, info_, context_.quality, &why);
  if (options.stream) {
    if (!input_) throw Error(ErrorCategory::config, fmt::format("{}: only files stream", name_));
    if (!streams) throw Error(ErrorCategory::unsupported, "--stream: " + why);
    schedule_ = Schedule::streamed;
    reason_ = "--stream";
    return;
  }
  if (streams) {
    schedule_ = Schedule::streamed;
    reason_ = fmt::format("about {} in memory is over the budget of {}", megabytes(working_set_),
                          megabytes(budget));
    return;
  }
  throw Error(ErrorCategory::limit,
              fmt::format("{}: needs about {} in memory ({}), over the memory budget of {} (max_memory), "
                          "and the chain cannot stream it ({})",
                          name_, megabytes(working_set_), peak, megabytes(budget),
                          input_ ? why : "only files stream"));
}

std::span<const std::uint8_t> Job::bytes() {
  if (image_) throw Error(ErrorCategory::internal, fmt::format("{}: a decoded input has no bytes", name_));
  if (bytes_released_)
    throw Error(ErrorCategory::internal,
                fmt::format("{}: the input's bytes were asked for after decoding", name_));
  if (!bytes_read_) {
    bytes_ = input_->read();
    bytes_read_ = true;
  }
  return bytes_;
}

std::string Job::input_digest() {
  if (input_ && !bytes_read_) return input_->digest();
  return content_digest(bytes());
}

Image Job::load() {
  if (image_) {
    Image image = std::move(*image_);
    image_.reset();
    bytes_released_ = true;
    result_.decoded = image.pixels.size();
    return image;
  }
  MaybeScope scope(context_.monitor, "decode");
  LoadOptions options = file_.load_options();
  options.warnings = &result_.warnings;
  // A file is decoded through its descriptor: only what the decoder reads is read. Bytes
  // already in memory (stdin, or asked for with bytes()) are decoded from there.
  Image image = input_ && !bytes_read_ ? input_->load(options, context_.limits)
                                       : load_buffer(bytes(), name_, options, context_.limits);
  // Decoded, the file's bytes would only add to the working set while the chain runs.
  std::vector<std::uint8_t>().swap(bytes_);
  bytes_released_ = true;
  result_.decoded = image.pixels.size();
  return image;
}

Context Job::run_context() {
  Context context = context_;
  result_.strategies.clear();
  context.strategies = &result_.strategies;
  result_.analyses.clear();
  context.analyses = &result_.analyses;
  result_.devices.clear();
  context.device_runs = &result_.devices;
  return context;
}

std::vector<EncodedOutput> Job::encode(const SaveOptions& save) {
  check_output_format(file_.chain, save.format);
  Context context = run_context();
  // A palette PNG is written from indices: the last step need not make pixels too.
  context.indexed_output = save.format == Format::png && save.allow_indexed && !save.keep_metadata;
  std::vector<Variant> variants = run_in_memory(context);
  MaybeScope scope(context_.monitor, "encode");
  std::vector<EncodedOutput> out(variants.size());
  // Variants encode in parallel (each encoder is mostly single-threaded); the context's
  // arena bounds the threads as it does for the chain.
  auto encode_all = [&] {
    tbb::parallel_for(std::size_t{0}, variants.size(), [&](std::size_t i) {
      const Image& image = variants[i].image;
      const cv::Size size =
          image.empty() && image.indexed ? image.indexed->indices.size() : image.pixels.size();
      try {
        out[i] = {variants[i].name, imgpipe::encode(image, save, context_.quality), size};
      } catch (const Error& e) {  // say which image could not be written
        const std::string& variant = variants[i].name;
        throw Error(e.category(),
                    fmt::format("{}{}: {}", name_, variant.empty() ? "" : " (" + variant + ")", e.what()));
      }
      variants[i].image = {};
    });
  };
  if (context_.threads > 0)
    tbb::task_arena(context_.threads).execute(encode_all);
  else
    encode_all();
  return out;
}

std::vector<Variant> Job::variants() {
  return run_in_memory(run_context());
}

std::vector<Variant> Job::run_in_memory(const Context& context) {
  if (schedule_ == Schedule::streamed)
    throw Error(ErrorCategory::internal,
                fmt::format("{}: a streamed job writes its file; it has no images", name_));
  return file_.chain.run_variants(load(), context);
}

JobResult Job::run(const fs::path& output, const SaveOptions& save) {
  check_output_format(file_.chain, save.format);
  result_.schedule = schedule_;
  result_.outputs.clear();
  if (schedule_ == Schedule::streamed) {
    ChainFile streamed = file_;
    streamed.output = save;
    stream_file(streamed, *input_, output, run_context());
    result_.outputs.push_back({"", output, fs::file_size(output), {}});
    return result_;
  }
  std::vector<EncodedOutput> encoded = encode(save);
  for (const EncodedOutput& e : encoded) {
    const fs::path target = variant_path(output, e.variant);
    write_file_atomic(target, e.bytes, save.fsync);
    result_.outputs.push_back({e.variant, target, e.bytes.size(), e.size});
  }
  return result_;
}

}  // namespace imgpipe
