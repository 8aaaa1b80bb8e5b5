// resize: scale to a box (fit inside, cover, fill, exact), a longest side, or a factor.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/kernels/compose.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../region_maps.hpp"
#include "../register.hpp"
#include "../spec.hpp"
#include "area.hpp"

namespace imgpipe::kernels {

namespace {

bool shrinks(cv::Size from, cv::Size to) {
  return to.width < from.width || to.height < from.height;
}

// The part of an image resampled to `scaled` that cover keeps: the box's size, centred (rounded
// towards the top left), or less where the image is smaller than the box.
cv::Rect cover_centre(cv::Size scaled, cv::Size box) {
  return {std::max(0, (scaled.width - box.width) / 2), std::max(0, (scaled.height - box.height) / 2),
          std::min(box.width, scaled.width), std::min(box.height, scaled.height)};
}

void resample(cv::InputArray src, cv::OutputArray dst, cv::Size target, Interpolation kernel) {
  if (target == src.size()) return src.copyTo(dst);
  const int interpolation = ops::cv_interpolation(kernel, shrinks(src.size(), target));
  if (interpolation == cv::INTER_NEAREST) return cv::resize(src, dst, target, 0, 0, cv::INTER_NEAREST);
  // Without alpha there is nothing to premultiply, and area resampling of 8- and 16-bit images
  // sums in fixed point or float itself: going through a float copy only cost time and memory
  // (a 2048x1536 photo: 48 ms and a 37 MB copy, against 8 ms).
  // (A cv::UMat takes OpenCV's area resampling, which has an OpenCL path.)
  if (interpolation == cv::INTER_AREA && !ops::has_alpha(src)) {
    if (src.isUMat()) return cv::resize(src, dst, target, 0, 0, cv::INTER_AREA);
    return ops::area_downscale(src, dst, target);
  }
  ops::filter_premultiplied(src, dst, [&](cv::InputArray in, cv::OutputArray out) {
    if (interpolation == cv::INTER_AREA || (in.cols() <= 2 * target.width && in.rows() <= 2 * target.height))
      return cv::resize(in, out, target, 0, 0, interpolation);
    ops::with_kind(in, [&](auto image) {
      decltype(image) shrunk;
      cv::resize(image, shrunk,
                 {std::min(image.cols, 2 * target.width), std::min(image.rows, 2 * target.height)}, 0, 0,
                 cv::INTER_AREA);
      cv::resize(shrunk, out, target, 0, 0, interpolation);
    });
  });
}

}  // namespace

void resize(cv::InputArray src, cv::OutputArray dst, const ResizeOptions& options) {
  ops::with_kind(src, [&](auto image) {
    if (options.fit != Fit::cover && options.fit != Fit::fill)
      return resample(image, dst, options.size, options.kernel);
    decltype(image) scaled;
    resample(image, scaled, options.size, options.kernel);
    const cv::Size box = options.box;
    if (options.fit == Fit::cover) {
      return ops::copy_region(scaled, dst, cover_centre(scaled.size(), box));
    }
    const int pad_x = std::max(0, box.width - scaled.cols), pad_y = std::max(0, box.height - scaled.rows);
    border(scaled, dst,
           {.top = pad_y / 2,
            .right = pad_x - pad_x / 2,
            .bottom = pad_y - pad_y / 2,
            .left = pad_x / 2,
            .mode = BorderMode::colour,
            .colour = options.background});
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

using kernels::Fit;
using kernels::Interpolation;

// An area-averaging downscale from `from` to `to`, of which the output shows the rectangle
// `shown` (all of it, or cover's centre).
class AreaMap final : public RegionMap {
 public:
  AreaMap(cv::Size from, cv::Size to, cv::Rect shown)
      : shown_(shown), columns_(from.width, to.width), rows_(from.height, to.height) {}

  cv::Size output_size() const override { return shown_.size(); }

  cv::Rect input_rect(const cv::Rect& output) const override {
    const cv::Rect scaled = output + shown_.tl();
    const auto [x0, x1] = columns_.span(scaled.x, scaled.x + scaled.width);
    const auto [y0, y1] = rows_.span(scaled.y, scaled.y + scaled.height);
    return {x0, y0, x1 - x0, y1 - y0};
  }

  // 8-bit pixels without alpha through the same fixed-point kernel as the whole image;
  // others premultiplied like the in-memory resize, the filter writing straight into `out`.
  void compute(const cv::Mat& in, const cv::Rect& output, cv::Mat& out) const override {
    const cv::Rect from = input_rect(output);
    const cv::Rect scaled = output + shown_.tl();
    if (in.depth() == CV_8U && !has_alpha(in)) {
      out.create(output.size(), in.type());
      return area_downscale_8u(in, from.tl(), columns_, rows_, scaled, out);
    }
    filter_premultiplied(in, out, [&](cv::InputArray source, cv::OutputArray result) {
      result.create(output.height, output.width, CV_32FC(source.channels()));
      cv::Mat resampled = result.getMat();
      resample(source.getMat(), resampled, scaled, from.tl());
    });
  }

 private:
  // Outputs `want` (in the full downscale's coordinates) from a float source whose origin is
  // input `origin`, in OpenCV's order: each input row resampled across, then rows weighted
  // and summed.
  void resample(const cv::Mat& source, cv::Mat& out, const cv::Rect& want, cv::Point origin) const {
    const int cn = source.channels();
    const auto width = static_cast<std::size_t>(want.width * cn);
    std::vector<float> across(width), sum(width);
    for (int y = 0; y < want.height; ++y) {
      std::fill(sum.begin(), sum.end(), 0.0f);
      const auto [row_begin, row_end] = rows_.taps(want.y + y);
      for (const AreaTable::Tap* t = row_begin; t != row_end; ++t) {
        const float* row = source.ptr<float>(t->source - origin.y);
        std::fill(across.begin(), across.end(), 0.0f);
        for (int x = 0; x < want.width; ++x) {
          float* a = &across[static_cast<std::size_t>(x * cn)];
          const auto [column_begin, column_end] = columns_.taps(want.x + x);
          for (const AreaTable::Tap* k = column_begin; k != column_end; ++k) {
            const float* s = row + (k->source - origin.x) * cn;
            for (int c = 0; c < cn; ++c) a[c] += s[c] * k->weight;
          }
        }
        for (std::size_t i = 0; i < width; ++i) sum[i] += t->weight * across[i];
      }
      std::copy(sum.begin(), sum.end(), out.ptr<float>(y));
    }
  }

  cv::Rect shown_;
  AreaTable columns_, rows_;
};

class Resize final : public Operation {
 public:
  explicit Resize(const Params& p)
      : width_(p.optional_integer("width")),
        height_(p.optional_integer("height")),
        max_side_(p.optional_integer("max_side")),
        scale_(p.optional_number("scale")),
        kernel_(p.text("kernel")),
        enlarge_(p.boolean("enlarge")),
        background_(p.colour("background")) {
    const auto& fit = p.text("fit");
    fit_ = fit == "cover"   ? Fit::cover
           : fit == "fill"  ? Fit::fill
           : fit == "exact" ? Fit::exact
                            : Fit::inside;
  }

  // A factor applies to the size the step receives: after a reduced decode it would reduce twice
  // (`scale: 0.5` gave a quarter at the presets that decode smaller), so only absolute sizes
  // let the decoder shrink.
  std::optional<cv::Size> resampled_size(cv::Size in) const override {
    if (scale_) return std::nullopt;
    return content_size(in);
  }

  // cover crops and fill pads to the box; the other fits are the resampled content.
  std::optional<cv::Size> output_size(cv::Size in) const override {
    if ((fit_ == Fit::cover || fit_ == Fit::fill) && width_ && height_) return cv::Size(*width_, *height_);
    return content_size(in);
  }

  Image apply(const Image& input, const Context& context) const override {
    cv::Mat out;
    kernels::resize(input.pixels, out, options_for(input.pixels.size(), context.quality));
    return input.with_pixels(out);
  }

  // CUDA: the area and linear kernels, and cover's crop; fill's padding is left to the CPU.
  bool runs_on(Device device, int, int, QualityPreset quality) const override {
    if (device == Device::opencl) return true;
    const auto takes = [](Interpolation kernel) {
      return kernel == Interpolation::area || kernel == Interpolation::linear;
    };
    return device == Device::cuda && fit_ != Fit::fill && takes(interpolation(true, quality)) &&
           takes(interpolation(false, quality));
  }

  void apply_on(DeviceImage& image, const Context& context) const override {
    const kernels::ResizeOptions options = options_for(image.size(), context.quality);
    if (image.device == Device::opencl)
      return on_umat(image,
                     [&](cv::InputArray in, cv::OutputArray out) { kernels::resize(in, out, options); });
    const int kernel = options.kernel == Interpolation::area ? 0 : 1;
    on_cuda(image, options.size, image.channels(), "resize",
            [&](const cuda::Api& api, auto* context_, auto* in, auto* out) {
              return api.resize(context_, in, out, kernel);
            });
    if (options.fit != Fit::cover || options.box.area() == 0) return;
    const cv::Rect shown = kernels::cover_centre(options.size, options.box);
    if (shown.size() == options.size) return;
    on_cuda(image, shown.size(), image.channels(), "crop",
            [&](const cuda::Api& api, auto* context_, auto* in, auto* out) {
              return api.crop(context_, in, out, shown.x, shown.y);
            });
  }

  // Downscales with area averaging (kernel area, or auto at the balanced and fast presets)
  // and cover's crop have a region form. The other kernels have none that gives the whole
  // image's pixels, and enlarging would read the input ahead of the output.
  RegionMapping region_map(cv::Size input, QualityPreset quality) const override {
    const cv::Size content = content_size(input);
    if (content.width > input.width || content.height > input.height)
      return {nullptr, fmt::format("it enlarges {}x{} to {}x{}; only downscales have a region form",
                                   input.width, input.height, content.width, content.height)};
    const bool resamples = content != input;
    if (resamples && interpolation(true, quality) != Interpolation::area)
      return {nullptr,
              fmt::format("kernel {} at the {} preset has no region form; area downscales do (kernel: "
                          "area, or auto at the balanced and fast presets)",
                          kernel_, to_string(quality))};
    cv::Rect shown(cv::Point(0, 0), content);
    if (fit_ == Fit::fill && width_ && height_ && (content.width < *width_ || content.height < *height_))
      return {nullptr, "fit: fill pads the image, which has no region form"};
    if (fit_ == Fit::cover && width_ && height_) {
      // The same centred rectangle as the whole-image kernel.
      shown = kernels::cover_centre(content, cv::Size(static_cast<int>(*width_), static_cast<int>(*height_)));
    }
    if (resamples) return {std::make_shared<AreaMap>(input, content, shown), {}};
    if (shown.size() == input) return {identity_map(input), {}};
    return {crop_map(shown), {}};
  }

 private:
  kernels::ResizeOptions options_for(cv::Size in, QualityPreset quality) const {
    kernels::ResizeOptions options{.size = content_size(in), .fit = fit_, .background = background_};
    options.kernel = interpolation(kernels::shrinks(in, options.size), quality);
    if (width_ && height_) options.box = cv::Size(static_cast<int>(*width_), static_cast<int>(*height_));
    return options;
  }

  // The size the whole image is resampled to (before cover's crop or fill's padding).
  cv::Size content_size(cv::Size in) const {
    const double w = in.width, h = in.height;
    double sx = 1, sy = 1;
    if (scale_) {
      sx = sy = *scale_;
    } else if (max_side_) {
      sx = sy = static_cast<double>(*max_side_) / std::max(w, h);
    } else if (width_ && height_) {
      const double bx = static_cast<double>(*width_) / w, by = static_cast<double>(*height_) / h;
      switch (fit_) {
        case Fit::inside:
        case Fit::fill: sx = sy = std::min(bx, by); break;
        case Fit::cover: sx = sy = std::max(bx, by); break;
        case Fit::exact:
          sx = bx;
          sy = by;
          break;
      }
    } else if (width_) {
      sx = sy = static_cast<double>(*width_) / w;
    } else if (height_) {
      sx = sy = static_cast<double>(*height_) / h;
    }
    if (!enlarge_) {
      sx = std::min(sx, 1.0);
      sy = std::min(sy, 1.0);
    }
    auto side = [](double length, double s) {
      return std::max(1, static_cast<int>(std::lround(length * s)));
    };
    cv::Size out(side(w, sx), side(h, sy));
    // Fitting exactly to one side must give that side exactly, whatever the rounding.
    if (width_ && height_ && fit_ != Fit::exact && enlarge_) {
      if (fit_ == Fit::cover) {
        out.width = std::max(out.width, static_cast<int>(*width_));
        out.height = std::max(out.height, static_cast<int>(*height_));
      } else {
        out.width = std::min(out.width, static_cast<int>(*width_));
        out.height = std::min(out.height, static_cast<int>(*height_));
      }
    }
    return out;
  }

  Interpolation interpolation(bool down, QualityPreset quality) const {
    if (kernel_ == "nearest") return Interpolation::nearest;
    if (kernel_ == "linear") return Interpolation::linear;
    if (kernel_ == "cubic") return Interpolation::cubic;
    if (kernel_ == "area") return Interpolation::area;
    if (kernel_ == "lanczos") return Interpolation::lanczos;
    switch (quality) {  // "auto"
      case QualityPreset::ultra:
      case QualityPreset::high: return Interpolation::lanczos;
      case QualityPreset::balanced: return down ? Interpolation::area : Interpolation::cubic;
      case QualityPreset::fast: return down ? Interpolation::area : Interpolation::linear;
      case QualityPreset::draft: return Interpolation::nearest;
    }
    return Interpolation::area;
  }

  std::optional<std::int64_t> width_, height_, max_side_;
  std::optional<double> scale_;
  Fit fit_ = Fit::inside;
  std::string kernel_;
  bool enlarge_;
  Colour background_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(resize) {
  registry.add(OpDescriptor{
      .name = "resize",
      .family = "geometry",
      .summary = "Scale to a box (fit inside, cover, fill or exact), a longest side, or by a factor.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("width", {}, 1, 65535,
                            "Target width in pixels; with only a width the height follows the aspect ratio."),
              spec::integer(
                  "height", {}, 1, 65535,
                  "Target height in pixels; with only a height the width follows the aspect ratio."),
              spec::integer("max_side", {}, 1, 65535, "Scale so that the longer side is this many pixels."),
              spec::number("scale", {}, 0.0001, 100, "Scale both sides by this factor."),
              spec::choice("fit", "inside", {"inside", "cover", "fill", "exact"},
                           "With width and height: inside keeps the aspect ratio within the box; cover fills "
                           "the box and crops the centre; fill fits inside and pads to the box with the "
                           "background; exact stretches."),
              spec::choice("kernel", "auto", {"auto", "nearest", "linear", "cubic", "area", "lanczos"},
                           "Resampling kernel; auto picks from the quality preset (area down and cubic up at "
                           "balanced, lanczos at high and ultra)."),
              spec::boolean("enlarge", true,
                            "Allow making the image larger; false keeps smaller images as they are."),
              spec::colour("background", "black", "Padding colour for fit: fill (may be transparent)."),
          },
      .examples =
          {
              {{"width", 1200}, {"height", 800}, {"fit", "inside"}, {"enlarge", false}},
              {{"max_side", 512}},
              {{"width", 256}, {"height", 256}, {"fit", "cover"}},
          },
      // Interpolation() below and Chain::min_decode_size(); tests/unit/test_presets.cpp checks
      // the kernels against the output.
      .presets = {.ultra = "`kernel: auto`: lanczos; as a chain's first step, the whole image decoded",
                  .high =
                      "lanczos; as a chain's first step to a size (not a factor), a JPEG or WebP decoded at "
                      "no less than twice that size",
                  .balanced =
                      "area down, cubic up; as the first step to a size, decoded at no less than that size",
                  .fast = "area down, linear up; decoded as at balanced",
                  .draft = "nearest; decoded as at balanced"},
      .create = [](const Params& p) { return std::make_unique<Resize>(p); },
      .check = [](const Params& p) -> std::string {
        int ways = (p.has("width") || p.has("height")) + p.has("max_side") + p.has("scale");
        if (ways != 1) return "give exactly one of width/height, max_side or scale";
        if (p.text("fit") != "inside" && !(p.has("width") && p.has("height")))
          return "fit: " + p.text("fit") + " needs both width and height";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
