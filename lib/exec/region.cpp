#include "region.hpp"

#include <fmt/format.h>

#include <chrono>
#include <imgpipe/error.hpp>

#include "../ops/point_program.hpp"
#include "../plan/planner.hpp"

namespace imgpipe::exec {

void check_continue(const Context& context, std::string_view source, std::string_view when,
                    std::string_view label) {
  const auto message = [&](std::string_view what) {
    return fmt::format("{}{}{} {}{}", source, source.empty() ? "" : ": ", what, when, label);
  };
  if (context.cancel.stop_requested()) throw Error(ErrorCategory::cancelled, message("cancelled"));
  if (context.deadline != std::chrono::steady_clock::time_point{} &&
      std::chrono::steady_clock::now() > context.deadline)
    throw Error(ErrorCategory::timeout, message("time limit reached"));
}

namespace {

// The layout a step gives for a layout, found by running it on a tiny image: point steps
// such as grayscale change the channel count, Canny makes 16-bit input 8-bit.
PixelLayout layout_after(const Step& step, PixelLayout layout, const Context& context) {
  const double middle = layout.depth == CV_16U ? 32768.0 : 128.0;
  const Image probe(cv::Mat(3, 3, layout.type(), cv::Scalar::all(middle)));
  return PixelLayout::of(step.operation->apply(probe, context).pixels);
}

bool bounded_neighbourhood(const Step& step) {
  return step.descriptor->footprint == Footprint::neighbourhood && step.operation->halo() >= 0;
}

}  // namespace

cv::Rect grow(cv::Rect rect, int halo, cv::Size image) {
  const cv::Rect grown(rect.x - halo, rect.y - halo, rect.width + 2 * halo, rect.height + 2 * halo);
  return grown & cv::Rect(cv::Point(0, 0), image);
}

bool LocalRun::changes_nothing() const {
  for (const Piece& piece : pieces)
    if (!piece.program || !piece.program->empty()) return false;
  return true;
}

bool streams_analysis(const Step& step) {
  return plan::is_analysis_step(step) && step.operation->streams_analysis() &&
         step.operation->variant_count() == 1;
}

LocalRun plan_local_run(std::span<const Step> steps, PixelLayout layout, const Context& context,
                        bool with_analyses) {
  LocalRun run;
  run.in = layout;
  std::shared_ptr<PointProgram> fusing;  // the program of the last piece, while it grows
  // An analysis step joins only after point steps: it analyses a thumbnail of the input,
  // which the point steps before it can be run on, and nothing else can.
  bool only_points = true;
  auto take = [&run](const Step& step) {
    run.label += run.steps == 0 ? step.label : " + " + step.descriptor->name;
    ++run.steps;
  };
  for (const Step& step : steps) {
    const bool point = step.descriptor->footprint == Footprint::point;
    if (point) {
      PointProgram stages(layout.channels, layout.depth);
      if (step.operation->append_point_stages(stages, layout.channels, layout.depth)) {
        if (!fusing) {
          fusing = std::make_shared<PointProgram>(layout.channels, layout.depth);
          run.pieces.push_back({fusing, nullptr, nullptr, 0});
        }
        fusing->append(stages);
        take(step);
        continue;
      }
    } else if (!bounded_neighbourhood(step) && !(with_analyses && only_points && streams_analysis(step))) {
      break;
    }
    only_points = only_points && point;
    PixelLayout next;
    try {
      next = layout_after(step, layout, context);
    } catch (const Error&) {
      break;  // it runs on the whole image, which says what is wrong
    }
    const int halo = point || plan::is_analysis_step(step) ? 0 : step.operation->halo();
    run.pieces.push_back({nullptr, &step, nullptr, halo});
    fusing.reset();
    run.halo += halo;
    layout = next;
    take(step);
  }
  run.out = layout;
  return run;
}

void compute_region(const LocalRun& run, const cv::Mat& source, cv::Rect source_rect, cv::Rect want,
                    cv::Size image, const Image& metadata, const Context& context, cv::Mat& out) {
  cv::Mat pixels = source;
  cv::Rect region = source_rect;
  int still_read = run.halo;  // what the pieces from the current one on read around `want`
  for (std::size_t k = 0; k < run.pieces.size(); ++k) {
    const Piece& piece = run.pieces[k];
    still_read -= piece.halo;
    const bool last = k + 1 == run.pieces.size();
    if (piece.program) {
      // A point pass computes only what the pieces after it read.
      const cv::Rect needed = grow(want, still_read, image);
      pixels = pixels(needed - region.tl());
      region = needed;
      if (piece.program->empty()) continue;
      if (last) {
        piece.program->run(pixels, out);
        return;
      }
      cv::Mat next;
      piece.program->run(pixels, next);
      pixels = next;
      continue;
    }
    Image part = Image(pixels);
    part.source = metadata.source;
    part.orientation = metadata.orientation;
    pixels = piece.analysis ? piece.analysis->apply(part, context).pixels
                            : piece.step->operation->apply(part, context).pixels;
    if (pixels.size() != region.size())
      throw Error(ErrorCategory::internal,
                  fmt::format("{}: {} changed the size of a region ({}x{} to {}x{})", metadata.source,
                              piece.step->label, region.width, region.height, pixels.cols, pixels.rows));
    const cv::Rect needed = grow(want, still_read, image);
    pixels = pixels(needed - region.tl());
    region = needed;
  }
  if (pixels.type() != run.out.type())
    throw Error(ErrorCategory::internal,
                fmt::format("{}: {} gave another pixel layout on a region than on a probe", metadata.source,
                            run.label));
  if (out.empty())
    out = pixels;
  else
    pixels.copyTo(out);
}

}  // namespace imgpipe::exec
