// Effects working together in one chain: the background-removal mask feeding the palette
// step, so only the subject is clustered and recoloured.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>
#include <set>

#include "test_support.hpp"

using namespace imgpipe;

TEST(EffectChains, RemoveBackgroundMaskFeedsThePalette) {
  // A centred orange disc on a blue-grey gradient: the subject is known.
  cv::Mat rgb(180, 240, CV_8UC3);
  cv::Mat subject = cv::Mat::zeros(rgb.size(), CV_8U);
  cv::circle(subject, {120, 90}, 50, cv::Scalar(255), cv::FILLED);
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x)
      rgb.at<cv::Vec3b>(y, x) = subject.at<std::uint8_t>(y, x)
                                    ? cv::Vec3b(230, static_cast<std::uint8_t>(100 + x / 4), 40)
                                    : cv::Vec3b(static_cast<std::uint8_t>(60 + x / 8), 120, 170);
  const Image out = Chain()
                        .then("remove_background", {{"output", "rgba"}})
                        .then("palette", {{"colors", "#102030,#f0e0d0"}, {"k", 2}, {"masked", "transparent"}})
                        .run(Image(rgb), Context());
  ASSERT_EQ(out.channels(), 4);
  std::set<std::uint32_t> subject_colours;
  int inside = 0, outside_clear = 0, outside = 0;
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      const auto* p = out.pixels.ptr<std::uint8_t>(y) + 4 * x;
      // Well inside / well outside the disc, away from the soft edge of the mask.
      const double r = std::hypot(x - 120, y - 90);
      if (r < 40) {
        ++inside;
        EXPECT_GE(p[3], 240);  // the soft mask, kept as the output alpha
        subject_colours.insert(static_cast<std::uint32_t>(p[0] << 16 | p[1] << 8 | p[2]));
      } else if (r > 65) {
        ++outside;
        outside_clear += p[3] == 0;
      }
    }
  ASSERT_GT(inside, 0);
  // The subject takes the palette's colours only; the background stays transparent.
  for (auto c : subject_colours) EXPECT_TRUE(c == 0x102030u || c == 0xf0e0d0u) << std::hex << c;
  EXPECT_GT(static_cast<double>(outside_clear) / outside, 0.98);
}
