// The area downscale's fixed-point kernel (lib/ops/geometry/area.hpp) against the definition
// of area averaging computed in double, against OpenCV's INTER_AREA, and region by region
// against the whole image.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <imgpipe/io.hpp>
#include <opencv2/imgproc.hpp>

#include "ops/geometry/area.hpp"
#include "test_support.hpp"

namespace imgpipe {
namespace {

// Each output pixel is the mean of the source over its footprint [x·sx, (x+1)·sx) ×
// [y·sy, (y+1)·sy), partial pixels counted by the area they cover, rounded half up.
cv::Mat box_average(const cv::Mat& src, cv::Size target) {
  const double sx = static_cast<double>(src.cols) / target.width,
               sy = static_cast<double>(src.rows) / target.height;
  const int cn = src.channels();
  cv::Mat out(target, src.type());
  auto overlap = [](double a0, double a1, int cell) {
    return std::max(0.0, std::min(a1, cell + 1.0) - std::max(a0, 1.0 * cell));
  };
  for (int y = 0; y < target.height; ++y) {
    const double y0 = y * sy, y1 = y0 + sy;
    for (int x = 0; x < target.width; ++x) {
      const double x0 = x * sx, x1 = x0 + sx;
      std::vector<double> sum(static_cast<std::size_t>(cn), 0.0);
      for (int v = static_cast<int>(y0); v < std::min(src.rows, static_cast<int>(std::ceil(y1))); ++v)
        for (int u = static_cast<int>(x0); u < std::min(src.cols, static_cast<int>(std::ceil(x1))); ++u) {
          const double w = overlap(y0, y1, v) * overlap(x0, x1, u);
          for (int c = 0; c < cn; ++c)
            sum[static_cast<std::size_t>(c)] += w * src.ptr<std::uint8_t>(v)[u * cn + c];
        }
      for (int c = 0; c < cn; ++c)
        out.ptr<std::uint8_t>(y)[x * cn + c] =
            static_cast<std::uint8_t>(std::floor(sum[static_cast<std::size_t>(c)] / (sx * sy) + 0.5));
    }
  }
  return out;
}

std::vector<cv::Mat> sources() {
  const cv::Mat rgb = load(test::photo("fruits.jpg")).pixels;
  const cv::Mat rgba = load(test::photo("opencv-logo-rgba.png")).pixels;
  cv::Mat grey;
  cv::cvtColor(load(test::photo("baboon.jpg")).pixels, grey, cv::COLOR_RGB2GRAY);
  return {rgb, rgba, grey};
}

// Scales that are not whole factors (the kernel's own path), one axis left alone, and one
// with a whole factor (OpenCV's path), each on 1, 3 and 4 channels.
std::vector<cv::Size> targets(cv::Size from) {
  auto scaled = [&](double sx, double sy) {
    return cv::Size(std::max(1, static_cast<int>(std::lround(from.width / sx))),
                    std::max(1, static_cast<int>(std::lround(from.height / sy))));
  };
  return {scaled(1.2, 1.2), scaled(1.6, 1.6),  scaled(2.7, 3.3),
          scaled(7.3, 7.3), scaled(1.0, 1.45), cv::Size(from.width / 2, from.height / 2)};
}

TEST(AreaDownscale, WithinOneLevelOfTheExactBoxAverageAndOfOpenCV) {
  for (const cv::Mat& src : sources()) {
    ASSERT_FALSE(src.empty());
    for (const cv::Size target : targets(src.size())) {
      SCOPED_TRACE(testing::Message() << src.cols << "x" << src.rows << "x" << src.channels() << " -> "
                                      << target.width << "x" << target.height);
      cv::Mat out, opencv;
      ops::area_downscale(src, out, target);
      cv::resize(src, opencv, target, 0, 0, cv::INTER_AREA);
      ASSERT_EQ(out.size(), target);
      ASSERT_EQ(out.type(), src.type());
      EXPECT_LE(test::max_abs_diff(out, box_average(src, target)), 1.0);
      EXPECT_LE(test::max_abs_diff(out, opencv), 1.0);
      // Off by one only where the exact mean sits near a half: a few pixels, not a bias.
      EXPECT_LT(test::mean_abs_diff(out, box_average(src, target)), 0.02);
    }
  }
}

TEST(AreaDownscale, ARegionGivesTheWholeImagesPixels) {
  for (const cv::Mat& src : sources()) {
    for (const cv::Size target : targets(src.size())) {
      SCOPED_TRACE(testing::Message()
                   << src.channels() << " channels -> " << target.width << "x" << target.height);
      cv::Mat whole;
      ops::area_downscale(src, whole, target);
      const ops::AreaTable columns(src.cols, target.width), rows(src.rows, target.height);
      for (const cv::Rect want : {cv::Rect(0, 0, target.width, target.height), cv::Rect(0, 0, 7, 5),
                                  cv::Rect(target.width / 3, target.height / 2, target.width / 2, 9),
                                  cv::Rect(target.width - 11, target.height - 3, 11, 3)}) {
        const cv::Rect inside = want & cv::Rect(0, 0, target.width, target.height);
        if (inside.empty()) continue;
        const auto [x0, x1] = columns.span(inside.x, inside.x + inside.width);
        const auto [y0, y1] = rows.span(inside.y, inside.y + inside.height);
        ASSERT_GE(x0, 0);
        ASSERT_GE(y0, 0);
        ASSERT_LE(x1, src.cols);
        ASSERT_LE(y1, src.rows);
        // Only the input span is handed over: reading outside it would read another region.
        const cv::Mat region = src(cv::Rect(x0, y0, x1 - x0, y1 - y0)).clone();
        cv::Mat out(inside.size(), src.type());
        ops::area_downscale_8u(region, {x0, y0}, columns, rows, inside, out);
        EXPECT_TRUE(test::identical(out, whole(inside)));
      }
    }
  }
}

TEST(AreaDownscale, FixedWeightsSumToOneAndFollowTheFloatWeights) {
  const std::vector<std::pair<int, int>> scales = {{1280, 1067}, {960, 800}, {512, 70}, {7, 3}};
  for (const auto& [from, to] : scales) {
    const ops::AreaTable table(from, to);
    for (int i = 0; i < to; ++i) {
      int sum = 0;
      for (int k = 0; k < table.width(); ++k) sum += table.weights(i)[k];
      EXPECT_EQ(sum, 1 << 14) << from << "->" << to << " output " << i;
      ASSERT_GE(table.start(i), 0);
      ASSERT_LE(table.start(i) + table.width(), from);
      const auto [begin, end] = table.taps(i);
      // OpenCV leaves out slivers under 1/1000 of a cell, so its float weights may sum to a
      // little under one; the fixed weights give that rest to the largest weight.
      for (const ops::AreaTable::Tap* t = begin; t != end; ++t)
        EXPECT_NEAR(table.weights(i)[t->source - table.start(i)] / 16384.0, t->weight, 1e-3 + 1.0 / 16384);
    }
  }
}

}  // namespace
}  // namespace imgpipe
