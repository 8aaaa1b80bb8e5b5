// remove_background: a foreground mask (classical: border colour model + saliency seeding
// grabCut at a small analysis size; or an ONNX segmentation model), refined at full size with a
// guided filter on the luma, then used as alpha or to composite over a colour or a blurred copy.
//
// An analysis step: the mask is the analysis, made on the image itself (direct: grabCut
// decides every pixel), on a reduced copy (scaled) or on a reduced copy and then, near its
// edge, again at full resolution (pyramid).

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string_view>
#include <vector>

#include "../../core/channels.hpp"
#include "../analysis/strategy.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

cv::Mat box(const cv::Mat& m, int radius) {
  cv::Mat out;
  cv::boxFilter(m, out, CV_32F, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1), true,
                cv::BORDER_REFLECT_101);
  return out;
}

// The colour channels as 8-bit RGB (grey replicated), alpha dropped.
cv::Mat rgb8(const cv::Mat& image) {
  cv::Mat eight = image;
  if (image.depth() != CV_8U) image.convertTo(eight, CV_8U, 1.0 / 257.0);
  cv::Mat rgb = detail::colour_as_rgb(eight);
  return rgb;
}

// Luma in 0..1 (CV_32FC1): the guide of the guided filter.
cv::Mat luma(const cv::Mat& image) {
  cv::Mat grey, out;
  switch (image.channels()) {
    case 1: grey = image; break;
    case 2: cv::extractChannel(image, grey, 0); break;
    case 3: cv::cvtColor(image, grey, cv::COLOR_RGB2GRAY); break;
    default: cv::cvtColor(image, grey, cv::COLOR_RGBA2GRAY); break;
  }
  grey.convertTo(out, CV_32F, 1.0 / ops::max_value(image));
  return out;
}

// CIELAB (D65) of 8-bit sRGB, CV_32FC3. Written out because OpenCV builds large tables the
// first time it converts to Lab, which costs more than this whole conversion.
cv::Mat srgb_to_lab(const cv::Mat& rgb) {
  std::array<float, 256> linear{};
  for (int i = 0; i < 256; ++i) {
    const double v = i / 255.0;
    linear[static_cast<std::size_t>(i)] =
        static_cast<float>(v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4));
  }
  const auto f = [](float t) { return t > 0.008856f ? std::cbrt(t) : 7.787f * t + 16.0f / 116.0f; };
  cv::Mat lab(rgb.size(), CV_32FC3);
  cv::parallel_for_(cv::Range(0, rgb.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      const auto* in = rgb.ptr<cv::Vec3b>(y);
      auto* out = lab.ptr<cv::Vec3f>(y);
      for (int x = 0; x < rgb.cols; ++x) {
        const float r = linear[in[x][0]], g = linear[in[x][1]], b = linear[in[x][2]];
        const float fx = f((0.4124f * r + 0.3576f * g + 0.1805f * b) / 0.95047f);
        const float fy = f(0.2126f * r + 0.7152f * g + 0.0722f * b);
        const float fz = f((0.0193f * r + 0.1192f * g + 0.9505f * b) / 1.08883f);
        out[x] = cv::Vec3f(116.0f * fy - 16.0f, 500.0f * (fx - fy), 200.0f * (fy - fz));
      }
    }
  });
  return lab;
}

// grabCut's pixel budget at analysis_size 512; it follows the analysed area.
constexpr double kGrabCutPixels = 64 * 1024;
constexpr int kBudgetSide = 512;

// What the analysis found at the analysed image's size: the mask (CV_32FC1, 0..1), how much
// coarser than that size grabCut decided, and grabCut's colour models (empty when it did not
// run), which the pyramid pass reuses at full resolution.
struct Estimate {
  cv::Mat mask;
  double cut_scale = 1;
  cv::Mat background_model, foreground_model;
};
// Seeds this thread's cv::theRNG() (which cv::kmeans and cv::grabCut draw from) for its
// lifetime, so the same image gives the same mask; the caller's state comes back after.
class FixedSeed {
 public:
  explicit FixedSeed(std::uint64_t seed) : saved_(cv::theRNG().state) { cv::theRNG().state = seed; }
  ~FixedSeed() { cv::theRNG().state = saved_; }
  FixedSeed(const FixedSeed&) = delete;
  FixedSeed& operator=(const FixedSeed&) = delete;

 private:
  std::uint64_t saved_;
};

// `max_cut_pixels` bounds the pixels grabCut labels (0 = none: every pixel at its own size).
Estimate classical_mask(const cv::Mat& rgb, double border_fraction, int iterations, bool frame,
                        double max_cut_pixels) {
  const FixedSeed seed(0x5eed);
  const int band = std::max(2, static_cast<int>(std::lround(border_fraction * std::min(rgb.cols, rgb.rows))));
  const cv::Rect inner(band, band, rgb.cols - 2 * band, rgb.rows - 2 * band);
  if (inner.width <= 0 || inner.height <= 0)
    throw Error(
        ErrorCategory::unsupported,
        fmt::format("remove_background: an image of {}x{} is too small to tell background from foreground",
                    rgb.cols, rgb.rows));
  cv::Mat band_mask(rgb.size(), CV_8U, cv::Scalar(255));
  band_mask(inner).setTo(0);

  // Saliency: distance in CIELAB to the nearest colour of the border band. Eight k-means
  // centres follow gradients and a few textures of the background well enough.
  const cv::Mat lab = srgb_to_lab(rgb);
  std::vector<cv::Vec3f> samples;
  const int every = std::max(1, cv::countNonZero(band_mask) / 4000);
  int seen = 0;
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x)
      if (band_mask.at<std::uint8_t>(y, x) && seen++ % every == 0) samples.push_back(lab.at<cv::Vec3f>(y, x));
  const int k = std::min(8, static_cast<int>(samples.size()));
  cv::Mat labels, centres;
  cv::Mat sample_mat(static_cast<int>(samples.size()), 3, CV_32F, samples.data());
  cv::kmeans(sample_mat, k, labels,
             cv::TermCriteria(cv::TermCriteria::COUNT + cv::TermCriteria::EPS, 20, 0.5), 2,
             cv::KMEANS_PP_CENTERS, centres);

  cv::Mat distance(lab.size(), CV_32F);
  cv::parallel_for_(cv::Range(0, lab.rows), [&](const cv::Range& rows) {
    for (int y = rows.start; y < rows.end; ++y) {
      const auto* in = lab.ptr<cv::Vec3f>(y);
      auto* out = distance.ptr<float>(y);
      for (int x = 0; x < lab.cols; ++x) {
        float best = std::numeric_limits<float>::max();
        for (int c = 0; c < centres.rows; ++c) {
          const float* centre = centres.ptr<float>(c);
          const float d0 = in[x][0] - centre[0], d1 = in[x][1] - centre[1], d2 = in[x][2] - centre[2];
          best = std::min(best, d0 * d0 + d1 * d1 + d2 * d2);
        }
        out[x] = std::sqrt(best);
      }
    }
  });
  cv::GaussianBlur(distance, distance, cv::Size(5, 5), 0);
  // How far the band itself strays from its centres sets the scale of ordinary background.
  std::vector<float> band_distances;
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x)
      if (band_mask.at<std::uint8_t>(y, x)) band_distances.push_back(distance.at<float>(y, x));
  const auto q90 = band_distances.begin() + static_cast<std::ptrdiff_t>(band_distances.size() * 9 / 10);
  std::nth_element(band_distances.begin(), q90, band_distances.end());
  const float threshold = std::max(2.0f * *q90, 8.0f);  // 8: a clearly visible CIELAB difference

  cv::Mat mask(rgb.size(), CV_8U, cv::Scalar(frame ? cv::GC_PR_FGD : cv::GC_PR_BGD));
  if (frame)
    mask.setTo(cv::GC_PR_BGD, distance < 0.5 * static_cast<double>(threshold));
  else
    mask.setTo(cv::GC_PR_FGD, distance > static_cast<double>(threshold));
  mask.setTo(cv::GC_PR_BGD, band_mask);
  if (cv::countNonZero(mask == cv::GC_PR_FGD) < static_cast<int>(rgb.total() / 200)) {
    const cv::Rect centre(rgb.cols / 3, rgb.rows / 3, std::max(1, rgb.cols / 3), std::max(1, rgb.rows / 3));
    mask(centre).setTo(cv::GC_PR_FGD);
  }

  // grabCut's cost grows with the pixels it labels (about 2 ms per thousand pixels and
  // iteration): it runs on the candidates' bounding box widened by a margin, everything
  // outside which stays background, and that box is shrunk to at most max_cut_pixels.
  const int margin = std::max(band, std::max(rgb.cols, rgb.rows) / 10);
  cv::Rect roi = cv::boundingRect(mask == cv::GC_PR_FGD);
  roi = cv::Rect(roi.x - margin, roi.y - margin, roi.width + 2 * margin, roi.height + 2 * margin) &
        cv::Rect(0, 0, rgb.cols, rgb.rows);
  const double shrink = max_cut_pixels > 0 ? std::min(1.0, std::sqrt(max_cut_pixels / roi.area())) : 1.0;
  const cv::Size cut_size(std::max(8, static_cast<int>(std::lround(roi.width * shrink))),
                          std::max(8, static_cast<int>(std::lround(roi.height * shrink))));
  cv::Mat cut_rgb = rgb(roi), cut_mask = mask(roi).clone();
  if (cut_size != roi.size()) {
    cv::resize(rgb(roi), cut_rgb, cut_size, 0, 0, cv::INTER_AREA);
    cv::resize(mask(roi), cut_mask, cut_size, 0, 0, cv::INTER_NEAREST);
  }
  // The outermost ring anchors the background model.
  cv::rectangle(cut_mask, cv::Rect(0, 0, cut_size.width, cut_size.height), cv::Scalar(cv::GC_BGD), 1);
  // grabCut fits five Gaussians to each side and fails with fewer samples than that; on so
  // small a region the seeds stand as they are.
  const int seeded = cv::countNonZero(cut_mask == cv::GC_PR_FGD);
  Estimate estimate;
  if (seeded >= 16 && static_cast<int>(cut_mask.total()) - seeded >= 16)
    cv::grabCut(cut_rgb, cut_mask, cv::Rect(), estimate.background_model, estimate.foreground_model,
                iterations, cv::GC_INIT_WITH_MASK);
  cv::Mat foreground, foreground_f;
  foreground = (cut_mask == cv::GC_FGD) | (cut_mask == cv::GC_PR_FGD);
  foreground.convertTo(foreground_f, CV_32F, 1.0 / 255.0);
  cv::Mat out = cv::Mat::zeros(rgb.size(), CV_32F);
  cv::Mat out_roi = out(roi);  // same type and size: resize and copyTo write into `out`
  if (cut_size != roi.size())
    cv::resize(foreground_f, out_roi, roi.size(), 0, 0, cv::INTER_LINEAR);
  else
    foreground_f.copyTo(out_roi);
  estimate.mask = out;
  estimate.cut_scale = 1.0 / shrink;
  return estimate;
}

// model mode, pyramid: grabCut's colour models learned from the network's mask (one round at
// the classical budget), so the full-resolution pass has the same models to decide with.
void learn_colour_models(const cv::Mat& rgb, Estimate& estimate) {
  const FixedSeed seed(0x5eed);
  const double shrink = std::min(1.0, std::sqrt(kGrabCutPixels / static_cast<double>(rgb.total())));
  const cv::Size size(std::max(8, static_cast<int>(std::lround(rgb.cols * shrink))),
                      std::max(8, static_cast<int>(std::lround(rgb.rows * shrink))));
  cv::Mat small_rgb, small_mask;
  cv::resize(rgb, small_rgb, size, 0, 0, cv::INTER_AREA);
  cv::resize(estimate.mask, small_mask, size, 0, 0, cv::INTER_AREA);
  cv::Mat labels(size, CV_8U, cv::Scalar(cv::GC_PR_BGD));
  labels.setTo(cv::GC_PR_FGD, small_mask >= 0.5);
  const int foreground = cv::countNonZero(labels == cv::GC_PR_FGD);
  if (foreground < 16 || static_cast<int>(labels.total()) - foreground < 16) return;
  cv::grabCut(small_rgb, labels, cv::Rect(), estimate.background_model, estimate.foreground_model, 1,
              cv::GC_INIT_WITH_MASK);
}

// The image shrunk (area averaging) so its long side is `side`; as it is when not larger.
cv::Mat shrink_to(const cv::Mat& src, int side) {
  const int long_side = std::max(src.cols, src.rows);
  if (long_side <= side) return src;
  const double s = static_cast<double>(side) / long_side;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(src.cols * s))),
                      std::max(1, static_cast<int>(std::lround(src.rows * s))));
  cv::Mat out;
  cv::resize(src, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

// The analysis: the mask of `analysed`, which is the image itself for direct and a copy shrunk
// to options.analysis_size otherwise.
Estimate estimate_foreground(const cv::Mat& analysed, const ForegroundOptions& options) {
  if (options.model) {
    Estimate estimate;
    estimate.mask = options.model->predict(analysed);
    if (options.strategy == Strategy::pyramid) {
      cv::Mat at_mask_size;
      cv::resize(rgb8(analysed), at_mask_size, estimate.mask.size(), 0, 0, cv::INTER_AREA);
      learn_colour_models(at_mask_size, estimate);
    }
    return estimate;
  }
  const double side = static_cast<double>(options.analysis_size) / kBudgetSide;
  const double budget = options.strategy == Strategy::direct ? 0.0 : kGrabCutPixels * side * side;
  return classical_mask(rgb8(analysed), options.border, std::max(1, options.iterations), options.frame,
                        budget);
}

// The pixels within `reach` analysis pixels of the mask's edge, at full size (CV_8UC1, 255).
cv::Mat edge_band(const cv::Mat& coarse, int reach, cv::Size full) {
  const cv::Mat decided = coarse >= 0.5;
  const cv::Mat kernel = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * reach + 1, 2 * reach + 1));
  cv::Mat grown, shrunk, band;
  cv::dilate(decided, grown, kernel);
  cv::erode(decided, shrunk, kernel);
  cv::Mat small_band = grown != shrunk;
  cv::resize(small_band, band, full, 0, 0, cv::INTER_NEAREST);
  return band;
}

// pyramid: the pixels in `band` decided again at full resolution by grabCut on 64-pixel tiles
// that touch the band, each grown by 16 pixels of context; every other pixel is fixed to
// `decided`. In each tile grabCut starts from the analysis's colour models and re-learns them
// from the tile's own full-resolution pixels (GC_EVAL) before it cuts: models learned on the
// reduced copy have seen averaged colours, and full-resolution texture and noise fit them
// badly. A tile without enough pixels of each side to learn from keeps `decided`. grabCut's
// cost follows the pixels it is given, so it only sees the band's neighbourhood. Returns the
// new decision (CV_8UC1, 0/255).
cv::Mat decide_band(const cv::Mat& rgb, const cv::Mat& decided, const cv::Mat& band,
                    const Estimate& estimate) {
  constexpr int kTile = 32, kContext = 12, kLearnable = 64;
  std::vector<cv::Rect> tiles;
  const cv::Rect whole(0, 0, rgb.cols, rgb.rows);
  for (int y = 0; y < rgb.rows; y += kTile)
    for (int x = 0; x < rgb.cols; x += kTile) {
      const cv::Rect core = cv::Rect(x, y, kTile, kTile) & whole;
      if (cv::countNonZero(band(core)) > 0) tiles.push_back(core);
    }
  cv::Mat out = decided.clone();
  cv::parallel_for_(cv::Range(0, static_cast<int>(tiles.size())), [&](const cv::Range& range) {
    for (int t = range.start; t < range.end; ++t) {
      const cv::Rect core = tiles[static_cast<std::size_t>(t)];
      const cv::Rect grown = cv::Rect(core.x - kContext, core.y - kContext, core.width + 2 * kContext,
                                      core.height + 2 * kContext) &
                             whole;
      cv::Mat labels(grown.size(), CV_8U);
      int foreground = 0;
      for (int y = 0; y < grown.height; ++y) {
        const std::uint8_t* d = decided.ptr<std::uint8_t>(grown.y + y) + grown.x;
        const std::uint8_t* b = band.ptr<std::uint8_t>(grown.y + y) + grown.x;
        std::uint8_t* l = labels.ptr<std::uint8_t>(y);
        for (int x = 0; x < grown.width; ++x) {
          l[x] = static_cast<std::uint8_t>(b[x] ? (d[x] ? cv::GC_PR_FGD : cv::GC_PR_BGD)
                                                : (d[x] ? cv::GC_FGD : cv::GC_BGD));
          foreground += d[x] ? 1 : 0;
        }
      }
      if (foreground < kLearnable || static_cast<int>(labels.total()) - foreground < kLearnable) continue;
      // grabCut updates the models it is given: each tile gets its own copies.
      cv::Mat background = estimate.background_model.clone(),
              foreground_model = estimate.foreground_model.clone();
      cv::grabCut(rgb(grown), labels, cv::Rect(), background, foreground_model, 1, cv::GC_EVAL);
      const cv::Rect inner(core.x - grown.x, core.y - grown.y, core.width, core.height);
      cv::Mat target = out(core);
      const cv::Mat foreground_labels = (labels(inner) & 1) != 0;  // GC_FGD and GC_PR_FGD are odd
      foreground_labels.copyTo(target);
    }
  });
  return out;
}

// The analysis applied: the mask at full size, refined with the guided filter (and first, for
// pyramid, near its edge by decide_band()); alpha multiplied in.
cv::Mat finish_foreground(const cv::Mat& src, const Estimate& estimate, const ForegroundOptions& options,
                          int depth) {
  cv::Mat full;
  cv::resize(estimate.mask, full, src.size(), 0, 0, cv::INTER_LINEAR);
  double scale = estimate.cut_scale * std::max(static_cast<double>(src.cols) / estimate.mask.cols,
                                               static_cast<double>(src.rows) / estimate.mask.rows);
  if (options.strategy == Strategy::pyramid && scale > 1 && !estimate.foreground_model.empty()) {
    const int reach = static_cast<int>(std::ceil(estimate.cut_scale));
    const cv::Mat decided =
        decide_band(rgb8(src), full >= 0.5, edge_band(estimate.mask, reach, src.size()), estimate);
    decided.convertTo(full, CV_32F, 1.0 / 255.0);
    scale = 1;  // the edge is now decided at full resolution
  }
  const int radius =
      options.radius > 0 ? options.radius : std::max(4, static_cast<int>(std::ceil(2 * scale)) + 4);
  cv::Mat mask;
  guided_filter(luma(src), full, mask, radius, options.eps);
  cv::min(cv::max(mask, 0.0), 1.0, mask);
  if (ops::has_alpha(src)) {
    cv::Mat alpha;
    cv::extractChannel(src, alpha, src.channels() - 1);
    alpha.convertTo(alpha, CV_32F, 1.0 / ops::max_value(src));
    cv::multiply(mask, alpha, mask);
  }
  if (depth == CV_8U) {
    cv::Mat eight;
    mask.convertTo(eight, CV_8U, 255.0);
    return eight;
  }
  return mask;
}

}  // namespace

void guided_filter(cv::InputArray guide, cv::InputArray src, cv::OutputArray dst, int radius, double eps) {
  CV_Assert(guide.channels() == 1 && src.channels() == 1 && guide.size() == src.size());
  cv::Mat I, p;
  guide.getMat().convertTo(I, CV_32F);
  src.getMat().convertTo(p, CV_32F);
  const cv::Mat mean_I = box(I, radius), mean_p = box(p, radius);
  const cv::Mat corr_Ip = box(I.mul(p), radius), corr_II = box(I.mul(I), radius);
  const cv::Mat cov_Ip = corr_Ip - mean_I.mul(mean_p), var_I = corr_II - mean_I.mul(mean_I);
  cv::Mat a, b;
  cv::divide(cov_Ip, var_I + eps, a);
  b = mean_p - a.mul(mean_I);
  cv::Mat q = box(a, radius).mul(I) + box(b, radius);
  dst.assign(q);
}

cv::Mat foreground_mask(cv::InputArray src_array, const ForegroundOptions& options, int depth) {
  const cv::Mat src = src_array.getMat();
  if (src.empty()) throw Error(ErrorCategory::unsupported, "remove_background: empty image");
  const bool reduce = !options.model && options.strategy != Strategy::direct;
  const Estimate estimate =
      estimate_foreground(reduce ? shrink_to(src, options.analysis_size) : src, options);
  return finish_foreground(src, estimate, options, depth);
}

void apply_foreground_mask(cv::InputArray src_array, cv::InputArray mask_array, cv::OutputArray dst,
                           const RemoveBackgroundOptions& options) {
  const cv::Mat src = src_array.getMat();
  cv::Mat mask;
  mask_array.getMat().convertTo(mask, CV_32F, mask_array.depth() == CV_8U ? 1.0 / 255.0 : 1.0);
  CV_Assert(mask.size() == src.size() && mask.channels() == 1);
  const double max = ops::max_value(src);
  cv::Mat out;
  switch (options.output) {
    case BackgroundOutput::rgba: {
      cv::Mat alpha;
      mask.convertTo(alpha, src.depth(), max);
      std::vector<cv::Mat> planes;
      cv::split(src, planes);
      if (ops::has_alpha(src))
        planes.back() = alpha;
      else
        planes.push_back(alpha);
      cv::merge(planes, out);
      break;
    }
    case BackgroundOutput::colour: {
      cv::Mat widened_storage;
      const cv::Mat& widened = ops::widened_for(src, widened_storage, options.background);
      out.create(widened.size(), widened.type());
      out.setTo(ops::to_scalar(options.background, widened.channels(), widened.depth()));
      cv::Mat colour, overlay;
      if (ops::has_alpha(widened)) {
        const int n = widened.channels() - 1;
        colour.create(widened.size(), CV_MAKETYPE(widened.depth(), n));
        std::vector<int> from_to;
        for (int c = 0; c < n; ++c) from_to.insert(from_to.end(), {c, c});
        cv::mixChannels(std::vector<cv::Mat>{widened}, std::vector<cv::Mat>{colour}, from_to);
      } else {
        colour = widened;
      }
      colour.convertTo(overlay, CV_32F);
      ops::blend_into(out, overlay, mask, cv::Point(0, 0));
      break;
    }
    case BackgroundOutput::blur: {
      cv::Mat blurred, a, b, weight, inverse;
      gaussian_blur(src, blurred, GaussianBlurOptions{.sigma = options.blur_sigma});
      src.convertTo(a, CV_32F);
      blurred.convertTo(b, CV_32F);
      const int n = src.channels();
      cv::Mat planes[] = {mask, mask, mask, mask};
      cv::merge(planes, static_cast<std::size_t>(n), weight);
      cv::subtract(cv::Scalar::all(1.0), weight, inverse);
      cv::Mat mixed = a.mul(weight) + b.mul(inverse);
      mixed.convertTo(out, src.depth());
      break;
    }
  }
  dst.assign(out);
}

void remove_background(cv::InputArray src, cv::OutputArray dst, const RemoveBackgroundOptions& options) {
  const cv::Mat mask = foreground_mask(src, options.foreground);
  apply_foreground_mask(src, mask, dst, options);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

// "0.485,0.456,0.406" (commas and/or spaces) as three numbers; nullopt otherwise.
std::optional<std::array<double, 3>> parse_triple(std::string_view text) {
  std::array<double, 3> out{};
  std::size_t n = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && (*p == ',' || *p == ' ' || *p == '\t')) ++p;
    if (p == end) break;
    if (n == 3) return std::nullopt;
    const auto [next, ec] = std::from_chars(p, end, out[n]);
    if (ec != std::errc() || next == p) return std::nullopt;
    p = next;
    ++n;
  }
  if (n != 3) return std::nullopt;
  return out;
}

// `method`, or its deprecated alias `mode`; classical when neither is given.
std::string method_of(const Params& p) {
  if (p.has("method")) return p.text("method");
  if (p.has("mode")) return p.text("mode");
  return "classical";
}

std::string check_params(const Params& p) {
  if (p.has("method") && p.has("mode") && p.text("method") != p.text("mode"))
    return fmt::format(
        "method \"{}\" and mode \"{}\" disagree (mode is the deprecated name of method): give method only",
        p.text("method"), p.text("mode"));
  if (p.has("mean") && !parse_triple(p.text("mean")))
    return fmt::format(
        "remove_background.mean: expected three numbers such as \"0.485,0.456,0.406\", got \"{}\"",
        p.text("mean"));
  if (p.has("std")) {
    const auto std_dev = parse_triple(p.text("std"));
    if (!std_dev)
      return fmt::format(
          "remove_background.std: expected three numbers such as \"0.229,0.224,0.225\", got \"{}\"",
          p.text("std"));
    for (const double s : *std_dev)
      if (!(std::abs(s) > 0)) return "remove_background.std: every value must be non-zero";
  }
  if (method_of(p) == "model" && p.text("model").empty())
    return "remove_background.model: method \"model\" needs a model name (isnet) or the path of an ONNX "
           "model";
  return check_analysis_params(p, "remove_background");
}

// A model name that no folder holds: which folders were searched and how to get it.
Error missing_model(const std::string& name) {
  std::vector<std::string> candidates;
  for (const auto& folder : kernels::segmentation_model_folders())
    candidates.push_back((folder / (name + ".onnx")).string());
  const std::string remedy =
      kernels::known_segmentation_model(name)
          ? fmt::format("install it with `tools/fetch-model {}` (from the imgpipe source tree)", name)
          : fmt::format("put {}.onnx in one of those folders or give the model's path", name);
  return Error(ErrorCategory::config,
               fmt::format("remove_background.model: no model named \"{}\": looked for {}; {}", name,
                           fmt::join(candidates, ", "), remedy));
}

// The network `model` names, with the preprocessing of a known name unless the step sets its own.
kernels::SegmentationModelOptions model_options(const Params& p) {
  const std::string& given = p.text("model");
  kernels::SegmentationModelOptions model;
  if (kernels::is_segmentation_model_name(given)) {
    if (const auto known = kernels::known_segmentation_model(given)) model = *known;
    const auto found = kernels::find_segmentation_model(given);
    if (!found) throw missing_model(given);
    model.path = found->string();
  } else {
    model.path = given;
  }
  if (p.has("model_size")) model.size = static_cast<int>(p.integer("model_size"));
  if (p.has("mean")) model.mean = *parse_triple(p.text("mean"));
  if (p.has("std")) model.std = *parse_triple(p.text("std"));
  model.output_index = static_cast<int>(p.integer("output_index"));
  model.invert = p.boolean("invert");
  return model;
}

class RemoveBackground final : public Operation {
 public:
  explicit RemoveBackground(const Params& p) {
    auto& fg = options_.foreground;
    fg.analysis_size = static_cast<int>(p.integer("analysis_size"));  // 0: set per image from the plan
    fg.iterations = static_cast<int>(p.integer("iterations"));
    fg.border = p.number("border");
    fg.frame = p.text("seed") == "frame";
    fg.radius = static_cast<int>(p.integer("radius"));
    fg.eps = p.number("eps");
    const std::string& output = p.text("output");
    options_.output = output == "color"  ? kernels::BackgroundOutput::colour
                      : output == "blur" ? kernels::BackgroundOutput::blur
                                         : kernels::BackgroundOutput::rgba;
    options_.background = p.colour("background");
    options_.blur_sigma = p.number("blur");
    if (method_of(p) == "model") {
      const kernels::SegmentationModelOptions model = model_options(p);
      const std::string& given = p.text("model");
      model_label_ = kernels::is_segmentation_model_name(given)
                         ? given
                         : std::filesystem::path(given).filename().string();
      // Digested first (a regular file of at most 4 GB, never a device or a pipe) for the
      // chain's canonical form, then loaded once when the chain is built: a bad model fails
      // before any image is read.
      model_digest_ = file_digest(model.path, "remove_background model", std::uint64_t{4} << 30);
      fg.model = std::make_shared<const kernels::SegmentationModel>(model);
    }
  }

  std::string resources_digest() const override { return model_digest_; }

  // The network resizes the full image to its own input size itself (INTER_AREA): a copy
  // shrunk to the analysis size first would only lose detail the network could use.
  bool reduces_itself() const override { return options_.foreground.model != nullptr; }

  // GrabCut's models, masks and float copies: measured at about 20 times the 8-bit RGB input.
  double scratch_factor() const override { return 24.0; }

  // A busy scene needs a finer analysis than a plain backdrop (rules R2 and R4, docs/quality.md);
  // a model analyses at its own input size.
  bool follows_complexity_rules() const override { return options_.foreground.model == nullptr; }

  std::unique_ptr<Analysis> analyse(const Image& analysis_image, const AnalysisPlan& plan,
                                    const Context&) const override;

  Image apply(const Image& input, const Context& context) const override {
    const AnalysisPlan direct{Strategy::direct, input.pixels.size(), input.pixels.size()};
    return analyse(input, direct, context)->apply(input, context);
  }

 private:
  kernels::RemoveBackgroundOptions options_;
  std::string model_digest_;  // of the model file's bytes, method model only
  std::string model_label_;   // the model's name, or its file's name
};

// The mask found on the analysis image, applied to the full image.
class MaskAnalysis final : public Analysis {
 public:
  // `full_size`: the image the plan applies the mask to (AnalysisPlan::full_size).
  MaskAnalysis(kernels::RemoveBackgroundOptions options, kernels::Estimate estimate, std::string model_label,
               cv::Size full_size)
      : options_(std::move(options)),
        estimate_(std::move(estimate)),
        model_label_(std::move(model_label)),
        refined_at_(full_size) {}

  Image apply(const Image& full, const Context&) const override {
    const cv::Mat mask = kernels::finish_foreground(full.pixels, estimate_, options_.foreground, CV_32F);
    cv::Mat out;
    kernels::apply_foreground_mask(full.pixels, mask, out, options_);
    return full.with_pixels(out);
  }

  // "model isnet 1024x1024, refined at 4000x3000": where the network ran and the size its mask
  // was refined at (the guided filter, and for pyramid grabCut near the edge).
  std::string summary() const override {
    if (!options_.foreground.model) return {};
    const int side = options_.foreground.model->options().size;
    return fmt::format("model {} {}x{}, refined at {}x{}", model_label_, side, side, refined_at_.width,
                       refined_at_.height);
  }

  // The same as numbers, for AnalysisReport::values (the batch report's JSON).
  std::vector<std::pair<std::string, double>> values() const override {
    if (!options_.foreground.model) return {};
    return {{"model_size", options_.foreground.model->options().size},
            {"refined_width", refined_at_.width},
            {"refined_height", refined_at_.height}};
  }

 private:
  kernels::RemoveBackgroundOptions options_;
  kernels::Estimate estimate_;
  std::string model_label_;
  cv::Size refined_at_;
};

std::unique_ptr<Analysis> RemoveBackground::analyse(const Image& analysis_image, const AnalysisPlan& plan,
                                                    const Context&) const {
  if (analysis_image.empty()) throw Error(ErrorCategory::unsupported, "remove_background: empty image");
  kernels::RemoveBackgroundOptions options = options_;
  options.foreground.strategy = plan.strategy;
  // The pixel budget of the reduced analysis follows the size it was reduced to.
  options.foreground.analysis_size = std::max(plan.analysis_size.width, plan.analysis_size.height);
  auto estimate = kernels::estimate_foreground(analysis_image.pixels, options.foreground);
  return std::make_unique<MaskAnalysis>(std::move(options), std::move(estimate), model_label_,
                                        plan.full_size);
}

}  // namespace

IMGPIPE_REGISTER_OPERATION(remove_background) {
  registry.add(OpDescriptor{
      .name = "remove_background",
      .family = "effects",
      .summary =
          "Find the foreground (grabCut seeded from the border and colour saliency, or an ONNX segmentation "
          "model), refine its edges with a guided filter, and make the background transparent, a colour or "
          "blurred. An existing alpha is multiplied into the mask.",
      .footprint = Footprint::global,
      .params =
          {
              ParamSpec{"method",
                        ParamType::choice,
                        Value(),
                        0,
                        0,
                        {"classical", "model"},
                        "classical (when unset): grabCut, no model needed; model: run the ONNX network that "
                        "`model` names."},
              ParamSpec{"mode",
                        ParamType::choice,
                        Value(),
                        0,
                        0,
                        {"classical", "model"},
                        "Deprecated name of `method` (giving both with different values is an error)."},
              spec::choice("output", "rgba", {"rgba", "color", "blur"},
                           "rgba: the mask becomes alpha; color: composite over `background`; blur: "
                           "composite over a blurred copy."),
              spec::colour("background", "white", "Background colour for output: color."),
              spec::number("blur", 12.0, 0.5, 200,
                           "Sigma of the background blur for output: blur, in pixels."),
              spec::integer("iterations", 2, 1, 20, "classical: grabCut iterations."),
              spec::choice(
                  "seed", "saliency", {"saliency", "frame"},
                  "classical: where the foreground search starts: saliency (colours unlike the border's, "
                  "anywhere) or frame (everything inside the border band but colours close to the border's: "
                  "keeps more of a centred subject, as in most product and portrait photos)."),
              spec::number(
                  "border", 0.06, 0.01, 0.4,
                  "classical: width of the band taken as background, as a fraction of the short side."),
              spec::integer("radius", 0, 0, 256,
                            "Guided filter radius in pixels for the edge refinement; 0 = twice the upscaling "
                            "factor + 4."),
              spec::number("eps", 1e-3, 1e-7, 1,
                           "Guided filter regularisation (the luma guide is in 0..1): smaller follows edges "
                           "more closely."),
              spec::path("model", "",
                         "model: a name (`isnet`: installed by `tools/fetch-model isnet`; any name without "
                         "`/` or `.onnx` is looked up as NAME.onnx in $IMGPIPE_MODEL_DIR, "
                         "${XDG_DATA_HOME:-~/.local/share}/imgpipe/models, then the install prefix's "
                         "share/imgpipe/models) or the path of an ONNX segmentation model.",
                         {"isnet"}),
              spec::integer("model_size", Value(), 16, 4096,
                            "model: the square input size of the network; unset: the named model's (isnet "
                            "1024), else 320."),
              spec::text("mean", Value(),
                         "model: per-channel mean subtracted from RGB samples in 0..1; unset: the named "
                         "model's (isnet 128/255 each), else \"0.485,0.456,0.406\"."),
              spec::text("std", Value(),
                         "model: per-channel divisor applied after the mean; unset: the named model's (isnet "
                         "256/255 each), else \"0.229,0.224,0.225\"."),
              spec::integer("output_index", 0, 0, 1024,
                            "model: which of the network's outputs is the mask (1x1xHxW probabilities or "
                            "logits; with C channels, channel 0 is background)."),
              spec::boolean("invert", false, "model: the network marks the background, not the foreground."),
              strategy_spec(
                  "scaled, then the pixels near the mask's edge decided again at full resolution, by "
                  "grabCut on tiles along that edge"),
              analysis_size_spec(),
          },
      .examples =
          {
              {{"method", "classical"}, {"output", "rgba"}},
              {{"method", "classical"}, {"output", "blur"}, {"blur", 8.0}},
          },
      .presets = {.ultra =
                      "classical: grabCut on the whole image; model: the network at its input size, the mask "
                      "refined at full size (the same at every preset)",
                  .high =
                      "classical: from 800 px grabCut on a copy of 1024 px long side (× 0.75 or 1.5 by "
                      "complexity), above 2000 px the edge decided again at full size; the mask refined at "
                      "full size",
                  .balanced = "classical: as high, on a 512 px copy",
                  .fast = "classical: as high, on a 384 px copy",
                  .draft = "classical: as high, on a 256 px copy"},
      .create = [](const Params& p) { return std::make_unique<RemoveBackground>(p); },
      .check = check_params,
  });
}

}  // namespace imgpipe::ops
