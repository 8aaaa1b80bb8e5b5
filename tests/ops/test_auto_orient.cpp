// auto_orient: every EXIF orientation, built from an upright image by the definition of the
// tag and undone exactly.
#include <gtest/gtest.h>

#include <cstring>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// EXIF 2.3, tag 0x0112: for each value, where the stored image's 0th row and 0th column are
// in the upright picture. Returns the upright position (column, row) of stored pixel (sx, sy),
// for an upright image of width w and height h.
cv::Point upright_position(int orientation, int sx, int sy, int w, int h) {
  switch (orientation) {
    case 2: return {w - 1 - sx, sy};          // row 0 at the top, column 0 on the right
    case 3: return {w - 1 - sx, h - 1 - sy};  // row 0 at the bottom, column 0 on the right
    case 4: return {sx, h - 1 - sy};          // row 0 at the bottom, column 0 on the left
    case 5: return {sy, sx};                  // row 0 on the left, column 0 at the top
    case 6: return {w - 1 - sy, sx};          // row 0 on the right, column 0 at the top
    case 7: return {w - 1 - sy, h - 1 - sx};  // row 0 on the right, column 0 at the bottom
    case 8: return {sy, h - 1 - sx};          // row 0 on the left, column 0 at the bottom
    default: return {sx, sy};                 // 1: row 0 at the top, column 0 on the left
  }
}

// The pixels a camera would store for `upright` with the given orientation.
cv::Mat stored_for(const cv::Mat& upright, int orientation) {
  const bool transposed = orientation >= 5;
  const int w = upright.cols, h = upright.rows;
  cv::Mat stored(transposed ? w : h, transposed ? h : w, upright.type());
  const std::size_t pixel = upright.elemSize();
  for (int sy = 0; sy < stored.rows; ++sy)
    for (int sx = 0; sx < stored.cols; ++sx) {
      const cv::Point at = upright_position(orientation, sx, sy, w, h);
      std::memcpy(stored.ptr(sy) + static_cast<std::size_t>(sx) * pixel,
                  upright.ptr(at.y) + static_cast<std::size_t>(at.x) * pixel, pixel);
    }
  return stored;
}

}  // namespace

TEST(AutoOrient, RestoresEveryOrientationExactly) {
  struct Layout {
    int channels, depth;
  };
  for (Layout f :
       {Layout{3, CV_8U}, Layout{4, CV_8U}, Layout{1, CV_8U}, Layout{2, CV_16U}, Layout{4, CV_16U}}) {
    // Not square and noisy, so every mirror and rotation of it is different.
    const cv::Mat upright = test::make_image(13, 7, f.channels, f.depth, 3);
    for (int orientation = 1; orientation <= 8; ++orientation) {
      SCOPED_TRACE(testing::Message()
                   << "orientation " << orientation << ", " << f.channels << " channels, depth " << f.depth);
      Image stored(stored_for(upright, orientation));
      stored.orientation = orientation;
      ASSERT_EQ(orientation == 1, test::identical(stored.pixels, upright));  // the test image is asymmetric
      const Image out = Chain().then("auto_orient").run(stored, Context{});
      EXPECT_TRUE(test::identical(out.pixels, upright));
      EXPECT_EQ(out.orientation, 1);
    }
  }
}

TEST(AutoOrient, UnknownOrientationLeavesPixelsAsTheyAre) {
  const cv::Mat src = test::make_image(9, 5, 3);
  Image stored(src);
  stored.orientation = 9;
  const Image out = Chain().then("auto_orient").run(stored, Context{});
  EXPECT_TRUE(test::identical(out.pixels, src));
  EXPECT_EQ(out.orientation, 1);
}

TEST(AutoOrientKernel, WritesItsOwnPixelsOnMatAndUMat) {
  const cv::Mat upright = test::make_image(10, 6, 3, CV_16U);
  cv::Mat out;
  kernels::auto_orient(upright, out, {.orientation = 1});
  EXPECT_TRUE(test::identical(out, upright));
  EXPECT_NE(out.data, upright.data);  // a copy: writing to it must not change the input
  const cv::Mat stored = stored_for(upright, 6);
  cv::UMat device_stored = stored.getUMat(cv::ACCESS_READ), device_out;
  kernels::auto_orient(device_stored, device_out, {.orientation = 6});
  EXPECT_TRUE(test::identical(device_out.getMat(cv::ACCESS_READ), upright));
}
