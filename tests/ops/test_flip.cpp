// flip: horizontal, vertical and both, exact against a per-pixel loop.
#include <gtest/gtest.h>

#include <cstring>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

// out(x, y) = in(mirrored x, mirrored y), copying each pixel's bytes.
cv::Mat naive_flip(const cv::Mat& in, bool mirror_x, bool mirror_y) {
  cv::Mat out(in.size(), in.type());
  const std::size_t pixel = in.elemSize();
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const int from_x = mirror_x ? in.cols - 1 - x : x, from_y = mirror_y ? in.rows - 1 - y : y;
      std::memcpy(out.ptr(y) + static_cast<std::size_t>(x) * pixel,
                  in.ptr(from_y) + static_cast<std::size_t>(from_x) * pixel, pixel);
    }
  return out;
}

struct Layout {
  int channels, depth;
};
const Layout kFormats[] = {{1, CV_8U},  {2, CV_8U},  {3, CV_8U}, {4, CV_8U},
                           {1, CV_16U}, {3, CV_16U}, {4, CV_16U}};

}  // namespace

TEST(Flip, EveryDirectionMatchesAPerPixelMirror) {
  struct Direction {
    const char* name;
    bool x, y;
  };
  for (Layout f : kFormats)
    for (Direction d : {Direction{"horizontal", true, false}, Direction{"vertical", false, true},
                        Direction{"both", true, true}}) {
      SCOPED_TRACE(testing::Message() << d.name << ", " << f.channels << " channels, depth " << f.depth);
      const cv::Mat src =
          test::make_image(37, 23, f.channels, f.depth);  // odd sizes: a middle row and column
      const cv::Mat out = Chain().then("flip", {{"direction", d.name}}).run(Image(src), Context{}).pixels;
      EXPECT_TRUE(test::identical(out, naive_flip(src, d.x, d.y)));
    }
}

TEST(Flip, DefaultIsHorizontal) {
  const cv::Mat src = test::make_image(16, 9, 3);
  EXPECT_TRUE(
      test::identical(Chain().then("flip").run(Image(src), Context{}).pixels, naive_flip(src, true, false)));
}

TEST(FlipKernel, WorksOnMatAndUMatAndInPlace) {
  const cv::Mat src = test::make_image(20, 11, 4, CV_16U);
  cv::UMat device_src = src.getUMat(cv::ACCESS_READ), device_out;
  kernels::flip(device_src, device_out, {.direction = kernels::FlipDirection::vertical});
  EXPECT_TRUE(test::identical(device_out.getMat(cv::ACCESS_READ), naive_flip(src, false, true)));
  cv::Mat in_place = src.clone();
  kernels::flip(in_place, in_place, {.direction = kernels::FlipDirection::both});
  EXPECT_TRUE(test::identical(in_place, naive_flip(src, true, true)));
}
