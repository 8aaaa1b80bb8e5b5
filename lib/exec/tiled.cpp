#include "tiled.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <tbb/parallel_for.h>

#include <imgpipe/error.hpp>

#include "../ops/point_program.hpp"

namespace imgpipe::exec {

namespace {

bool has_stages(const Operation& operation, int channels, int depth) {
  PointProgram trial(channels, depth);
  return operation.append_point_stages(trial, channels, depth);
}

int summed_halo(std::span<const Step> steps) {
  int total = 0;
  for (const Step& step : steps) total += step.operation->halo();
  return total;
}

// `rect` grown by `halo` on each side, cut at the image's edges.
cv::Rect grow(cv::Rect rect, int halo, cv::Size image) {
  const cv::Rect grown(rect.x - halo, rect.y - halo, rect.width + 2 * halo, rect.height + 2 * halo);
  return grown & cv::Rect(cv::Point(0, 0), image);
}

// The point steps from one index on that run as one PointProgram for the pixel type a tile
// has there. Steps do not depend on where a pixel is, so every tile reaches a step with the
// same type: the first tile to arrive builds the program and the others use it.
struct Fusion {
  std::once_flag built;
  int type = -1;           // the OpenCV type it was built for
  std::size_t extent = 0;  // steps it covers; 0: the step at this index runs its apply()
  std::optional<PointProgram> program;
};

class TiledRun {
 public:
  TiledRun(std::span<const Step> steps, const Image& input, int tile, const Context& context)
      : steps_(steps), input_(input), tile_(tile), context_(context), fusions_(steps.size()) {
    // later_halo_[k]: what the steps after k still read around a tile.
    later_halo_.resize(steps.size());
    int later = 0;
    for (std::size_t k = steps.size(); k-- > 0;) {
      later_halo_[k] = later;
      later += steps[k].operation->halo();
    }
    total_halo_ = later;
  }

  Image run() {
    // Adjustments that change nothing leave the image as it is, as the whole-image run does
    // (which keeps, for instance, a palette image's indices for its encoder).
    const Fusion& first = fusion_at(0, input_.pixels.type());
    if (first.extent == steps_.size() && first.program->empty()) return input_;

    const cv::Size size = input_.pixels.size();
    const int columns = (size.width + tile_ - 1) / tile_;
    const int rows = (size.height + tile_ - 1) / tile_;
    tbb::parallel_for(0, columns * rows, [&](int index) {
      const int x = index % columns * tile_, y = index / columns * tile_;
      run_tile(cv::Rect(x, y, std::min(tile_, size.width - x), std::min(tile_, size.height - y)));
    });
    return input_.with_pixels(output_);
  }

 private:
  const Fusion& fusion_at(std::size_t k, int type) {
    Fusion& fusion = fusions_[k];
    std::call_once(fusion.built, [&] {
      fusion.type = type;
      const int channels = CV_MAT_CN(type), depth = CV_MAT_DEPTH(type);
      if (steps_[k].descriptor->footprint != Footprint::point) return;
      PointProgram program(channels, depth);
      for (std::size_t j = k; j < steps_.size() && steps_[j].descriptor->footprint == Footprint::point; ++j) {
        PointProgram stages(channels, depth);
        if (!steps_[j].operation->append_point_stages(stages, channels, depth)) break;
        program.append(stages);
        ++fusion.extent;
      }
      if (fusion.extent > 0) fusion.program.emplace(std::move(program));
    });
    if (fusion.type != type)
      throw Error(ErrorCategory::internal,
                  fmt::format("tiled run: {} got pixels of type {} in one tile and {} in another",
                              steps_[k].label, fusion.type, type));
    return fusion;
  }

  cv::Mat apply(const Step& step, const cv::Mat& pixels) const {
    Image part(pixels);
    part.source = input_.source;
    cv::Mat out = step.operation->apply(part, context_).pixels;
    if (out.size() != pixels.size())
      throw Error(ErrorCategory::internal,
                  fmt::format("tiled run: {} changed the size of a tile ({}x{} to {}x{})", step.label,
                              pixels.cols, pixels.rows, out.cols, out.rows));
    return out;
  }

  void run_tile(cv::Rect tile) {
    const cv::Size size = input_.pixels.size();
    cv::Rect region = grow(tile, total_halo_, size);
    // A view, not a copy: the first pass reads the input where it is and writes elsewhere.
    cv::Mat pixels = input_.pixels(region);
    for (std::size_t k = 0; k < steps_.size();) {
      const Fusion& fusion = fusion_at(k, pixels.type());
      std::size_t next = k + 1;
      if (fusion.extent > 0) {
        if (!fusion.program->empty()) {
          cv::Mat out;
          fusion.program->run(pixels, out);
          pixels = out;
        }
        next = k + fusion.extent;
      } else {
        pixels = apply(steps_[k], pixels);
      }
      // The steps still to come need less around the tile: keep only that.
      const cv::Rect needed = grow(tile, later_halo_[next - 1], size);
      if (needed != region) {
        pixels = pixels(needed - region.tl());
        region = needed;
      }
      k = next;
    }
    store(tile, pixels);
  }

  void store(cv::Rect tile, const cv::Mat& pixels) {
    std::call_once(allocated_, [&] { output_.create(input_.pixels.size(), pixels.type()); });
    if (pixels.type() != output_.type())
      throw Error(ErrorCategory::internal, "tiled run: tiles came out with different pixel types");
    cv::Mat target = output_(tile);
    pixels.copyTo(target);
  }

  std::span<const Step> steps_;
  const Image& input_;
  int tile_;
  const Context& context_;
  std::vector<Fusion> fusions_;  // one per step; only those where a pass starts are built
  std::vector<int> later_halo_;
  int total_halo_ = 0;
  std::once_flag allocated_;
  cv::Mat output_;
};

}  // namespace

std::size_t tileable_steps(std::span<const Step> steps, int channels, int depth) {
  // Whether the pixel type at a step is still the input's: point stages keep it; after an
  // apply() it is not known before the tiles run.
  bool type_known = true;
  std::size_t count = 0;
  for (const Step& step : steps) {
    const Operation& operation = *step.operation;
    const Footprint footprint = step.descriptor->footprint;
    if (footprint == Footprint::neighbourhood) {
      if (!operation.tileable()) break;
      type_known = false;
    } else if (footprint == Footprint::point) {
      if (operation.tileable()) {
        type_known = false;  // it may run through apply(); not worth a trial to find out
      } else if (!type_known || !has_stages(operation, channels, depth)) {
        break;  // only its stages can run on a part of the image, and they need the type
      }
    } else {
      break;
    }
    ++count;
  }
  return count;
}

int tile_side(std::span<const Step> steps, cv::Size size, const Context& context) {
  if (context.tile_size <= 0) return 0;
  const int side = std::max(context.tile_size, 4 * summed_halo(steps));
  if (size.width <= side && size.height <= side) return 0;
  return side;
}

Image run_tiled(std::span<const Step> steps, const Image& input, int tile, const Context& context) {
  if (steps.empty() || tile <= 0) throw Error(ErrorCategory::internal, "tiled run: no steps or no tile size");
  return TiledRun(steps, input, tile, context).run();
}

}  // namespace imgpipe::exec
