// Progressive preview (Job::draft): the chain at the draft preset on a shrunk input, with the
// steps that depend on the image's size in pixels run at full size first so that the draft is
// the final at a smaller scale.

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <imgpipe/error.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/monitor.hpp>

#include "../io/vips_io.hpp"
#include "step_size.hpp"

namespace imgpipe {

namespace fs = std::filesystem;

namespace {

cv::Size fit_within(cv::Size size, int max_side) {
  const int long_side = std::max(size.width, size.height);
  if (long_side <= max_side) return size;
  const double f = static_cast<double>(max_side) / long_side;
  return {std::max(1, static_cast<int>(std::lround(size.width * f))),
          std::max(1, static_cast<int>(std::lround(size.height * f)))};
}

// Whether running the step on a shrunk image gives its full-size result shrunk: point steps
// and whole-image analyses (the planner analyses reduced copies of large images anyway) do;
// neighbourhood steps do not (their radii are in pixels); a geometry step does when its output
// is in proportion to its input (a mirror, a rotation, a resize by a factor), tried at half
// the size — not a resize to a width, a crop or a border in pixels.
bool scale_free(const Step& step, cv::Size in, QualityPreset quality) {
  switch (step.descriptor->footprint) {
    case Footprint::point:
    case Footprint::global: return true;
    case Footprint::neighbourhood: return false;
    case Footprint::geometry: break;
  }
  const cv::Size half(std::max(1, in.width / 2), std::max(1, in.height / 2));
  const cv::Size full_out = detail::step_output_size(step, in, quality);
  const cv::Size half_out = detail::step_output_size(step, half, quality);
  // Rounding: a side may differ by one pixel at either size.
  return std::abs(half_out.width * 2 - full_out.width) <= 3 &&
         std::abs(half_out.height * 2 - full_out.height) <= 3;
}

// How many leading steps must run at full size: up to the last that is not scale-free.
std::size_t full_size_steps(const Chain& chain, cv::Size input, QualityPreset quality) {
  std::size_t count = 0;
  cv::Size size = input;
  const auto& steps = chain.steps();
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!scale_free(steps[i], size, quality)) count = i + 1;
    size = detail::step_output_size(steps[i], size, quality);
  }
  return count;
}

Chain steps_of(const Chain& chain, std::size_t first, std::size_t last) {
  Chain part(chain.access());
  for (std::size_t i = first; i < last; ++i) {
    const Step& step = chain.steps()[i];
    part.then(*step.descriptor, step.params, step.device);
  }
  return part;
}

// The preview's own shrink: area averaging whatever the preset (the draft preset's nearest
// neighbour would alias a tenfold reduction).
Image shrink_to(const Image& image, int max_side, const Context& context) {
  if (std::max(image.width(), image.height()) <= max_side) return image;
  return Chain().then("resize", {{"max_side", max_side}, {"kernel", "area"}}).run(image, context);
}

std::string joined(const std::string& first, const std::string& second) {
  if (first.empty()) return second;
  return second.empty() ? first : first + "-" + second;
}

}  // namespace

Image Job::decode_for_draft(int shrink_to_side) {
  if (image_) return *image_;
  if (bytes_released_)
    throw Error(ErrorCategory::internal, fmt::format("{}: a draft was asked for after decoding", name_));
  const cv::Size upright(info_.oriented_width(), info_.oriented_height());
  if (schedule_ == Schedule::streamed && shrink_to_side > 0) {
    // A streamed input is never decoded whole: libvips's thumbnail reads it once, top to bottom
    // (a PNG or TIFF cannot shrink on load), in the layout load() gives.
    const int channels = info_.interpretation == "cmyk" ? info_.bands - 1 : info_.bands;
    const int depth = info_.bit_depth == 16 ? CV_16U : CV_8U;
    Image image(
        detail::thumbnail(input_->path(), fit_within(upright, shrink_to_side), CV_MAKETYPE(depth, channels)));
    image.source = name_;
    return image;
  }
  LoadOptions options = file_.load_options();
  options.warnings = nullptr;  // the final's decode reports them
  if (shrink_to_side > 0)
    options.min_size = [shrink_to_side](cv::Size size) { return fit_within(size, shrink_to_side); };
  return input_ && !bytes_read_ ? input_->load(options, context_.limits)
                                : load_buffer(bytes_, name_, options, context_.limits);
}

Draft Job::draft(const SaveOptions& save, const PreviewOptions& preview) {
  const auto begun = std::chrono::steady_clock::now();
  if (preview.max_side < 0 || preview.max_side > 65535)
    throw Error(ErrorCategory::config, fmt::format("preview max_side: expected 1..65535 (0 = {}), got {}",
                                                   kDefaultPreviewSide, preview.max_side));
  const int max_side = preview.max_side == 0 ? kDefaultPreviewSide : preview.max_side;
  check_output_format(file_.chain, save.format);
  MaybeScope scope(context_.monitor, "preview");
  Context context = context_;
  context.quality = QualityPreset::draft;
  // The draft's steps are not the run's: they stay out of its profile and reports.
  context.monitor = nullptr;
  context.strategies = nullptr;
  context.analyses = nullptr;
  context.device_runs = nullptr;
  context.indexed_output = false;  // the draft may be shrunk after its last step

  Draft draft;
  const cv::Size upright(info_.oriented_width(), info_.oriented_height());
  const Chain& chain = file_.chain;
  draft.full_size_steps = full_size_steps(chain, upright, context.quality);
  if (draft.full_size_steps > 0 && schedule_ == Schedule::streamed)
    throw Error(ErrorCategory::unsupported,
                fmt::format("{}: no draft: {} depends on the image's size in pixels, so the draft runs it on "
                            "the full-size image, and this input streams ({})",
                            name_, chain.steps()[draft.full_size_steps - 1].label, reason_));
  std::vector<Variant> variants;
  if (draft.full_size_steps == 0) {
    variants = chain.run_variants(shrink_to(decode_for_draft(max_side), max_side, context), context);
  } else {
    const bool whole = draft.full_size_steps == chain.steps().size();
    const Chain head = whole ? Chain() : steps_of(chain, 0, draft.full_size_steps);
    const Chain tail = whole ? Chain() : steps_of(chain, draft.full_size_steps, chain.steps().size());
    std::vector<Variant> full = (whole ? chain : head).run_variants(decode_for_draft(0), context);
    for (Variant& v : full) {
      Image small = shrink_to(v.image, max_side, context);
      v.image = {};
      if (tail.empty()) {
        variants.push_back({v.name, std::move(small)});
        continue;
      }
      for (Variant& t : tail.run_variants(small, context))
        variants.push_back({joined(v.name, t.name), std::move(t.image)});
    }
  }
  for (Variant& v : variants) {
    const Image image = shrink_to(v.image, max_side, context);
    v.image = {};
    draft.outputs.push_back({v.name, imgpipe::encode(image, save, context.quality), image.pixels.size()});
  }
  if (!preview.path.empty())
    for (const EncodedOutput& e : draft.outputs) {
      const fs::path target = variant_path(preview.path, e.variant);
      write_file_atomic(target, e.bytes, save.fsync);
      draft.written.push_back({e.variant, target, e.bytes.size(), e.size});
    }
  draft.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
  if (preview.on_draft) preview.on_draft(draft);
  return draft;
}

JobResult Job::run(const fs::path& output, const SaveOptions& save, const PreviewOptions& preview) {
  draft(save, preview);
  return run(output, save);
}

}  // namespace imgpipe
