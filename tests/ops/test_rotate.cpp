// rotate: right angles bit-identical to cv::rotate; other angles on the expected canvas,
// with the centre kept, the corners in the background, and the pixels of cv::warpAffine.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat run(const cv::Mat& pixels, const ParamList& params, QualityPreset quality = QualityPreset::balanced) {
  Context context;
  context.quality = quality;
  return Chain().then("rotate", params).run(Image(pixels), context).pixels;
}

struct Layout {
  int channels, depth;
};
const Layout kLayouts[] = {{1, CV_8U},  {2, CV_8U},  {3, CV_8U}, {4, CV_8U},
                           {3, CV_16U}, {4, CV_16U}, {2, CV_16U}};

std::vector<double> pixel(const cv::Mat& m, int y, int x) {
  std::vector<double> out;
  for (int c = 0; c < m.channels(); ++c)
    out.push_back(m.depth() == CV_16U ? m.ptr<std::uint16_t>(y)[x * m.channels() + c]
                                      : m.ptr<std::uint8_t>(y)[x * m.channels() + c]);
  return out;
}

std::vector<cv::Point> corners(cv::Size size) {
  return {{0, 0}, {size.width - 1, 0}, {0, size.height - 1}, {size.width - 1, size.height - 1}};
}

// A rotation about the centre onto a canvas of `canvas`, written from the geometry: the
// input centre ((w-1)/2, (h-1)/2) goes to the canvas centre, everything turns clockwise.
cv::Mat reference_rotation(const cv::Mat& src, double clockwise, cv::Size canvas, int interpolation,
                           const cv::Scalar& fill) {
  const double rad = clockwise * CV_PI / 180.0, c = std::cos(rad), s = std::sin(rad);
  const double cx = (src.cols - 1) / 2.0, cy = (src.rows - 1) / 2.0;
  const double ox = (canvas.width - 1) / 2.0, oy = (canvas.height - 1) / 2.0;
  // Image y points down, so a clockwise turn on screen is x' = c·x − s·y, y' = s·x + c·y.
  const cv::Matx23d forward(c, -s, ox - c * cx + s * cy, s, c, oy - s * cx - c * cy);
  cv::Mat out;
  cv::warpAffine(src, out, forward, canvas, interpolation, cv::BORDER_CONSTANT, fill);
  return out;
}

}  // namespace

TEST(RotateRightAngles, BitIdenticalToCvRotate) {
  const std::pair<double, int> angles[] = {{90, cv::ROTATE_90_CLOCKWISE},
                                           {180, cv::ROTATE_180},
                                           {270, cv::ROTATE_90_COUNTERCLOCKWISE},
                                           {-90, cv::ROTATE_90_COUNTERCLOCKWISE},
                                           {-270, cv::ROTATE_90_CLOCKWISE}};
  for (Layout f : kLayouts) {
    const cv::Mat src = test::make_image(31, 18, f.channels, f.depth);
    for (auto [angle, code] : angles) {
      SCOPED_TRACE(testing::Message() << angle << "°, " << f.channels << " channels, depth " << f.depth);
      cv::Mat reference;
      cv::rotate(src, reference, code);
      EXPECT_TRUE(test::identical(run(src, {{"angle", angle}}), reference));
    }
    EXPECT_TRUE(test::identical(run(src, {{"angle", 360.0}}), src));
    EXPECT_TRUE(test::identical(run(src, {{"angle", 0.0}}), src));
  }
}

TEST(RotateRightAngles, KernelTakesAnyTurnCount) {
  const cv::Mat src = test::make_image(12, 7, 4, CV_16U);
  cv::Mat reference, out;
  cv::rotate(src, reference, cv::ROTATE_90_CLOCKWISE);
  kernels::rotate(src, out, {.angle = 450});
  EXPECT_TRUE(test::identical(out, reference));
  kernels::rotate(src, out, {.angle = -630});
  EXPECT_TRUE(test::identical(out, reference));
  cv::UMat device_src = src.getUMat(cv::ACCESS_READ), device_out;
  kernels::rotate(device_src, device_out, {.angle = 810});
  EXPECT_TRUE(test::identical(device_out.getMat(cv::ACCESS_READ), reference));
  cv::UMat in_place = device_src.clone();  // in place, though the shape changes
  kernels::rotate(in_place, in_place, {.angle = 90});
  EXPECT_TRUE(test::identical(in_place.getMat(cv::ACCESS_READ), reference));
}

TEST(RotateAnyAngle, CanvasHoldsTheRotatedImage) {
  // ceil(w·|cos a| + h·|sin a|) × ceil(w·|sin a| + h·|cos a|), worked by hand:
  // 41×41 at 30°: 41 × (0.8660 + 0.5) = 56.007 → 57 both ways.
  EXPECT_EQ(run(test::make_image(41, 41, 3), {{"angle", 30.0}}).size(), cv::Size(57, 57));
  // 200×100 at 30°: 173.21 + 50 = 223.21 → 224; 100 + 86.60 = 186.60 → 187.
  EXPECT_EQ(run(test::make_image(200, 100, 3), {{"angle", 30.0}}).size(), cv::Size(224, 187));
  // At -30° (= 330°) the same canvas.
  EXPECT_EQ(run(test::make_image(200, 100, 3), {{"angle", -30.0}}).size(), cv::Size(224, 187));
  // 200×100 at 45°: 300 × 0.70711 = 212.13 → 213 both ways.
  EXPECT_EQ(run(test::make_image(200, 100, 3), {{"angle", 45.0}}).size(), cv::Size(213, 213));
  // 120×80 at 120°: |cos| = 0.5, |sin| = 0.8660: 60 + 69.28 = 129.28 → 130; 103.92 + 40 = 143.92 → 144.
  EXPECT_EQ(run(test::make_image(120, 80, 3), {{"angle", 120.0}}).size(), cv::Size(130, 144));
}

TEST(RotateAnyAngle, ExpandFalseKeepsTheSize) {
  const cv::Mat src = test::make_image(60, 40, 4);
  EXPECT_EQ(run(src, {{"angle", 30.0}, {"expand", false}}).size(), src.size());
  EXPECT_EQ(run(src, {{"angle", -100.0}, {"expand", false}}).size(), src.size());
  // A quarter turn of a non-square image would change the canvas, which expand: false forbids.
  EXPECT_EQ(run(src, {{"angle", 90.0}, {"expand", false}}).size(), src.size());
  // A square one is still rotated exactly.
  const cv::Mat square = test::make_image(30, 30, 3);
  cv::Mat reference;
  cv::rotate(square, reference, cv::ROTATE_90_CLOCKWISE);
  EXPECT_TRUE(test::identical(run(square, {{"angle", 90.0}, {"expand", false}}), reference));
}

TEST(RotateAnyAngle, CentrePixelIsKept) {
  // 41×41 turns onto a 57×57 canvas: centre (20, 20) lands exactly on (28, 28), where
  // interpolation weights are 1 and 0.
  for (Layout f : kLayouts) {
    SCOPED_TRACE(testing::Message() << f.channels << " channels, depth " << f.depth);
    const cv::Mat src = test::make_image(41, 41, f.channels, f.depth);
    const std::vector<double> centre = pixel(src, 20, 20);
    for (double angle : {30.0, -60.0, 200.0}) {  // canvases of 57, 57 and 53: odd, so with a centre pixel
      const cv::Mat expanded = run(src, {{"angle", angle}});
      const cv::Mat same = run(src, {{"angle", angle}, {"expand", false}});
      for (int c = 0; c < src.channels(); ++c) {
        // Exact without alpha; with alpha the colour goes × alpha ÷ alpha in float, which can
        // round to the next level.
        const double tolerance = f.channels % 2 == 0 ? 1.0 : 0.0;
        EXPECT_NEAR(pixel(expanded, expanded.rows / 2, expanded.cols / 2)[static_cast<std::size_t>(c)],
                    centre[static_cast<std::size_t>(c)], tolerance);
        EXPECT_NEAR(pixel(same, 20, 20)[static_cast<std::size_t>(c)], centre[static_cast<std::size_t>(c)],
                    tolerance);
      }
    }
  }
}

TEST(RotateAnyAngle, CornersAreTheBackground) {
  for (int depth : {CV_8U, CV_16U}) {
    const double scale = depth == CV_16U ? 257.0 : 1.0;
    const cv::Mat src = test::make_image(50, 30, 3, depth);
    const cv::Mat out = run(src, {{"angle", 30.0}, {"background", "#0a64c8"}});
    ASSERT_EQ(out.type(), src.type());
    for (cv::Point p : corners(out.size()))
      EXPECT_EQ(pixel(out, p.y, p.x), (std::vector<double>{10 * scale, 100 * scale, 200 * scale})) << p;
    // The default background is black; a grey image stays grey on it.
    const cv::Mat grey = run(test::make_image(50, 30, 1, depth), {{"angle", 30.0}});
    ASSERT_EQ(grey.type(), CV_MAKETYPE(depth, 1));
    for (cv::Point p : corners(grey.size())) EXPECT_EQ(pixel(grey, p.y, p.x), std::vector<double>{0}) << p;
  }
}

TEST(RotateAnyAngle, TransparentBackgroundAddsAlpha) {
  for (Layout f : {Layout{3, CV_8U}, Layout{1, CV_16U}, Layout{4, CV_8U}}) {
    SCOPED_TRACE(testing::Message() << f.channels << " channels, depth " << f.depth);
    cv::Mat src = test::make_image(41, 41, f.channels == 4 ? 3 : f.channels, f.depth);
    if (f.channels == 4)
      cv::cvtColor(src, src, cv::COLOR_RGB2RGBA);  // opaque, so the centre's alpha is known
    const cv::Mat out = run(src, {{"angle", 30.0}, {"background", "transparent"}});
    const int cn = f.channels == 1 ? 2 : 4;
    ASSERT_EQ(out.channels(), cn);
    const double max = f.depth == CV_16U ? 65535.0 : 255.0;
    for (cv::Point p : corners(out.size()))
      EXPECT_EQ(pixel(out, p.y, p.x)[static_cast<std::size_t>(cn - 1)], 0.0) << p;
    EXPECT_EQ(pixel(out, 28, 28)[static_cast<std::size_t>(cn - 1)], max);
  }
}

TEST(RotateAnyAngle, MatchesWarpAffine) {
  // OpenCV interpolates 8-bit images with fixed-point weights and imgpipe in float, both at
  // 1/32-pixel positions: a level apart at most where a value sits near .5.
  for (int channels : {1, 3}) {
    const cv::Mat src = test::make_gradient(64, 48, channels);
    for (double angle : {30.0, -75.0}) {
      SCOPED_TRACE(testing::Message() << angle << "°, " << channels << " channels");
      // A grey background keeps a grey image grey.
      const char* background = channels == 1 ? "#404040" : "#204060";
      const cv::Scalar fill = channels == 1 ? cv::Scalar(0x40) : cv::Scalar(0x20, 0x40, 0x60);
      const cv::Mat out = run(src, {{"angle", angle}, {"background", background}});
      EXPECT_LE(test::max_abs_diff(out, reference_rotation(src, angle, out.size(), cv::INTER_LINEAR, fill)),
                1.0);
      // high quality interpolates bicubically.
      const cv::Mat cubic = run(src, {{"angle", angle}, {"background", background}}, QualityPreset::high);
      EXPECT_LE(
          test::max_abs_diff(cubic, reference_rotation(src, angle, cubic.size(), cv::INTER_CUBIC, fill)),
          1.0);
    }
  }
}

TEST(RotateAnyAngle, SixteenBitMatchesWarpAffine) {
  const cv::Mat src = test::make_gradient(64, 48, 3, CV_16U);
  const cv::Mat out = run(src, {{"angle", 30.0}});
  ASSERT_EQ(out.type(), CV_16UC3);
  // 16-bit warpAffine works in float too; rounding only.
  EXPECT_LE(test::max_abs_diff(out, reference_rotation(src, 30.0, out.size(), cv::INTER_LINEAR, {})), 1.0);
}

TEST(RotateAnyAngle, TransparentColourDoesNotBleed) {
  // Transparent red left half, opaque blue right half: after turning, anything visible is blue.
  cv::Mat src(40, 40, CV_8UC4, cv::Scalar(0, 0, 255, 255));
  src(cv::Rect(0, 0, 20, 40)).setTo(cv::Scalar(255, 0, 0, 0));
  const cv::Mat out = run(src, {{"angle", 30.0}, {"background", "transparent"}});
  int edge_pixels = 0;
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      const cv::Vec4b p = out.at<cv::Vec4b>(y, x);
      if (p[3] == 0) continue;
      edge_pixels += p[3] < 255;
      EXPECT_LE(p[0], 1) << x << "," << y;  // rounding of the un-premultiplied colour
      EXPECT_GE(p[2], 254) << x << "," << y;
    }
  EXPECT_GT(edge_pixels, 0);
}

TEST(RotateKernel, SameResultOnMatAndUMat) {
  const cv::Mat src = test::make_image(60, 40, 3, CV_16U);
  const kernels::RotateOptions options{.angle = 30, .background = {0, 0, 0, 0}};
  cv::Mat on_host;
  kernels::rotate(src, on_host, options);
  ASSERT_EQ(on_host.type(), CV_16UC4);
  cv::UMat device_src = src.getUMat(cv::ACCESS_READ), on_device;
  kernels::rotate(device_src, on_device, options);
  // An OpenCL device may round float arithmetic differently: at most a level.
  EXPECT_LE(test::max_abs_diff(on_device.getMat(cv::ACCESS_READ), on_host), 1.0);
  cv::Mat in_place = src.clone();
  kernels::rotate(in_place, in_place, options);
  EXPECT_TRUE(test::identical(in_place, on_host));
}
