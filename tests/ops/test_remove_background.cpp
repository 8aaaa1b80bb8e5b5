// remove_background: the classical mask against synthetic scenes whose object is known, the
// guided filter against a naive per-pixel implementation, the output modes against naive
// composites from the returned mask, and the model mode with tiny ONNX models written here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
namespace k = imgpipe::kernels;

namespace {

// A smooth two-colour gradient background with mild noise and a textured orange ellipse centred
// at (cx, cy) (fractions of the size; the middle by default); `object` receives the ellipse
// (255 inside).
cv::Mat scene(int width, int height, cv::Mat& object, double cx = 0.5, double cy = 0.55,
              std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0, 3);
  cv::Mat rgb(height, width, CV_8UC3);
  object = cv::Mat::zeros(height, width, CV_8U);
  cv::ellipse(object, cv::Point(static_cast<int>(cx * width), static_cast<int>(cy * height)),
              cv::Size(width / 5, height / 4), 15, 0, 360, cv::Scalar(255), cv::FILLED);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      double r = 60 + 60 * fx, g = 110 + 40 * fy, b = 170 - 30 * fx;
      if (object.at<std::uint8_t>(y, x)) {
        const double stripe = 20 * std::sin(x * 0.2);
        r = 225 + stripe * 0.5, g = 120 + stripe, b = 40;
      }
      auto& px = rgb.at<cv::Vec3b>(y, x);
      px = cv::Vec3b(cv::saturate_cast<std::uint8_t>(r + noise(rng)),
                     cv::saturate_cast<std::uint8_t>(g + noise(rng)),
                     cv::saturate_cast<std::uint8_t>(b + noise(rng)));
    }
  return rgb;
}

double iou(const cv::Mat& mask, const cv::Mat& object) {
  const cv::Mat fg = mask > 0.5, truth = object > 0;
  const double inter = cv::countNonZero(fg & truth), uni = cv::countNonZero(fg | truth);
  return inter / uni;
}

int mirror(int i, int n) {
  return i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i;
}

// Mean over the (2r+1)^2 window with mirrored edges, in double.
cv::Mat naive_box(const cv::Mat& m, int r) {
  cv::Mat out(m.size(), CV_64F);
  for (int y = 0; y < m.rows; ++y)
    for (int x = 0; x < m.cols; ++x) {
      double sum = 0;
      for (int dy = -r; dy <= r; ++dy)
        for (int dx = -r; dx <= r; ++dx) sum += m.at<double>(mirror(y + dy, m.rows), mirror(x + dx, m.cols));
      out.at<double>(y, x) = sum / ((2 * r + 1) * (2 * r + 1));
    }
  return out;
}

// He et al.'s guided filter written out per pixel.
cv::Mat naive_guided(const cv::Mat& I, const cv::Mat& p, int r, double eps) {
  const cv::Mat mean_I = naive_box(I, r), mean_p = naive_box(p, r);
  const cv::Mat corr_Ip = naive_box(I.mul(p), r), corr_II = naive_box(I.mul(I), r);
  cv::Mat a(I.size(), CV_64F), b(I.size(), CV_64F);
  for (int y = 0; y < I.rows; ++y)
    for (int x = 0; x < I.cols; ++x) {
      const double mi = mean_I.at<double>(y, x), mp = mean_p.at<double>(y, x);
      const double cov = corr_Ip.at<double>(y, x) - mi * mp, var = corr_II.at<double>(y, x) - mi * mi;
      a.at<double>(y, x) = cov / (var + eps);
      b.at<double>(y, x) = mp - a.at<double>(y, x) * mi;
    }
  const cv::Mat mean_a = naive_box(a, r), mean_b = naive_box(b, r);
  cv::Mat q(I.size(), CV_64F);
  for (int y = 0; y < I.rows; ++y)
    for (int x = 0; x < I.cols; ++x)
      q.at<double>(y, x) = mean_a.at<double>(y, x) * I.at<double>(y, x) + mean_b.at<double>(y, x);
  return q;
}

cv::Mat with_alpha(const cv::Mat& colour, const cv::Mat& alpha) {
  std::vector<cv::Mat> planes;
  cv::split(colour, planes);
  planes.push_back(alpha);
  cv::Mat out;
  cv::merge(planes, out);
  return out;
}

// Alpha 0 on the left quarter, a ramp over the next quarter, opaque elsewhere.
cv::Mat alpha_ramp(cv::Size size) {
  cv::Mat alpha(size, CV_8U);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x) {
      const double t = (static_cast<double>(x) - size.width / 4.0) / (size.width / 4.0);
      alpha.at<std::uint8_t>(y, x) = cv::saturate_cast<std::uint8_t>(255 * std::clamp(t, 0.0, 1.0));
    }
  return alpha;
}

cv::Mat run_op(const cv::Mat& pixels, const ParamList& params) {
  return Chain().then("remove_background", params).run(Image(pixels), Context{}).pixels;
}

}  // namespace

TEST(RemoveBackground, GuidedFilterMatchesNaive) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  for (const auto& [r, eps] : {std::pair{1, 1e-3}, std::pair{2, 1e-2}, std::pair{3, 0.1}}) {
    cv::Mat I(9, 11, CV_64F), p(9, 11, CV_64F);
    for (int y = 0; y < I.rows; ++y)
      for (int x = 0; x < I.cols; ++x) {
        I.at<double>(y, x) = u(rng);
        p.at<double>(y, x) = x > 5 ? 1.0 : u(rng) * 0.3;
      }
    cv::Mat If, pf, q;
    I.convertTo(If, CV_32F);
    p.convertTo(pf, CV_32F);
    k::guided_filter(If, pf, q, r, eps);
    ASSERT_EQ(q.type(), CV_32FC1);
    cv::Mat q64;
    q.convertTo(q64, CV_64F);
    // The kernel works in float on box sums: 1e-4 covers float rounding of values near 1.
    EXPECT_LT(cv::norm(q64, naive_guided(I, p, r, eps), cv::NORM_INF), 1e-4) << "radius " << r;
  }
}

TEST(RemoveBackground, GuidedFilterKeepsEdgesOfTheGuide) {
  // A step in the guide between x = 19 and 20, and a soft ramp in p over 16..24 (a rise of
  // 0.125 a pixel): the output moves most of its rise onto the guide's step.
  cv::Mat I(1, 40, CV_32F), p(1, 40, CV_32F);
  for (int x = 0; x < 40; ++x) {
    I.at<float>(0, x) = x < 20 ? 0.1f : 0.9f;
    p.at<float>(0, x) = std::clamp((static_cast<float>(x) - 16.0f) / 8.0f, 0.0f, 1.0f);
  }
  cv::Mat q;
  k::guided_filter(I, p, q, 4, 1e-4);
  const float step = q.at<float>(0, 20) - q.at<float>(0, 19);
  EXPECT_GT(step, 0.4f);
  EXPECT_LT(std::abs(q.at<float>(0, 18) - q.at<float>(0, 17)), 0.05f);
  EXPECT_LT(std::abs(q.at<float>(0, 22) - q.at<float>(0, 21)), 0.05f);
}

TEST(RemoveBackground, ClassicalMaskFindsTheObject) {
  for (const cv::Size size : {cv::Size(320, 240), cv::Size(1024, 700)}) {  // as is; shrunk for analysis
    cv::Mat object;
    const cv::Mat rgb = scene(size.width, size.height, object);
    const cv::Mat mask = k::foreground_mask(rgb);
    ASSERT_EQ(mask.type(), CV_32FC1);
    ASSERT_EQ(mask.size(), rgb.size());
    double lo = 0, hi = 0;
    cv::minMaxLoc(mask, &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0);
    EXPECT_GT(iou(mask, object), 0.9) << size;
    // Off-centre: found by its colour, not its place.
    cv::Mat off_object;
    const cv::Mat off = scene(size.width, size.height, off_object, 0.32, 0.4, 11);
    EXPECT_GT(iou(k::foreground_mask(off), off_object), 0.9) << size;
    // 8-bit masks are the float mask rounded (this also shows that repeated calls agree).
    const cv::Mat eight = k::foreground_mask(rgb, {}, CV_8U);
    ASSERT_EQ(eight.type(), CV_8UC1);
    cv::Mat expected;
    mask.convertTo(expected, CV_8U, 255);
    EXPECT_LE(test::max_abs_diff(eight, expected), 0);
  }
}

TEST(RemoveBackground, TinyAndUniformImages) {
  // Nothing to find, or hardly room to look: a mask comes back all the same.
  const cv::Mat uniform(120, 160, CV_8UC3, cv::Scalar(90, 90, 90));
  EXPECT_EQ(k::foreground_mask(uniform).size(), uniform.size());
  cv::Mat tiny(10, 12, CV_8UC3, cv::Scalar(0, 0, 255));
  tiny(cv::Rect(4, 4, 4, 2)).setTo(cv::Scalar(255, 0, 0));
  const cv::Mat mask = k::foreground_mask(tiny);
  ASSERT_EQ(mask.size(), tiny.size());
  double lo = 0, hi = 0;
  cv::minMaxLoc(mask, &lo, &hi);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0);
  // Too small to have a border band and an inside: refused with a reason.
  try {
    k::foreground_mask(cv::Mat(3, 3, CV_8UC3, cv::Scalar::all(0)));
    ADD_FAILURE() << "a 3x3 image must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::unsupported);
    EXPECT_NE(std::string(e.what()).find("remove_background"), std::string::npos);
  }
}

TEST(RemoveBackground, GreyAndSixteenBitInput) {
  cv::Mat object;
  const cv::Mat rgb = scene(300, 220, object);
  cv::Mat rgb16;
  rgb.convertTo(rgb16, CV_16U, 257);
  EXPECT_GT(iou(k::foreground_mask(rgb16), object), 0.9);
  cv::Mat grey;  // the orange object is brighter than the blue-grey background in luma
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  EXPECT_GT(iou(k::foreground_mask(grey), object), 0.9);

  // rgba output on 16-bit: colours kept, alpha = mask * 65535.
  const cv::Mat out = run_op(rgb16, {});
  ASSERT_EQ(out.type(), CV_16UC4);
  const cv::Mat mask = k::foreground_mask(rgb16);
  std::vector<cv::Mat> planes;
  cv::split(out, planes);
  for (int c = 0; c < 3; ++c) {
    cv::Mat in_plane;
    cv::extractChannel(rgb16, in_plane, c);
    EXPECT_TRUE(test::identical(planes[static_cast<std::size_t>(c)], in_plane));
  }
  cv::Mat alpha;
  mask.convertTo(alpha, CV_64F, 65535.0);
  planes[3].convertTo(planes[3], CV_64F);
  // Rounding (0.5) plus the float product mask * 65535 (relative error 2^-24 of 65535: 0.004).
  EXPECT_LE(cv::norm(planes[3], alpha, cv::NORM_INF), 0.505);
}

TEST(RemoveBackground, RgbaOutputKeepsColoursAndSetsAlpha) {
  cv::Mat object;
  const cv::Mat rgb = scene(320, 240, object);
  const cv::Mat out = run_op(rgb, {{"output", "rgba"}});
  ASSERT_EQ(out.type(), CV_8UC4);
  cv::Mat colours, alpha;
  cv::cvtColor(out, colours, cv::COLOR_RGBA2RGB);
  EXPECT_TRUE(test::identical(colours, rgb));
  cv::extractChannel(out, alpha, 3);
  // Alpha is the returned mask rounded to 8 bits.
  cv::Mat expected;
  k::foreground_mask(rgb).convertTo(expected, CV_8U, 255);
  EXPECT_LE(test::max_abs_diff(alpha, expected), 0);
  // And it separates the object: opaque well inside, transparent well outside.
  cv::Mat inside, outside;
  cv::erode(object, inside, cv::Mat(), cv::Point(-1, -1), 8);
  cv::dilate(object, outside, cv::Mat(), cv::Point(-1, -1), 8);
  EXPECT_GT(cv::mean(alpha, inside)[0], 240);
  EXPECT_LT(cv::mean(alpha, ~outside)[0], 15);

  // Grey input becomes grey + alpha.
  cv::Mat grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  const cv::Mat grey_out = run_op(grey, {});
  ASSERT_EQ(grey_out.type(), CV_8UC2);
  cv::Mat grey_back;
  cv::extractChannel(grey_out, grey_back, 0);
  EXPECT_TRUE(test::identical(grey_back, grey));
}

TEST(RemoveBackground, ExistingAlphaIsMultipliedIn) {
  cv::Mat object;
  const cv::Mat rgb = scene(320, 240, object);
  const cv::Mat alpha = alpha_ramp(rgb.size());
  const cv::Mat rgba = with_alpha(rgb, alpha);
  cv::Mat a;
  alpha.convertTo(a, CV_32F, 1.0 / 255);
  const cv::Mat expected = k::foreground_mask(rgb).mul(a);
  // The estimate ignores alpha, so the only difference is the product (float rounding: 1e-6).
  EXPECT_LT(cv::norm(k::foreground_mask(rgba), expected, cv::NORM_INF), 1e-6);

  cv::Mat grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  const cv::Mat grey_alpha = with_alpha(grey, alpha);
  EXPECT_LT(cv::norm(k::foreground_mask(grey_alpha), k::foreground_mask(grey).mul(a), cv::NORM_INF), 1e-6);

  // rgba output replaces the alpha with the product: zero where the input was transparent.
  const cv::Mat out = run_op(rgba, {});
  ASSERT_EQ(out.type(), CV_8UC4);
  cv::Mat out_alpha, expected8;
  cv::extractChannel(out, out_alpha, 3);
  expected.convertTo(expected8, CV_8U, 255);
  EXPECT_LE(test::max_abs_diff(out_alpha, expected8), 0);
  EXPECT_EQ(cv::countNonZero(out_alpha(cv::Rect(0, 0, rgb.cols / 4, rgb.rows))), 0);
}

TEST(RemoveBackground, ColourCompositeMatchesNaive) {
  cv::Mat object;
  const cv::Mat rgb = scene(320, 240, object);
  const Colour bg{10, 200, 30, 255};
  struct Case {
    cv::Mat input;
    int expected_type;
  };
  cv::Mat grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::Mat rgb16, grey_alpha16;
  rgb.convertTo(rgb16, CV_16U, 257);
  with_alpha(grey, alpha_ramp(rgb.size())).convertTo(grey_alpha16, CV_16U, 257);
  const std::vector<Case> cases = {
      {rgb, CV_8UC3},
      {grey, CV_8UC3},  // a green background needs RGB
      {with_alpha(rgb, alpha_ramp(rgb.size())), CV_8UC4},
      {rgb16, CV_16UC3},
      {grey_alpha16, CV_16UC4},  // grey + alpha widens to RGBA
  };
  for (const auto& c : cases) {
    const cv::Mat out = run_op(c.input, {{"output", "colour"}, {"background", "#0ac81e"}});
    ASSERT_EQ(out.type(), c.expected_type);
    const cv::Mat mask = k::foreground_mask(c.input);
    const double max = c.input.depth() == CV_16U ? 65535 : 255, scale = max / 255;
    const int in_ch = c.input.channels(), out_ch = out.channels();
    double worst = 0;
    for (int y = 0; y < out.rows; ++y)
      for (int x = 0; x < out.cols; ++x) {
        const double m = static_cast<double>(mask.at<float>(y, x));
        for (int ch = 0; ch < 3; ++ch) {
          const int src_ch = in_ch <= 2 ? 0 : ch;
          const double s = c.input.depth() == CV_16U ? c.input.ptr<std::uint16_t>(y)[x * in_ch + src_ch]
                                                     : c.input.ptr<std::uint8_t>(y)[x * in_ch + src_ch];
          const double b = (ch == 0 ? bg.r : ch == 1 ? bg.g : bg.b) * scale;
          const double want = s * m + b * (1 - m);
          const double got = out.depth() == CV_16U ? out.ptr<std::uint16_t>(y)[x * out_ch + ch]
                                                   : out.ptr<std::uint8_t>(y)[x * out_ch + ch];
          worst = std::max(worst, std::abs(got - want));
        }
        if (out_ch == 4) {  // an opaque background makes every pixel opaque
          const double a = out.depth() == CV_16U ? out.ptr<std::uint16_t>(y)[x * 4 + 3]
                                                 : out.ptr<std::uint8_t>(y)[x * 4 + 3];
          worst = std::max(worst, std::abs(a - max));
        }
      }
    // Rounding to integers plus float arithmetic: 0.5 + a little.
    EXPECT_LE(worst, 0.5 + 1e-3 * scale) << "type " << c.input.type();
  }
}

TEST(RemoveBackground, BlurCompositeMatchesNaive) {
  cv::Mat object;
  const cv::Mat rgb = scene(320, 240, object);
  cv::Mat grey, grey_alpha16;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  with_alpha(grey, alpha_ramp(rgb.size())).convertTo(grey_alpha16, CV_16U, 257);
  for (const cv::Mat& input : {rgb, with_alpha(rgb, alpha_ramp(rgb.size())), grey_alpha16}) {
    const cv::Mat out = run_op(input, {{"output", "blur"}, {"blur", 6.0}});
    ASSERT_EQ(out.type(), input.type());
    const cv::Mat mask = k::foreground_mask(input);
    // The background is the documented gaussian_blur of the image (tested on its own).
    cv::Mat blurred, in64, blurred64, out64;
    k::gaussian_blur(input, blurred, {.sigma = 6.0});
    input.convertTo(in64, CV_64F);
    blurred.convertTo(blurred64, CV_64F);
    out.convertTo(out64, CV_64F);
    const int n = input.channels();
    double worst = 0;
    for (int y = 0; y < out.rows; ++y)
      for (int x = 0; x < out.cols; ++x) {
        const double m = static_cast<double>(mask.at<float>(y, x));
        for (int ch = 0; ch < n; ++ch) {
          const double want =
              in64.ptr<double>(y)[x * n + ch] * m + blurred64.ptr<double>(y)[x * n + ch] * (1 - m);
          worst = std::max(worst, std::abs(out64.ptr<double>(y)[x * n + ch] - want));
        }
      }
    // Rounding to integers (0.5) plus float arithmetic (relative 1e-6 of 65535 at most).
    EXPECT_LE(worst, 0.5 + 0.07) << "type " << input.type();
  }
  // Far from the object the output is blurred: the background noise is smoothed away.
  const cv::Mat out = run_op(rgb, {{"output", "blur"}, {"blur", 6.0}});
  const cv::Rect corner(5, 5, 40, 40);
  cv::Mat lap_in, lap_out;
  cv::Laplacian(rgb(corner), lap_in, CV_32F);
  cv::Laplacian(out(corner), lap_out, CV_32F);
  EXPECT_LT(cv::norm(lap_out), cv::norm(lap_in) / 4);
}

TEST(RemoveBackground, RealPhoto) {
  // The cat fills the middle of the frame: some of it is found, and the mask is neither empty
  // nor everything.
  const Image image = load(test::photo("chelsea.png"));
  const cv::Mat mask = k::foreground_mask(image.pixels);
  ASSERT_EQ(mask.size(), image.pixels.size());
  const double foreground = cv::countNonZero(mask > 0.5) / static_cast<double>(mask.total());
  EXPECT_GT(foreground, 0.02);
  EXPECT_LT(foreground, 0.98);
  const cv::Rect centre(mask.cols / 3, mask.rows / 3, mask.cols / 3, mask.rows / 3);
  EXPECT_GT(cv::mean(mask(centre))[0], cv::mean(mask)[0]);
  // A photo at another size and through the operation: runs, gains alpha, not uniform.
  const cv::Mat out = run_op(load(test::photo("rocket.jpg")).pixels, {});
  ASSERT_EQ(out.type(), CV_8UC4);
  double lo = 0, hi = 0;
  cv::Mat alpha;
  cv::extractChannel(out, alpha, 3);
  cv::minMaxLoc(alpha, &lo, &hi);
  EXPECT_LT(lo, hi);
}

TEST(RemoveBackground, InvalidParameters) {
  EXPECT_NE(test::config_error([] {
              Chain().then("remove_background", {{"mode", "model"}});
            }).find("model"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("remove_background", {{"mean", "0.5,0.5"}});
            }).find("mean"),
            std::string::npos);
  EXPECT_NE(test::config_error([] {
              Chain().then("remove_background", {{"std", "1,0,1"}});
            }).find("std"),
            std::string::npos);
  test::config_error([] { Chain().then("remove_background", {{"output", "sepia"}}); });
  try {
    Chain().then("remove_background", {{"mode", "model"}, {"model", "/nonexistent/model.onnx"}});
    ADD_FAILURE() << "a missing model must fail when the chain is built";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);  // a file the chain names: the chain's mistake
  }
}

// Model mode: tiny Conv(+Sigmoid) networks written with Debian's python3-onnx. The 1x1 conv
// computes 20 * red - 10 on red in 0..1, so red pixels are foreground (sigmoid(10) = 0.99995)
// and red-free pixels background (sigmoid(-10) = 0.0000454).
class RemoveBackgroundModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!test::fs::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 is not installed";
    if (std::system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "the python3 onnx module (Debian python3-onnx) is not installed";
    const auto script = dir_ / "make_models.py";
    test::write_text(script, R"(import sys, onnx
from onnx import helper, TensorProto
def make(path, sigmoid, channels):
    w = [20.0, 0.0, 0.0] if channels == 1 else [0.0, 0.0, 0.0, 20.0, 0.0, 0.0]
    b = [-10.0] if channels == 1 else [0.0, -10.0]
    W = helper.make_tensor('W', TensorProto.FLOAT, [channels, 3, 1, 1], w)
    B = helper.make_tensor('B', TensorProto.FLOAT, [channels], b)
    conv_out = 'logits' if sigmoid else 'mask'
    nodes = [helper.make_node('Conv', ['input', 'W', 'B'], [conv_out], kernel_shape=[1, 1])]
    if sigmoid:
        nodes.append(helper.make_node('Sigmoid', ['logits'], ['mask']))
    graph = helper.make_graph(nodes, 'red_is_foreground',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info('mask', TensorProto.FLOAT, [1, channels, 32, 32])], [W, B])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)
make(sys.argv[1] + '/sigmoid.onnx', True, 1)
make(sys.argv[1] + '/logits.onnx', False, 1)
make(sys.argv[1] + '/two_class.onnx', False, 2)
)");
    const std::string command = "/usr/bin/python3 '" + script.string() + "' '" + dir_.path().string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  }

  Chain chain(const std::string& model, const ParamList& extra = {}) const {
    ParamList params = {{"mode", "model"},
                        {"model", (dir_ / model).string()},
                        {"model_size", 32},
                        {"mean", "0, 0, 0"},
                        {"std", "1 1 1"}};
    params.insert(params.end(), extra.begin(), extra.end());
    return Chain().then("remove_background", params);
  }

  // Left half red, right half blue, with a mild vertical gradient.
  static cv::Mat halves(int channels, int depth) {
    cv::Mat rgb(96, 128, CV_8UC3);
    for (int y = 0; y < rgb.rows; ++y)
      for (int x = 0; x < rgb.cols; ++x)
        rgb.at<cv::Vec3b>(y, x) = x < 64 ? cv::Vec3b(255, static_cast<std::uint8_t>(y), 0)
                                         : cv::Vec3b(0, static_cast<std::uint8_t>(y), 255);
    cv::Mat out = rgb;
    if (channels == 4) out = with_alpha(rgb, cv::Mat(rgb.size(), CV_8U, cv::Scalar(255)));
    if (depth == CV_16U) out.convertTo(out, CV_16U, 257);
    return out;
  }

  // Mean alpha (0..1) of the left and right halves away from the boundary.
  static std::pair<double, double> sides(const cv::Mat& out) {
    cv::Mat alpha;
    cv::extractChannel(out, alpha, out.channels() - 1);
    const double max = out.depth() == CV_16U ? 65535 : 255;
    return {cv::mean(alpha(cv::Rect(0, 0, 48, out.rows)))[0] / max,
            cv::mean(alpha(cv::Rect(80, 0, 48, out.rows)))[0] / max};
  }

  test::TempDir dir_;
};

TEST_F(RemoveBackgroundModel, RedHalfIsForeground) {
  for (const int depth : {CV_8U, CV_16U})
    for (const int channels : {3, 4}) {
      const cv::Mat out = chain("sigmoid.onnx").run(Image(halves(channels, depth)), Context{}).pixels;
      ASSERT_EQ(out.channels(), 4);
      const auto [left, right] = sides(out);
      // sigmoid(+-10) and the guided filter's small spill across the sharp boundary: 0.02.
      EXPECT_GT(left, 0.98) << depth << " " << channels;
      EXPECT_LT(right, 0.02) << depth << " " << channels;
    }
}

TEST_F(RemoveBackgroundModel, LogitsTwoClassesAndInvert) {
  const cv::Mat input = halves(3, CV_8U);
  const cv::Mat reference = chain("sigmoid.onnx").run(Image(input), Context{}).pixels;
  // Raw logits go through the sigmoid: the same mask as the model with its own Sigmoid.
  const cv::Mat logits = chain("logits.onnx").run(Image(input), Context{}).pixels;
  EXPECT_LE(test::max_abs_diff(logits, reference), 1);  // float rounding before 8 bits
  // Two classes [0, 20r - 10]: 1 - softmax(channel 0) = sigmoid(20r - 10), the same rule.
  const cv::Mat two = chain("two_class.onnx").run(Image(input), Context{}).pixels;
  EXPECT_LE(test::max_abs_diff(two, reference), 1);
  const cv::Mat inverted = chain("sigmoid.onnx", {{"invert", true}}).run(Image(input), Context{}).pixels;
  const auto [left, right] = sides(inverted);
  EXPECT_LT(left, 0.02);
  EXPECT_GT(right, 0.98);
  // Only one output: index 1 is refused when the chain is built.
  test::config_error([&] { chain("sigmoid.onnx", {{"output_index", 1}}); });
}

TEST_F(RemoveBackgroundModel, PyramidSharpensTheNetworksEdge) {
  // The network answers at 32 x 32 for a 128-pixel-wide image: its edge, scaled up 4 times, is
  // soft. The pyramid pass learns colour models from that mask and decides the pixels near the
  // edge again at full resolution, where red and blue meet at exactly x = 64.
  const cv::Mat input = halves(3, CV_8U);
  const auto error_to_truth = [&](const char* strategy) {
    const cv::Mat out = chain("sigmoid.onnx", {{"strategy", strategy}}).run(Image(input), Context{}).pixels;
    cv::Mat alpha, truth(input.size(), CV_8U, cv::Scalar(0)), diff;
    cv::extractChannel(out, alpha, 3);
    truth(cv::Rect(0, 0, 64, input.rows)).setTo(255);
    cv::absdiff(alpha, truth, diff);
    return cv::mean(diff)[0];
  };
  const double scaled = error_to_truth("scaled"), pyramid = error_to_truth("pyramid");
  EXPECT_LT(pyramid, 0.5 * scaled) << pyramid << " vs " << scaled;
  const auto [left, right] =
      sides(chain("sigmoid.onnx", {{"strategy", "pyramid"}}).run(Image(input), Context{}).pixels);
  EXPECT_GT(left, 0.98);
  EXPECT_LT(right, 0.02);
}

TEST(RemoveBackground, FrameSeedFindsACentredSubject) {
  // A centred orange subject with a patch in the background's own blue-grey inside it (as a
  // white shirt against a white wall): seeded from the frame, the subject is found whole,
  // patch included.
  cv::Mat object;
  cv::Mat rgb = scene(320, 240, object);
  const cv::Rect patch(150, 120, 24, 24);
  ASSERT_TRUE(cv::countNonZero(object(patch)) == patch.area());
  rgb(patch).setTo(cv::Scalar(95, 135, 155));  // the background's colour near there
  k::ForegroundOptions frame;
  frame.frame = true;
  const cv::Mat by_frame = k::foreground_mask(rgb, frame);
  EXPECT_GT(iou(by_frame, object), 0.9);
  EXPECT_GT(cv::mean(by_frame(patch))[0], 0.9) << "the patch belongs to the subject";
  // The frame seed starts from everything inside the band: background that differs from the
  // border colours must still end up background (the corners here).
  EXPECT_LT(cv::mean(by_frame(cv::Rect(20, 20, 40, 30)))[0], 0.1);
}
