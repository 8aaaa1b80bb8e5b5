// watermark: text (rendered by libvips through Pango, so real fonts and Unicode) or an
// image, placed at one of nine positions with a margin, blended with an opacity.
// The watermark image is loaded when the chain is built, so a missing file is a chain
// error, not a failure halfway through a batch.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/kernels/compose.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <vector>

#include "../../vips/vips.hpp"
#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

// The top-left corner of a mark of size `mark` placed on an image of size `base`.
cv::Point origin(const Placement& placement, cv::Size base, cv::Size mark) {
  const int anchor = static_cast<int>(placement.anchor);  // row-major over a 3×3 grid
  auto along = [&](int slot, int outer, int inner) {
    return slot == 0 ? placement.margin : slot == 2 ? outer - inner - placement.margin : (outer - inner) / 2;
  };
  return {along(anchor % 3, base.width, mark.width), along(anchor / 3, base.height, mark.height)};
}

}  // namespace

void text_watermark(cv::InputArray src, cv::OutputArray dst, const TextWatermarkOptions& options) {
  const Colour& colour = options.colour;
  if (!ops::widen_for(src, dst, Colour{colour.r, colour.g, colour.b, 255})) src.copyTo(dst);
  cv::Mat coverage;
  options.coverage.convertTo(coverage, CV_32F, options.opacity * colour.a / (255.0 * 255.0));
  const int colours = ops::colour_channels(dst);
  const cv::Mat overlay(coverage.size(), CV_32FC(colours), ops::to_scalar(colour, colours, dst.depth()));
  ops::blend_into(dst, overlay, coverage, origin(options.placement, dst.size(), coverage.size()));
}

void image_watermark(cv::InputArray src, cv::OutputArray dst, const ImageWatermarkOptions& options) {
  const cv::Mat& original = options.mark;
  if (original.empty()) throw Error(ErrorCategory::config, "watermark: the mark image is empty");
  const int width = std::max(1, static_cast<int>(std::lround(src.cols() * options.scale)));
  const int height =
      std::max(1, static_cast<int>(std::lround(static_cast<double>(original.rows) * width / original.cols)));
  cv::Mat mark;
  resize(original, mark,
         {.size = {width, height},
          .kernel = width < original.cols ? Interpolation::area : Interpolation::cubic});
  // A colour mark needs an RGB image, and a grey mark on an RGB image becomes RGB too.
  const bool colour = ops::colour_channels(mark) == 3 || ops::colour_channels(src) == 3;
  if (!ops::widen(src, dst, colour, false)) src.copyTo(dst);
  ops::widen(mark, mark, colour, false);
  const double mark_max = ops::max_value(mark);
  std::vector<cv::Mat> planes;
  cv::split(mark, planes);
  cv::Mat coverage(mark.size(), CV_32F, cv::Scalar(options.opacity)), overlay;
  if (ops::has_alpha(mark)) {
    planes.back().convertTo(coverage, CV_32F, options.opacity / mark_max);
    planes.pop_back();
  }
  cv::merge(planes, overlay);
  overlay.convertTo(overlay, CV_32F, ops::max_value(dst) / mark_max);
  ops::blend_into(dst, overlay, coverage, origin(options.placement, dst.size(), mark.size()));
}

cv::Mat render_text(const std::string& text, const std::string& font, int pixel_size) {
  // The rendered mask is held to 16384 pixels a side and 64 M pixels in all.
  constexpr std::int64_t kMaxSide = 16384, kMaxPixels = std::int64_t{64} << 20;
  detail::ensure_vips("watermark text");
  detail::VipsRef rendered;
  // Pango sizes are points; at 72 dpi a point is a pixel. libvips reads the text as Pango
  // markup; the parameter is plain text, so "&", "<" and ">" are escaped (markup could also
  // have made the text any size).
  const std::string description = fmt::format("{} {}", font, pixel_size);
  std::unique_ptr<gchar, decltype(&g_free)> plain(g_markup_escape_text(text.c_str(), -1), &g_free);
  if (vips_text(rendered.out(), plain.get(), "font", description.c_str(), "dpi", 72, nullptr))
    // Cairo refuses surfaces past 32767 pixels: text and size asked for more than it can draw.
    throw Error(ErrorCategory::config,
                fmt::format("watermark: cannot render the text at size {}: {}; use a shorter "
                            "text or a smaller size",
                            pixel_size, detail::take_vips_error()));
  const std::int64_t width = vips_image_get_width(rendered.get()),
                     height = vips_image_get_height(rendered.get());
  if (width > kMaxSide || height > kMaxSide || width * height > kMaxPixels)
    throw Error(
        ErrorCategory::config,
        fmt::format("watermark: the text renders to {}x{} pixels, over the limit of {}x{} and {} pixels; "
                    "use a shorter text or a smaller size",
                    width, height, kMaxSide, kMaxSide, kMaxPixels));
  std::size_t bytes = 0;
  void* data = vips_image_write_to_memory(rendered.get(), &bytes);
  if (!data) throw Error(ErrorCategory::internal, "watermark: " + detail::take_vips_error());
  cv::Mat mask =
      cv::Mat(vips_image_get_height(rendered.get()), vips_image_get_width(rendered.get()), CV_8UC1, data)
          .clone();
  g_free(data);
  return mask;
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

constexpr std::size_t kMaxTextBytes = 1000;

// In the order of kernels::Anchor.
const std::vector<std::string> kPositions = {"top-left", "top",         "top-right", "left",        "center",
                                             "right",    "bottom-left", "bottom",    "bottom-right"};

kernels::Anchor to_anchor(const std::string& position) {
  const auto found = std::find(kPositions.begin(), kPositions.end(), position);
  return static_cast<kernels::Anchor>(found - kPositions.begin());
}

class Watermark final : public Operation {
 public:
  explicit Watermark(const Params& p)
      : text_(p.has("text") ? p.text("text") : std::string()),
        font_(p.text("font")),
        size_(static_cast<int>(p.integer("size"))),
        colour_(p.colour("color")),
        opacity_(p.number("opacity")),
        placement_{to_anchor(p.text("position")), static_cast<int>(p.integer("margin"))},
        scale_(p.number("scale")) {
    if (p.has("image")) {
      mark_ = load_referenced_image(p.text("image"), "watermark image").pixels;
      const cv::Mat packed = mark_.isContinuous() ? mark_ : mark_.clone();
      digest_ = fmt::format("{}x{}x{}:{}", packed.cols, packed.rows, packed.type(),
                            content_digest({packed.data, packed.total() * packed.elemSize()}));
    }
  }

  std::string resources_digest() const override { return digest_; }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    mark(input.pixels, out);
    return input.with_pixels(out);
  }

  // Only the mark's rectangle changes: when nothing else shares the input's pixels they are
  // marked where they lie, not copied first (a fresh copy of a 1200x800 image costs more in
  // page faults than the blend).
  Image apply_owned(Image input, const Context& context) const override {
    if (!ops::sole_owner(input.pixels)) return apply(input, context);
    cv::Mat& pixels = input.pixels;
    mark(pixels, pixels);
    return input;
  }

  // The mark (rendered text or the watermark image) is made on the CPU and blended on OpenCL.
  bool runs_on(Device device, int, int, QualityPreset) const override { return device == Device::opencl; }

  void apply_on(DeviceImage& image, const Context&) const override {
    on_umat(image, [&](cv::InputArray in, cv::OutputArray out) { mark(in, out); });
  }

 private:
  // The kernels write `out` in place when it is `in` and its layout stays (no grey image
  // widened to RGB, no alpha added); otherwise `out` is a new buffer.
  void mark(cv::InputArray in, cv::OutputArray out) const {
    if (mark_.empty()) {
      const int size = size_ > 0 ? size_ : std::max(8, std::min(in.cols(), in.rows()) / 25);
      kernels::text_watermark(
          in, out,
          {.coverage = rendered(size), .colour = colour_, .opacity = opacity_, .placement = placement_});
    } else {
      kernels::image_watermark(
          in, out, {.mark = mark_, .scale = scale_, .opacity = opacity_, .placement = placement_});
    }
  }

  // Renders the text once per size; libvips serialises Pango internally.
  cv::Mat rendered(int size) const {
    std::lock_guard lock(mutex_);
    auto cached = rendered_.find(size);
    if (cached == rendered_.end())
      cached = rendered_.emplace(size, kernels::render_text(text_, font_, size)).first;
    return cached->second;
  }

  std::string text_, font_;
  int size_;
  Colour colour_;
  double opacity_;
  kernels::Placement placement_;
  double scale_;
  cv::Mat mark_;
  std::string digest_;  // of the watermark image's pixels
  mutable std::mutex mutex_;
  mutable std::map<int, cv::Mat> rendered_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(watermark) {
  registry.add(OpDescriptor{
      .name = "watermark",
      .family = "compose",
      .summary = "Overlay a text or an image at one of nine positions, with an opacity.",
      .footprint = Footprint::global,
      .params =
          {
              spec::text("text", {}, "Text to draw (UTF-8). Give text or image, not both."),
              spec::path("image", {}, "Path of an image to overlay (its alpha is respected)."),
              spec::text("font", "DejaVu Sans", "Font family for text (any installed font, through Pango)."),
              spec::integer("size", 0, 0, 4096,
                            "Text height in pixels; 0 picks 4 % of the image's shorter side."),
              spec::colour("color", "white", "Text color (its alpha multiplies the opacity)."),
              spec::number("opacity", 0.6, 0, 1, "0 invisible, 1 opaque."),
              spec::choice("position", "bottom-right", kPositions, "Where to place the watermark."),
              spec::integer("margin", 16, 0, 10000, "Distance from the edges in pixels."),
              spec::number("scale", 0.2, 0.001, 1, "Image watermark width as a fraction of the image width."),
          },
      .examples =
          {
              {{"text", "© imgpipe"}, {"opacity", 0.6}, {"position", "bottom-right"}},
              {{"text", "PROOF"},
               {"size", 48},
               {"color", "#ff0000"},
               {"opacity", 0.3},
               {"position", "center"}},
          },
      .create = [](const Params& p) { return std::make_unique<Watermark>(p); },
      .check = [](const Params& p) -> std::string {
        if (p.has("text") == p.has("image")) return "give exactly one of text or image";
        if (p.has("text") && p.text("text").empty()) return "text: expected some text, got \"\"";
        // A watermark is a line or two; this bounds what Pango is asked to lay out (at the
        // largest size, 1000 characters already make a mask of several hundred megapixels,
        // which the rendered-size check below refuses).
        if (p.has("text") && p.text("text").size() > kMaxTextBytes)
          return fmt::format("text: {} bytes; a watermark text holds at most {}", p.text("text").size(),
                             kMaxTextBytes);
        return "";
      },
  });
}

}  // namespace imgpipe::ops
