// watermark: text (rendered by libvips through Pango, so real fonts and Unicode) or an
// image, placed at one of nine positions with a margin, blended with an opacity.
// The watermark image is loaded when the chain is built, so a missing file is a chain
// error, not a failure halfway through a batch.

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>

#include "../../core/channels.hpp"
#include "../../io/vips_util.hpp"
#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

const std::vector<std::string> kPositions = {"top-left",    "top",    "top-right",
                                             "left",        "centre", "right",
                                             "bottom-left", "bottom", "bottom-right"};

// Blends `overlay` (CV_32F, colour channels of the base, already in the base's scale)
// with per-pixel `coverage` (CV_32FC1, 0..1) into `base` at `at`. Base alpha becomes
// coverage + alpha * (1 - coverage).
void blend(cv::Mat& base, const cv::Mat& overlay, const cv::Mat& coverage, cv::Point at) {
  const cv::Rect area = cv::Rect(at, coverage.size()) & cv::Rect(0, 0, base.cols, base.rows);
  if (area.empty()) return;
  const cv::Rect local(area.tl() - at, area.size());
  const double max = max_value(base);
  const int cn = base.channels();
  const int colour = has_alpha(base) ? cn - 1 : cn;
  cv::Mat region;
  base(area).convertTo(region, CV_32F);
  std::vector<cv::Mat> planes, over;
  cv::split(region, planes);
  cv::split(overlay(local), over);
  const cv::Mat a = coverage(local);
  const cv::Mat inverse = 1.0 - a;
  for (int c = 0; c < colour; ++c) {
    auto& p = planes[static_cast<std::size_t>(c)];
    p = p.mul(inverse) + over[static_cast<std::size_t>(c)].mul(a);
  }
  if (colour < cn) {
    auto& alpha = planes.back();
    alpha = a * max + alpha.mul(inverse);
  }
  cv::merge(planes, region);
  region.convertTo(base(area), base.depth());
}

cv::Point place(const std::string& position, cv::Size base, cv::Size mark, int margin) {
  const int column = position.ends_with("left") ? 0 : position.ends_with("right") ? 2 : 1;
  const int row = position.starts_with("top") ? 0 : position.starts_with("bottom") ? 2 : 1;
  auto along = [&](int slot, int outer, int inner) {
    return slot == 0 ? margin : slot == 2 ? outer - inner - margin : (outer - inner) / 2;
  };
  return {along(column, base.width, mark.width), along(row, base.height, mark.height)};
}

class Watermark final : public Operation {
 public:
  explicit Watermark(const Params& p)
      : text_(p.has("text") ? p.text("text") : std::string()),
        font_(p.text("font")),
        size_(static_cast<int>(p.integer("size"))),
        colour_(p.colour("colour")),
        opacity_(p.number("opacity")),
        position_(p.text("position")),
        margin_(static_cast<int>(p.integer("margin"))),
        scale_(p.number("scale")) {
    if (p.has("image")) mark_ = detail::grey_to_rgb(load(p.text("image")).pixels);
  }

  Image apply(const Image& input, const Context&) const override {
    return mark_.empty() ? apply_text(input) : apply_image(input);
  }

 private:
  Image apply_text(const Image& input) const {
    const int size = size_ > 0 ? size_ : std::max(8, std::min(input.width(), input.height()) / 25);
    const cv::Mat mask = render_text(size);  // CV_8UC1 coverage
    cv::Mat base = widen_for(input.pixels, Colour{colour_.r, colour_.g, colour_.b, 255});
    cv::Mat coverage;
    mask.convertTo(coverage, CV_32F, opacity_ * colour_.a / (255.0 * 255.0));
    const cv::Scalar fill = to_scalar(colour_, base.channels() - (has_alpha(base) ? 1 : 0), base.depth());
    cv::Mat overlay(mask.size(), CV_32FC(base.channels() - (has_alpha(base) ? 1 : 0)), fill);
    blend(base, overlay, coverage, place(position_, base.size(), mask.size(), margin_));
    return input.with_pixels(base);
  }

  Image apply_image(const Image& input) const {
    const int width = std::max(1, static_cast<int>(std::lround(input.width() * scale_)));
    const int height = std::max(1, static_cast<int>(std::lround(
                                       static_cast<double>(mark_.rows) * width / mark_.cols)));
    cv::Mat mark;
    cv::resize(mark_, mark, cv::Size(width, height), 0, 0,
               width < mark_.cols ? cv::INTER_AREA : cv::INTER_CUBIC);
    cv::Mat base = input.pixels;
    if (input.colour_channels() == 1) base = detail::grey_to_rgb(base);  // a colour mark needs RGB
    const double base_max = max_value(base), mark_max = max_value(mark);
    std::vector<cv::Mat> planes;
    cv::split(mark, planes);
    cv::Mat coverage = cv::Mat(mark.size(), CV_32F, cv::Scalar(opacity_));
    if (has_alpha(mark)) {
      cv::Mat alpha;
      planes.back().convertTo(alpha, CV_32F, opacity_ / mark_max);
      coverage = alpha;
      planes.pop_back();
    }
    cv::Mat overlay;
    cv::merge(planes, overlay);
    overlay.convertTo(overlay, CV_32F, base_max / mark_max);
    blend(base, overlay, coverage, place(position_, base.size(), mark.size(), margin_));
    return input.with_pixels(base);
  }

  // Renders the text once per size; libvips serialises Pango internally.
  cv::Mat render_text(int size) const {
    std::lock_guard lock(mutex_);
    auto cached = rendered_.find(size);
    if (cached != rendered_.end()) return cached->second;
    detail::ensure_vips();
    detail::VipsRef text;
    const std::string font = fmt::format("{} {}", font_, size);  // points at 72 dpi = pixels;
    if (vips_text(text.out(), text_.c_str(), "font", font.c_str(), "dpi", 72, nullptr))
      throw Error(ErrorCategory::internal, "watermark: text rendering failed: " + detail::take_vips_error());
    std::size_t bytes = 0;
    void* data = vips_image_write_to_memory(text.get(), &bytes);
    if (!data) throw Error(ErrorCategory::internal, "watermark: " + detail::take_vips_error());
    cv::Mat mask = cv::Mat(vips_image_get_height(text.get()), vips_image_get_width(text.get()), CV_8UC1, data).clone();
    g_free(data);
    rendered_.emplace(size, mask);
    return mask;
  }

  std::string text_, font_;
  int size_;
  Colour colour_;
  double opacity_;
  std::string position_;
  int margin_;
  double scale_;
  cv::Mat mark_;
  mutable std::mutex mutex_;
  mutable std::map<int, cv::Mat> rendered_;
};

}  // namespace

void register_watermark(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "watermark",
      .family = "compose",
      .summary = "Overlay a text or an image at one of nine positions, with an opacity.",
      .footprint = Footprint::global,
      .params =
          {
              spec::text("text", {}, "Text to draw (UTF-8). Give text or image, not both."),
              spec::text("image", {}, "Path of an image to overlay (its alpha is respected)."),
              spec::text("font", "DejaVu Sans", "Font family for text (any installed font, through Pango)."),
              spec::integer("size", 0, 0, 4096, "Text height in pixels; 0 picks 4 % of the image's shorter side."),
              spec::colour("colour", "white", "Text colour (its alpha multiplies the opacity)."),
              spec::number("opacity", 0.6, 0, 1, "0 invisible, 1 opaque."),
              spec::choice("position", "bottom-right", kPositions, "Where to place the watermark."),
              spec::integer("margin", 16, 0, 10000, "Distance from the edges in pixels."),
              spec::number("scale", 0.2, 0.001, 1, "Image watermark width as a fraction of the image width."),
          },
      .create = [](const Params& p) { return std::make_unique<Watermark>(p); },
      .check =
          [](const Params& p) -> std::string {
        if (p.has("text") == p.has("image")) return "give exactly one of text or image";
        if (p.has("text") && p.text("text").empty()) return "text: expected some text, got \"\"";
        return "";
      },
  });
}

}  // namespace imgpipe::ops
