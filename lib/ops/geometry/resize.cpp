// resize: scale to a box (fit inside, cover, fill, exact), a longest side, or a factor.
//
// Downscales by more than 2x with an interpolating kernel first shrink with INTER_AREA to
// twice the target, as libvips does with shrink + reduce: OpenCV's linear, cubic and
// Lanczos kernels have a fixed support and would alias badly on large reductions.

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

enum class Fit { inside, cover, fill, exact };

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
    fit_ = fit == "cover" ? Fit::cover : fit == "fill" ? Fit::fill : fit == "exact" ? Fit::exact : Fit::inside;
  }

  std::optional<cv::Size> resampled_size(cv::Size in) const override { return content_size(in); }

  Image apply(const Image& input, const Context& context) const override {
    const cv::Mat& src = input.pixels;
    const cv::Size content = content_size(src.size());
    cv::Mat scaled = content == src.size() ? src : resample(src, content, context.quality);
    if (width_ && height_ && (fit_ == Fit::cover || fit_ == Fit::fill))
      scaled = to_box(scaled, cv::Size(static_cast<int>(*width_), static_cast<int>(*height_)));
    return input.with_pixels(scaled);
  }

 private:
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
        case Fit::exact: sx = bx; sy = by; break;
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
    auto side = [](double length, double s) { return std::max(1, static_cast<int>(std::lround(length * s))); };
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

  int interpolation(bool down, QualityPreset quality) const {
    if (kernel_ == "nearest") return cv::INTER_NEAREST;
    if (kernel_ == "linear") return cv::INTER_LINEAR;
    if (kernel_ == "cubic") return cv::INTER_CUBIC;
    if (kernel_ == "area") return down ? cv::INTER_AREA : cv::INTER_LINEAR;
    if (kernel_ == "lanczos") return cv::INTER_LANCZOS4;
    switch (quality) {  // "auto"
      case QualityPreset::ultra:
      case QualityPreset::high: return cv::INTER_LANCZOS4;
      case QualityPreset::balanced: return down ? cv::INTER_AREA : cv::INTER_CUBIC;
      case QualityPreset::fast: return down ? cv::INTER_AREA : cv::INTER_LINEAR;
      case QualityPreset::draft: return cv::INTER_NEAREST;
    }
    return cv::INTER_AREA;
  }

  cv::Mat resample(const cv::Mat& src, cv::Size target, QualityPreset quality) const {
    const bool down = target.width < src.cols || target.height < src.rows;
    const int kernel = interpolation(down, quality);
    if (kernel == cv::INTER_NEAREST) {
      cv::Mat out;
      cv::resize(src, out, target, 0, 0, cv::INTER_NEAREST);
      return out;
    }
    return filter_premultiplied(src, [&](const cv::Mat& in) {
      cv::Mat current = in;
      if (kernel != cv::INTER_AREA && (in.cols > 2 * target.width || in.rows > 2 * target.height)) {
        cv::Size half(std::min(in.cols, 2 * target.width), std::min(in.rows, 2 * target.height));
        cv::resize(in, current, half, 0, 0, cv::INTER_AREA);
      }
      cv::Mat out;
      cv::resize(current, out, target, 0, 0, kernel);
      return out;
    });
  }

  // cover: centre crop to the box; fill: centre on a canvas of the box in the background.
  cv::Mat to_box(const cv::Mat& scaled, cv::Size box) const {
    if (fit_ == Fit::cover) {
      cv::Rect roi((scaled.cols - box.width) / 2, (scaled.rows - box.height) / 2,
                   std::min(box.width, scaled.cols), std::min(box.height, scaled.rows));
      roi.x = std::max(roi.x, 0);
      roi.y = std::max(roi.y, 0);
      return scaled(roi).clone();
    }
    cv::Mat widened = widen_for(scaled, background_);
    cv::Mat canvas(std::max(box.height, widened.rows), std::max(box.width, widened.cols),
                   widened.type(), to_scalar(background_, widened.channels(), widened.depth()));
    widened.copyTo(canvas(cv::Rect((canvas.cols - widened.cols) / 2,
                                   (canvas.rows - widened.rows) / 2, widened.cols, widened.rows)));
    return canvas;
  }

  std::optional<std::int64_t> width_, height_, max_side_;
  std::optional<double> scale_;
  Fit fit_ = Fit::inside;
  std::string kernel_;
  bool enlarge_;
  Colour background_;
};

}  // namespace

void register_resize(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "resize",
      .family = "geometry",
      .summary = "Scale to a box (fit inside, cover, fill or exact), a longest side, or by a factor.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("width", {}, 1, 65535, "Target width in pixels; with only a width the height follows the aspect ratio."),
              spec::integer("height", {}, 1, 65535, "Target height in pixels; with only a height the width follows the aspect ratio."),
              spec::integer("max_side", {}, 1, 65535, "Scale so that the longer side is this many pixels."),
              spec::number("scale", {}, 0.0001, 100, "Scale both sides by this factor."),
              spec::choice("fit", "inside", {"inside", "cover", "fill", "exact"},
                           "With width and height: inside keeps the aspect ratio within the box; cover fills the box and crops the centre; fill fits inside and pads to the box with the background; exact stretches."),
              spec::choice("kernel", "auto", {"auto", "nearest", "linear", "cubic", "area", "lanczos"},
                           "Resampling kernel; auto picks from the quality preset (area down and cubic up at balanced, lanczos at high and ultra)."),
              spec::boolean("enlarge", true, "Allow making the image larger; false keeps smaller images as they are."),
              spec::colour("background", "black", "Padding colour for fit: fill (may be transparent)."),
          },
      .create = [](const Params& p) { return std::make_unique<Resize>(p); },
      .check =
          [](const Params& p) -> std::string {
        int ways = (p.has("width") || p.has("height")) + p.has("max_side") + p.has("scale");
        if (ways != 1) return "give exactly one of width/height, max_side or scale";
        if (p.text("fit") != "inside" && !(p.has("width") && p.has("height")))
          return "fit: " + p.text("fit") + " needs both width and height";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
