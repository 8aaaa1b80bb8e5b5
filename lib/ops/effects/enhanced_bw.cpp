// enhanced_bw: black and white with a filter-like channel mixer, CLAHE local contrast, an
// S tone curve and seeded film grain. The output is grey (+ alpha) at the input depth.

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/enhanced_bw.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

std::array<double, 3> bw_filter_weights(BwFilter filter) noexcept {
  switch (filter) {
    case BwFilter::red: return {0.70, 0.25, 0.05};
    case BwFilter::orange: return {0.55, 0.35, 0.10};
    case BwFilter::yellow: return {0.45, 0.45, 0.10};
    case BwFilter::green: return {0.10, 0.80, 0.10};
    case BwFilter::blue: return {0.10, 0.20, 0.70};
    case BwFilter::neutral: break;
  }
  return {0.2126, 0.7152, 0.0722};
}

namespace {

// Applies the S-curve through a table over every value of the depth.
template <typename T>
void apply_curve(cv::Mat& grey, double strength) {
  const int levels = grey.depth() == CV_16U ? 65536 : 256;
  const double full = levels - 1;
  std::vector<T> lut(static_cast<std::size_t>(levels));
  for (int v = 0; v < levels; ++v) {
    const double x = v / full, s = x * x * (3 - 2 * x);
    lut[static_cast<std::size_t>(v)] = cv::saturate_cast<T>(((1 - strength) * x + strength * s) * full);
  }
  for (int y = 0; y < grey.rows; ++y) {
    T* row = grey.ptr<T>(y);
    for (int x = 0; x < grey.cols; ++x) row[x] = lut[row[x]];
  }
}

}  // namespace

void enhanced_bw(cv::InputArray src_array, cv::OutputArray dst, const EnhancedBwOptions& options) {
  const cv::Mat src = src_array.getMat();
  const bool alpha = ops::has_alpha(src);
  cv::Mat grey;
  if (ops::colour_channels(src) == 1) {
    cv::extractChannel(src, grey, 0);
  } else {
    // One row of weights; alpha (when present) gets weight 0. cv::transform rounds and
    // saturates to the input depth.
    cv::Mat m = cv::Mat::zeros(1, src.channels(), CV_32F);
    for (int c = 0; c < 3; ++c)
      m.at<float>(0, c) = static_cast<float>(options.mix[static_cast<std::size_t>(c)]);
    cv::transform(src, grey, m);
  }
  if (options.clahe > 0) {
    // A grid finer than the image would give empty tiles.
    const int tiles = std::max(1, std::min({options.tile, grey.cols, grey.rows}));
    cv::Mat equalised;
    // OpenCV's clip limit is relative to the mean count of a histogram bin, and a 16-bit
    // histogram has 256 times more bins: scaled so that the limit means the same at both depths.
    const double clip = grey.depth() == CV_16U ? options.clahe * 256 : options.clahe;
    cv::createCLAHE(clip, cv::Size(tiles, tiles))->apply(grey, equalised);
    grey = equalised;
  }
  if (options.curve > 0) {
    if (grey.depth() == CV_16U)
      apply_curve<std::uint16_t>(grey, options.curve);
    else
      apply_curve<std::uint8_t>(grey, options.curve);
  }
  if (options.grain > 0) {
    // One generator filled in raster order: the noise depends on the seed and the image size
    // only, never on how the work is split.
    cv::Mat noise(grey.size(), CV_32F), with_grain;
    cv::RNG rng(options.seed);
    rng.fill(noise, cv::RNG::NORMAL, 0.0, options.grain * 0.1 * ops::max_value(grey));
    grey.convertTo(with_grain, CV_32F);
    with_grain += noise;
    with_grain.convertTo(grey, src.depth());
  }
  if (alpha) {
    cv::Mat a, planes[2];
    cv::extractChannel(src, a, src.channels() - 1);
    planes[0] = grey, planes[1] = a;
    cv::merge(planes, 2, dst);
  } else {
    grey.copyTo(dst);
  }
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

const std::vector<std::string> kFilters = {"neutral", "red", "orange", "yellow", "green", "blue", "custom"};

class EnhancedBw final : public Operation {
 public:
  explicit EnhancedBw(const Params& p) {
    const auto& f = p.text("filter");
    if (f == "custom") {
      options_.mix = {p.number("mix_r"), p.number("mix_g"), p.number("mix_b")};
    } else {
      const auto filter = f == "red"      ? kernels::BwFilter::red
                          : f == "orange" ? kernels::BwFilter::orange
                          : f == "yellow" ? kernels::BwFilter::yellow
                          : f == "green"  ? kernels::BwFilter::green
                          : f == "blue"   ? kernels::BwFilter::blue
                                          : kernels::BwFilter::neutral;
      options_.mix = kernels::bw_filter_weights(filter);
    }
    options_.clahe = p.number("clahe");
    options_.tile = static_cast<int>(p.integer("tile"));
    options_.curve = p.number("curve");
    options_.grain = p.number("grain");
    options_.seed = static_cast<std::uint64_t>(p.integer("seed"));
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    kernels::enhanced_bw(input.pixels, out, options_);
    return input.with_pixels(out);
  }

 private:
  kernels::EnhancedBwOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(enhanced_bw) {
  registry.add(OpDescriptor{
      .name = "enhanced_bw",
      .family = "effects",
      .summary = "Black and white: filter-like channel mixer, CLAHE local contrast, S tone curve and seeded "
                 "film grain; "
                 "grey (+ alpha) output at the input depth.",
      // CLAHE tiles depend on the whole image and the grain on the pixel position.
      .footprint = Footprint::global,
      .params =
          {
              spec::choice(
                  "filter", "neutral", kFilters,
                  "Channel mixer (R G B): neutral 0.2126 0.7152 0.0722 (Rec. 709 luma), red 0.70 0.25 0.05, "
                  "orange 0.55 0.35 0.10, yellow 0.45 0.45 0.10, green 0.10 0.80 0.10, blue 0.10 0.20 0.70, "
                  "or custom (mix_r, mix_g, mix_b)."),
              spec::number("mix_r", {}, -2, 3, "Red weight of the custom mixer (filter: custom)."),
              spec::number("mix_g", {}, -2, 3, "Green weight of the custom mixer (filter: custom)."),
              spec::number("mix_b", {}, -2, 3,
                           "Blue weight of the custom mixer (filter: custom); the three must sum to 1."),
              spec::number("clahe", 2.0, 0, 40,
                           "CLAHE clip limit for local contrast (as at 8 bits, also for 16-bit input); 0 "
                           "turns it off."),
              spec::integer("tile", 8, 1, 64, "CLAHE grid: tiles per side."),
              spec::number("curve", 0.3, 0, 1,
                           "S-curve strength: y = (1 - curve) x + curve * smoothstep(x); 0 is no change, "
                           "mid-grey stays."),
              spec::number("grain", 0.0, 0, 1,
                           "Film grain: Gaussian noise with sigma = grain * 10 % of full scale; 0 is none."),
              spec::integer("seed", 1, 0, 2147483647,
                            "Seed of the grain; the same seed gives the same grain."),
          },
      .examples =
          {
              {{"filter", "red"}, {"clahe", 2.0}, {"curve", 0.3}, {"grain", 0.05}},
              {{"filter", "neutral"}, {"clahe", 0.0}, {"curve", 0.5}},
          },
      .create = [](const Params& p) { return std::make_unique<EnhancedBw>(p); },
      .check = [](const Params& p) -> std::string {
        const bool custom = p.text("filter") == "custom";
        const int given = (p.has("mix_r") ? 1 : 0) + (p.has("mix_g") ? 1 : 0) + (p.has("mix_b") ? 1 : 0);
        if (!custom && given > 0) return "mix_r, mix_g and mix_b need filter: custom";
        if (custom && given < 3) return "filter: custom needs all of mix_r, mix_g and mix_b";
        if (custom) {
          const double sum = p.number("mix_r") + p.number("mix_g") + p.number("mix_b");
          if (std::abs(sum - 1.0) > 1e-3)
            return fmt::format("mix_r + mix_g + mix_b must be 1 (white stays white), got {:g}", sum);
        }
        return "";
      },
  });
}

}  // namespace imgpipe::ops
