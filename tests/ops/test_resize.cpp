// resize: output sizes for every way of giving a size, each kernel against cv::resize,
// premultiplied alpha, 16-bit, fill's padding, cover's crop, and a real photo.
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

cv::Mat run(const cv::Mat& pixels, const ParamList& params, QualityPreset quality = QualityPreset::balanced) {
  Context context;
  context.quality = quality;
  return Chain().then("resize", params).run(Image(pixels), context).pixels;
}

cv::Size size_after(cv::Size input, const ParamList& params) {
  return run(test::make_image(input.width, input.height, 3), params, QualityPreset::draft).size();
}

double sample(const cv::Mat& m, int y, int x, int c) {
  const int i = x * m.channels() + c;
  switch (m.depth()) {
    case CV_8U: return m.ptr<std::uint8_t>(y)[i];
    case CV_16U: return m.ptr<std::uint16_t>(y)[i];
    default: return static_cast<double>(m.ptr<float>(y)[i]);
  }
}

double full_scale(const cv::Mat& m) {
  return m.depth() == CV_16U ? 65535.0 : 255.0;
}

// The textbook way to resample with alpha, written out: colour × alpha, resample, ÷ alpha.
cv::Mat naive_premultiplied_resize(const cv::Mat& src, cv::Size size, int interpolation) {
  const int cn = src.channels();
  const double max = full_scale(src);
  cv::Mat premultiplied(src.size(), CV_32FC(cn));
  for (int y = 0; y < src.rows; ++y)
    for (int x = 0; x < src.cols; ++x) {
      const double alpha = sample(src, y, x, cn - 1);
      for (int c = 0; c < cn; ++c)
        premultiplied.ptr<float>(y)[x * cn + c] =
            static_cast<float>(c == cn - 1 ? alpha : sample(src, y, x, c) * alpha / max);
    }
  cv::Mat resized;
  cv::resize(premultiplied, resized, size, 0, 0, interpolation);
  cv::Mat out(size, src.type());
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double alpha = std::clamp(sample(resized, y, x, cn - 1), 0.0, max);
      for (int c = 0; c < cn; ++c) {
        double v = c == cn - 1 ? alpha : alpha > 0 ? sample(resized, y, x, c) * max / alpha : 0.0;
        v = std::clamp(std::round(v), 0.0, max);
        if (src.depth() == CV_16U)
          out.ptr<std::uint16_t>(y)[x * cn + c] = static_cast<std::uint16_t>(v);
        else
          out.ptr<std::uint8_t>(y)[x * cn + c] = static_cast<std::uint8_t>(v);
      }
    }
  return out;
}

// Largest colour difference over pixels whose alpha is at least `min_alpha` (colour under
// zero alpha is undefined), and largest alpha difference over all pixels.
std::pair<double, double> alpha_aware_diff(const cv::Mat& a, const cv::Mat& b, double min_alpha) {
  const int cn = a.channels();
  double colour = 0, alpha = 0;
  for (int y = 0; y < a.rows; ++y)
    for (int x = 0; x < a.cols; ++x) {
      alpha = std::max(alpha, std::fabs(sample(a, y, x, cn - 1) - sample(b, y, x, cn - 1)));
      if (sample(b, y, x, cn - 1) < min_alpha) continue;
      for (int c = 0; c + 1 < cn; ++c)
        colour = std::max(colour, std::fabs(sample(a, y, x, c) - sample(b, y, x, c)));
    }
  return {colour, alpha};
}

// Transparent red on the left two fifths, opaque blue on the right: at the sizes used the
// edge falls inside output pixels, which straight (not premultiplied) resampling turns pink.
cv::Mat red_hidden_next_to_blue(int width, int height, int depth) {
  const double max = depth == CV_16U ? 65535.0 : 255.0;
  cv::Mat image(height, width, CV_MAKETYPE(depth, 4), cv::Scalar(0, 0, max, max));
  image(cv::Rect(0, 0, width * 2 / 5, height)).setTo(cv::Scalar(max, 0, 0, 0));
  return image;
}

}  // namespace

TEST(ResizeSize, InsideCoverFillExact) {
  const cv::Size in(300, 200);
  EXPECT_EQ(size_after(in, {{"width", 150}, {"height", 150}}), cv::Size(150, 100));  // × min(0.5, 0.75)
  EXPECT_EQ(size_after(in, {{"width", 150}, {"height", 150}, {"fit", "cover"}}), cv::Size(150, 150));
  EXPECT_EQ(size_after(in, {{"width", 150}, {"height", 150}, {"fit", "fill"}}), cv::Size(150, 150));
  EXPECT_EQ(size_after(in, {{"width", 100}, {"height", 50}, {"fit", "exact"}}), cv::Size(100, 50));
  EXPECT_EQ(size_after(in, {{"width", 600}, {"height", 600}}), cv::Size(600, 400));  // enlarges by default
}

TEST(ResizeSize, RoundsToNearestAndHitsTheBoxExactly) {
  // 201 × 100/301 = 66.78 → 67; 100 × 100/333 = 30.03 → 30.
  EXPECT_EQ(size_after({301, 201}, {{"width", 100}, {"height", 100}}), cv::Size(100, 67));
  EXPECT_EQ(size_after({333, 100}, {{"width", 100}}), cv::Size(100, 30));
  // 3 × 1000/7 = 428.57 → 429 for the long side of 7×3 fitted into 1000×1000; the other side is exact.
  EXPECT_EQ(size_after({7, 3}, {{"width", 1000}, {"height", 1000}}), cv::Size(1000, 429));
  // Tiny results never reach zero.
  EXPECT_EQ(size_after({1000, 10}, {{"width", 10}}), cv::Size(10, 1));
}

TEST(ResizeSize, WidthOnlyHeightOnlyMaxSideScale) {
  const cv::Size landscape(300, 200), portrait(200, 300);
  EXPECT_EQ(size_after(landscape, {{"width", 150}}), cv::Size(150, 100));
  EXPECT_EQ(size_after(landscape, {{"height", 50}}), cv::Size(75, 50));
  EXPECT_EQ(size_after(landscape, {{"max_side", 120}}), cv::Size(120, 80));
  EXPECT_EQ(size_after(portrait, {{"max_side", 120}}), cv::Size(80, 120));
  EXPECT_EQ(size_after(landscape, {{"scale", 0.25}}), cv::Size(75, 50));
  EXPECT_EQ(size_after(landscape, {{"scale", 1.5}}), cv::Size(450, 300));
}

TEST(ResizeSize, EnlargeFalseKeepsSmallImages) {
  const cv::Size in(300, 200);
  EXPECT_EQ(size_after(in, {{"width", 600}, {"height", 600}, {"enlarge", false}}), in);
  EXPECT_EQ(size_after(in, {{"scale", 2.0}, {"enlarge", false}}), in);
  EXPECT_EQ(size_after(in, {{"width", 150}, {"enlarge", false}}),
            cv::Size(150, 100));  // shrinking still works
  // cover without enlarging crops to the box where the image is larger and nothing else.
  EXPECT_EQ(size_after({100, 50}, {{"width", 80}, {"height", 80}, {"fit", "cover"}, {"enlarge", false}}),
            cv::Size(80, 50));
  // fill still pads to the box.
  EXPECT_EQ(size_after({100, 50}, {{"width", 200}, {"height", 200}, {"fit", "fill"}, {"enlarge", false}}),
            cv::Size(200, 200));
}

TEST(ResizeSize, InvalidCombinationsAreConfigErrors) {
  auto refused = [](const ParamList& params) {
    try {
      Chain().then("resize", params);
    } catch (const Error& e) {
      return e.category() == ErrorCategory::config;
    }
    return false;
  };
  EXPECT_TRUE(refused({{"width", 10}, {"scale", 0.5}}));
  EXPECT_TRUE(refused({}));
  EXPECT_TRUE(refused({{"width", 10}, {"fit", "cover"}}));
}

// OpenCV's 8- and 16-bit kernels use fixed-point weights; imgpipe resamples in float and
// rounds once, so the two may differ by one level where a value sits near .5.
TEST(ResizeKernels, EachKernelMatchesCvResize) {
  const cv::Mat src = test::make_gradient(200, 150, 3);
  const std::vector<std::pair<std::string, int>> kernels = {{"nearest", cv::INTER_NEAREST},
                                                            {"linear", cv::INTER_LINEAR},
                                                            {"cubic", cv::INTER_CUBIC},
                                                            {"area", cv::INTER_AREA},
                                                            {"lanczos", cv::INTER_LANCZOS4}};
  for (const auto& [name, interpolation] : kernels) {
    SCOPED_TRACE(name);
    for (cv::Size target : {cv::Size(120, 90), cv::Size(330, 260)}) {
      // area is a box average for shrinking only; enlarging it falls back to linear.
      const int expected_kernel =
          name == "area" && target.width > src.cols ? cv::INTER_LINEAR : interpolation;
      cv::Mat reference;
      cv::resize(src, reference, target, 0, 0, expected_kernel);
      const cv::Mat out =
          run(src, {{"width", target.width}, {"height", target.height}, {"fit", "exact"}, {"kernel", name}});
      if (name == "nearest")
        EXPECT_TRUE(test::identical(out, reference));
      else
        EXPECT_LE(test::max_abs_diff(out, reference), 1.0);
    }
  }
}

TEST(ResizeKernels, AutoFollowsTheQualityPreset) {
  const cv::Mat src = test::make_gradient(200, 150, 3);
  auto matches = [&](QualityPreset quality, cv::Size target, int interpolation) {
    cv::Mat reference;
    cv::resize(src, reference, target, 0, 0, interpolation);
    return test::max_abs_diff(
               run(src, {{"width", target.width}, {"height", target.height}, {"fit", "exact"}}, quality),
               reference) <= 1.0;  // as above: fixed point against float
  };
  EXPECT_TRUE(matches(QualityPreset::balanced, {120, 90}, cv::INTER_AREA));
  EXPECT_TRUE(matches(QualityPreset::balanced, {300, 225}, cv::INTER_CUBIC));
  EXPECT_TRUE(matches(QualityPreset::fast, {300, 225}, cv::INTER_LINEAR));
  EXPECT_TRUE(matches(QualityPreset::high, {120, 90}, cv::INTER_LANCZOS4));
  EXPECT_TRUE(matches(QualityPreset::draft, {120, 90}, cv::INTER_NEAREST));
}

TEST(ResizeKernels, LargeDownscalesShrinkWithAreaFirst) {
  const cv::Mat src = test::make_gradient(480, 360, 3);
  const cv::Size target(50, 37), twice(100, 74);
  for (int interpolation : {cv::INTER_LINEAR, cv::INTER_CUBIC, cv::INTER_LANCZOS4}) {
    const std::string name = interpolation == cv::INTER_LINEAR  ? "linear"
                             : interpolation == cv::INTER_CUBIC ? "cubic"
                                                                : "lanczos";
    SCOPED_TRACE(name);
    cv::Mat shrunk, reference;
    cv::resize(src, shrunk, twice, 0, 0, cv::INTER_AREA);
    cv::resize(shrunk, reference, target, 0, 0, interpolation);
    const cv::Mat out =
        run(src, {{"width", target.width}, {"height", target.height}, {"fit", "exact"}, {"kernel", name}});
    // The reference rounds its intermediate to 8 bits (±0.5), which the kernel's negative
    // lobes can carry to a little over one level, plus the final rounding.
    EXPECT_LE(test::max_abs_diff(out, reference), 2.0);
  }
}

TEST(ResizeKernels, LargeDownscaleOfFineDetailDoesNotAlias) {
  // One-pixel checkerboard: any correct 7.5× reduction is mid-grey everywhere. Lanczos alone
  // (fixed 8-tap support) samples it into moiré spanning 0..255 at this ratio.
  cv::Mat board(400, 400, CV_8UC3);
  for (int y = 0; y < board.rows; ++y)
    for (int x = 0; x < board.cols; ++x) board.at<cv::Vec3b>(y, x) = cv::Vec3b::all((x + y) % 2 ? 255 : 0);
  const cv::Mat out = run(board, {{"width", 53}, {"kernel", "lanczos"}});
  ASSERT_EQ(out.size(), cv::Size(53, 53));
  double lo = 0, hi = 0;
  cv::minMaxLoc(out.reshape(1), &lo, &hi);
  EXPECT_GE(lo, 120.0);  // 127.5 ± a few levels of ringing at the border
  EXPECT_LE(hi, 135.0);
}

TEST(ResizeAlpha, TransparentColourDoesNotBleed) {
  for (int depth : {CV_8U, CV_16U}) {
    SCOPED_TRACE(depth == CV_8U ? "8-bit" : "16-bit");
    const cv::Mat src = red_hidden_next_to_blue(64, 32, depth);
    const double max = full_scale(src);
    for (const char* kernel : {"linear", "cubic", "area", "lanczos"}) {
      SCOPED_TRACE(kernel);
      const cv::Mat out = run(src, {{"width", 20}, {"height", 10}, {"fit", "exact"}, {"kernel", kernel}});
      ASSERT_EQ(out.type(), src.type());
      int edge_pixels = 0;  // partly transparent: where bleeding would show
      for (int y = 0; y < out.rows; ++y)
        for (int x = 0; x < out.cols; ++x) {
          if (sample(out, y, x, 3) == 0) continue;
          edge_pixels += sample(out, y, x, 3) < max;
          // Wherever anything is visible it is pure blue: no red, no darkening.
          EXPECT_LE(sample(out, y, x, 0), max / 255.0) << x << "," << y;
          EXPECT_GE(sample(out, y, x, 2), max - max / 255.0) << x << "," << y;
        }
      EXPECT_GT(edge_pixels, 0);
    }
  }
}

TEST(ResizeAlpha, MatchesNaivePremultipliedReference) {
  struct Case {
    int channels, depth;
  };
  for (Case c : {Case{4, CV_8U}, Case{2, CV_8U}, Case{4, CV_16U}, Case{2, CV_16U}}) {
    SCOPED_TRACE(testing::Message() << c.channels << " channels, depth " << c.depth);
    cv::Mat src = test::make_image(90, 60, c.channels, c.depth, 7);
    // A fully transparent band with a loud colour, so bleeding would show.
    src(cv::Rect(30, 0, 15, 60)).setTo(cv::Scalar::all(full_scale(src)));
    std::vector<cv::Mat> planes;
    cv::split(src, planes);
    planes.back()(cv::Rect(30, 0, 15, 60)).setTo(0);
    cv::merge(planes, src);
    for (auto [kernel, interpolation] :
         {std::pair{"linear", cv::INTER_LINEAR}, std::pair{"area", cv::INTER_AREA}}) {
      SCOPED_TRACE(kernel);
      const cv::Size target(50, 34);  // under 2× smaller, so no pre-shrink
      const cv::Mat out = run(
          src, {{"width", target.width}, {"height", target.height}, {"fit", "exact"}, {"kernel", kernel}});
      const cv::Mat reference = naive_premultiplied_resize(src, target, interpolation);
      // Both divide the same float sums by the same alpha; they may round differently at .5.
      // Colour is compared where alpha is at least 1/255 of full scale: below that the 8-bit
      // result's colour is mostly rounding noise amplified by the division.
      const auto [colour, alpha] = alpha_aware_diff(out, reference, full_scale(src) / 255.0);
      EXPECT_LE(colour, 1.0);
      EXPECT_LE(alpha, 1.0);
    }
  }
}

TEST(ResizeDepth, SixteenBitStaysSixteenBit) {
  for (int channels : {1, 3}) {  // with alpha: ResizeAlpha.MatchesNaivePremultipliedReference
    const cv::Mat src = test::make_gradient(160, 120, channels, CV_16U);
    const cv::Mat out = run(src, {{"width", 64}, {"height", 48}, {"fit", "exact"}, {"kernel", "area"}});
    EXPECT_EQ(out.type(), src.type());
    cv::Mat reference;
    cv::resize(src, reference, {64, 48}, 0, 0, cv::INTER_AREA);
    EXPECT_LE(test::max_abs_diff(out, reference), 1.0);  // float rounding only
  }
}

TEST(ResizeFill, PadsWithTheBackground) {
  const cv::Mat src = test::make_gradient(300, 200, 3);
  const cv::Mat out = run(src, {{"width", 150}, {"height", 150}, {"fit", "fill"}, {"background", "#ff0000"}});
  ASSERT_EQ(out.size(), cv::Size(150, 150));
  ASSERT_EQ(out.type(), CV_8UC3);
  // The content is 150×100, centred: rows 25..124.
  for (int y : {0, 24, 125, 149})
    for (int x : {0, 75, 149}) EXPECT_EQ(out.at<cv::Vec3b>(y, x), cv::Vec3b(255, 0, 0)) << x << "," << y;
  cv::Mat content;
  cv::resize(src, content, {150, 100}, 0, 0, cv::INTER_AREA);
  EXPECT_LE(test::max_abs_diff(out(cv::Rect(0, 25, 150, 100)), content), 1.0);  // fixed point vs float
}

TEST(ResizeFill, TransparentBackgroundAddsAlpha) {
  const cv::Mat src = test::make_gradient(100, 200, 3);
  const cv::Mat out =
      run(src, {{"width", 100}, {"height", 100}, {"fit", "fill"}, {"background", "transparent"}});
  ASSERT_EQ(out.type(), CV_8UC4);
  // The content is 50×100, centred: columns 25..74 opaque, the rest transparent.
  for (int y = 0; y < 100; y += 9)
    for (int x = 0; x < 100; ++x)
      EXPECT_EQ(out.at<cv::Vec4b>(y, x)[3], x >= 25 && x < 75 ? 255 : 0) << x << "," << y;
}

TEST(ResizeFill, SixteenBitAndGreyTakeTheColour) {
  const cv::Mat grey16 = test::make_gradient(200, 100, 1, CV_16U);
  const cv::Mat out =
      run(grey16, {{"width", 100}, {"height", 100}, {"fit", "fill"}, {"background", "#0a141e"}});
  ASSERT_EQ(out.type(), CV_16UC3);  // a colour needs RGB; 16 bits kept
  EXPECT_EQ(out.at<cv::Vec3w>(0, 0), cv::Vec3w(10 * 257, 20 * 257, 30 * 257));
  const cv::Vec3w content = out.at<cv::Vec3w>(50, 50);
  EXPECT_EQ(content[0], content[1]);  // the grey content stays grey
  EXPECT_EQ(content[1], content[2]);
}

TEST(ResizeCover, CropsTheCentre) {
  const cv::Mat src = test::make_gradient(300, 200, 4);  // alpha varies across the image
  const cv::Mat out = run(src, {{"width", 100}, {"height", 100}, {"fit", "cover"}, {"kernel", "area"}});
  ASSERT_EQ(out.size(), cv::Size(100, 100));
  // Resampled to 150×100, then columns 25..124 kept.
  const cv::Mat resampled = naive_premultiplied_resize(src, {150, 100}, cv::INTER_AREA);
  const auto [colour, alpha] = alpha_aware_diff(out, resampled(cv::Rect(25, 0, 100, 100)), 1.0);
  EXPECT_LE(colour, 1.0);  // rounding at .5 only, as in ResizeAlpha
  EXPECT_LE(alpha, 1.0);
}

TEST(ResizePhoto, DownscaleMatchesAreaResampling) {
  const Image photo = load(test::photo("autumn-2560x1600.jpg"));
  cv::Mat reference;
  cv::resize(photo.pixels, reference, {640, 400}, 0, 0, cv::INTER_AREA);
  // balanced picks area for a downscale: the same filter, rounded once instead of in fixed
  // point, so at most a level apart (≥ 48 dB); 45 dB leaves room for rare two-level pixels.
  const cv::Mat balanced = run(photo.pixels, {{"width", 640}});
  EXPECT_GE(test::psnr(balanced, reference), 45.0);
  // Lanczos after an area pre-shrink is a sharper filter, not the same one, so they differ at
  // fine detail. Measured against this reference, plain cv::resize Lanczos (aliased, no
  // pre-shrink) scores 32 dB, a one-pixel shift 30 dB and nearest sampling 29 dB: 36 dB
  // refuses each of those faults.
  const cv::Mat lanczos = run(photo.pixels, {{"width", 640}, {"kernel", "lanczos"}});
  EXPECT_GE(test::psnr(lanczos, reference), 36.0);
}

TEST(ResizeKernel, SameResultOnMatAndUMat) {
  const cv::Mat src = test::make_image(300, 200, 4, CV_8U, 3);
  const kernels::ResizeOptions options{.size = {70, 47},
                                       .kernel = kernels::Interpolation::lanczos,
                                       .fit = kernels::Fit::fill,
                                       .box = {80, 80},
                                       .background = {0, 0, 0, 0}};
  cv::Mat on_host;
  kernels::resize(src, on_host, options);
  ASSERT_EQ(on_host.size(), cv::Size(80, 80));
  cv::UMat device_src = src.getUMat(cv::ACCESS_READ), on_device;
  kernels::resize(device_src, on_device, options);
  // An OpenCL device may round float arithmetic differently: at most a level.
  EXPECT_LE(test::max_abs_diff(on_device.getMat(cv::ACCESS_READ), on_host), 1.0);
  // In place, for both kinds of array.
  cv::Mat host_in_place = src.clone();
  kernels::resize(host_in_place, host_in_place, options);
  EXPECT_TRUE(test::identical(host_in_place, on_host));
  cv::UMat device_in_place = src.getUMat(cv::ACCESS_READ).clone();
  kernels::resize(device_in_place, device_in_place,
                  {.size = {31, 17}, .kernel = kernels::Interpolation::nearest});
  cv::Mat nearest;
  cv::resize(src, nearest, {31, 17}, 0, 0, cv::INTER_NEAREST);
  EXPECT_TRUE(test::identical(device_in_place.getMat(cv::ACCESS_READ), nearest));
}
