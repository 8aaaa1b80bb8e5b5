// Area-averaging downscale: OpenCV's INTER_AREA weights, and an 8-bit fixed-point kernel.

#include "area.hpp"

#include <algorithm>
#include <cmath>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace imgpipe::ops {

namespace {

constexpr int kOne = 1 << 14;  // fixed-point weights: 14 fractional bits

// Columns of one row of row sums (8 fractional bits) weighted and rounded to 8 bits. Channels
// and Width are the channel count and the table's width when known at compile time (then the
// loops unroll), 0 to take them at run time.
template <int Channels, int Width>
void columns_fixed(const std::uint16_t* sums, std::uint8_t* out, const AreaTable& columns, int from,
                   int count, int origin, int channels) {
  const int cn = Channels ? Channels : channels;
  const int width = Width ? Width : columns.width();
  for (int x = 0; x < count; ++x) {
    const std::uint16_t* s = sums + (columns.start(from + x) - origin) * cn;
    const std::int16_t* w = columns.weights(from + x);
    std::uint32_t acc[4] = {};
    for (int k = 0; k < width; ++k)
      for (int c = 0; c < cn; ++c) acc[c] += static_cast<std::uint32_t>(w[k]) * s[k * cn + c];
    for (int c = 0; c < cn; ++c) out[x * cn + c] = static_cast<std::uint8_t>((acc[c] + (1u << 21)) >> 22);
  }
}

}  // namespace

AreaTable::AreaTable(int source_size, int target_size) {
  const double scale = static_cast<double>(source_size) / target_size;
  for (int d = 0; d < target_size; ++d) {
    first_.push_back(taps_.size());
    const double from = d * scale, to = from + scale;
    const double cell = std::min(scale, source_size - from);
    int start = static_cast<int>(std::ceil(from)), end = static_cast<int>(std::floor(to));
    end = std::min(end, source_size - 1);
    start = std::min(start, end);
    if (start - from > 1e-3) taps_.push_back({start - 1, static_cast<float>((start - from) / cell)});
    for (int s = start; s < end; ++s) taps_.push_back({s, static_cast<float>(1.0 / cell)});
    if (to - end > 1e-3)
      taps_.push_back({end, static_cast<float>(std::min(std::min(to - end, 1.0), cell) / cell)});
    width_ = std::max(width_, static_cast<int>(taps_.size() - first_.back()));
  }
  first_.push_back(taps_.size());

  // Every output reads `width_` inputs; near the end the window slides back to stay inside.
  width_ = std::min(width_, source_size);
  whole_factor_ = source_size % target_size == 0;
  fixed_.assign(static_cast<std::size_t>(target_size * width_), 0);
  for (int d = 0; d < target_size; ++d) {
    const auto [begin, end] = taps(d);
    const int start = std::clamp(begin->source, 0, source_size - width_);
    start_.push_back(start);
    std::int16_t* w = &fixed_[static_cast<std::size_t>(d * width_)];
    int sum = 0, largest = 0;
    for (const Tap* t = begin; t != end; ++t) {
      const int k = t->source - start;
      w[k] = static_cast<std::int16_t>(std::lround(t->weight * kOne));
      sum += w[k];
      if (w[k] > w[largest]) largest = k;
    }
    w[largest] = static_cast<std::int16_t>(w[largest] + kOne - sum);  // rounding left over
  }
}

std::pair<int, int> AreaTable::span(int from, int to) const {
  const auto [first_begin, first_end] = taps(from);
  const auto [last_begin, last_end] = taps(to - 1);
  return {std::min(first_begin->source, start(from)),
          std::max((last_end - 1)->source + 1, start(to - 1) + width_)};
}

void area_downscale_8u(const cv::Mat& source, cv::Point origin, const AreaTable& columns,
                       const AreaTable& rows, const cv::Rect& want, cv::Mat& out) {
  CV_Assert(source.depth() == CV_8U && source.channels() <= 4 && out.type() == source.type() &&
            out.size() == want.size());
  const auto [x0, x1] = columns.span(want.x, want.x + want.width);
  if (columns.whole_factor() && rows.whole_factor()) {
    const auto [y0, y1] = rows.span(want.y, want.y + want.height);
    return cv::resize(source(cv::Rect(x0 - origin.x, y0 - origin.y, x1 - x0, y1 - y0)), out, want.size(), 0,
                      0, cv::INTER_AREA);
  }
  const int channels = source.channels();
  const auto span = static_cast<std::size_t>((x1 - x0) * channels);
  // The column pass, chosen once: unrolled for the common layouts.
  using ColumnKernel = void (*)(const std::uint16_t*, std::uint8_t*, const AreaTable&, int, int, int, int);
  ColumnKernel kernel = columns_fixed<0, 0>;
  switch (channels * 16 + columns.width()) {
    case 3 * 16 + 2: kernel = columns_fixed<3, 2>; break;
    case 3 * 16 + 3: kernel = columns_fixed<3, 3>; break;
    case 4 * 16 + 2: kernel = columns_fixed<4, 2>; break;
    case 4 * 16 + 3: kernel = columns_fixed<4, 3>; break;
    case 1 * 16 + 2: kernel = columns_fixed<1, 2>; break;
    case 1 * 16 + 3: kernel = columns_fixed<1, 3>; break;
    default: break;
  }
  std::vector<std::uint32_t> acc(span);
  std::vector<std::uint16_t> sums(span);
  for (int y = 0; y < want.height; ++y) {
    // Rows: a weighted sum of whole rows, which the compiler vectorises.
    const int top = rows.start(want.y + y);
    const std::int16_t* w = rows.weights(want.y + y);
    std::fill(acc.begin(), acc.end(), 0u);
    for (int k = 0; k < rows.width(); ++k) {
      if (w[k] == 0) continue;
      const std::uint8_t* row = source.ptr<std::uint8_t>(top + k - origin.y) + (x0 - origin.x) * channels;
      const auto weight = static_cast<std::uint32_t>(w[k]);
      for (std::size_t i = 0; i < span; ++i) acc[i] += weight * row[i];
    }
    for (std::size_t i = 0; i < span; ++i) sums[i] = static_cast<std::uint16_t>((acc[i] + 32) >> 6);
    // Columns: the row sums, at most 65280, times weights of at most 16384 stay in 32 bits.
    kernel(sums.data(), out.ptr<std::uint8_t>(y), columns, want.x, want.width, x0, channels);
  }
}

void area_downscale(cv::InputArray input, cv::OutputArray dst, cv::Size target) {
  const cv::Mat src = input.getMat();
  const bool whole_factors = src.cols % target.width == 0 && src.rows % target.height == 0;
  const bool shrinks = target.width <= src.cols && target.height <= src.rows;
  if (src.depth() != CV_8U || whole_factors || !shrinks)
    return cv::resize(src, dst, target, 0, 0, cv::INTER_AREA);
  const AreaTable columns(src.cols, target.width), rows(src.rows, target.height);
  dst.create(target, src.type());
  cv::Mat out = dst.getMat();
  cv::parallel_for_(cv::Range(0, target.height), [&](const cv::Range& band) {
    cv::Mat part = out.rowRange(band.start, band.end);
    area_downscale_8u(src, {0, 0}, columns, rows,
                      cv::Rect(0, band.start, target.width, band.end - band.start), part);
  });
}

}  // namespace imgpipe::ops
