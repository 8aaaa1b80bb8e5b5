// Chains on OpenCL (device: opencl) through PoCL, OpenCL on this machine's CPU. The OpenCL
// runtime OpenCV loads is tests/support/opencl_spy.c, which records every kernel enqueued: each
// test proves that the device ran the steps (kernels were enqueued, by name where they are
// imgpipe's own) rather than trusting that OpenCV did not fall back to the CPU, and compares
// the result with the CPU path (docs/acceleration.md states the tolerances).

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <imgpipe/device.hpp>
#include <opencv2/core/ocl.hpp>
#include <opencv2/imgproc.hpp>

#include "opencl_spy.hpp"
#include "test_support.hpp"

namespace imgpipe::test {
namespace {

class OpenclChains : public OpenclSpyTest {
 protected:
  // Runs `chain` on `image` on OpenCL and on the CPU; returns both, with the device runs.
  struct Both {
    cv::Mat device, cpu;
    std::vector<DeviceRun> runs;
    Kernels kernels;
  };
  static Both run_both(const Chain& chain, const Image& image, Device device = Device::opencl) {
    Both both;
    Context context;
    context.device = device;
    context.device_runs = &both.runs;
    kernels_run();
    both.device = chain.run(image, context).pixels;
    both.kernels = kernels_run();
    context.device = Device::cpu;
    context.device_runs = nullptr;
    both.cpu = chain.run(image, context).pixels;
    return both;
  }

  static Image photo_as(const std::string& name, int channels, int depth, int long_side = 700) {
    return device_photo(name, channels, depth, long_side);
  }
};

struct Case {
  std::string op;
  ParamList params;
  double tolerance;  // the largest difference from the CPU allowed, in levels of the depth
};

TEST_F(OpenclChains, EveryOperationWithAnOpenclPathRunsThereAndMatchesTheCpu) {
  const std::vector<Case> cases = {
      {"gaussian_blur", {{"sigma", 2.0}}, 1},
      {"sharpen", {{"amount", 1.0}, {"radius", 1.5}}, 1},
      {"resize", {{"width", 300}}, 1},
      {"resize", {{"width", 900}, {"kernel", "linear"}}, 1},
      {"grayscale", {}, 1},
      {"flip", {{"direction", "both"}}, 0},
      {"crop", {{"width", 200}, {"height", 150}}, 0},
      {"rotate", {{"angle", 90.0}}, 0},
      // OpenCV's OpenCL warpAffine maps coordinates in float, its CPU path in fixed point (1/32
      // pixel): a few levels apart at sharp edges, the same almost everywhere else (mean below).
      {"rotate", {{"angle", 30.0}}, 12},
      {"adjust_colors", {{"brightness", 1.1}, {"contrast", 1.2}, {"saturation", 1.3}, {"hue", 20.0}}, 0},
      {"edges", {{"method", "sobel"}}, 1},
      // Canny's edges are 0 or 255; OpenCV's OpenCL Canny places a few differently (about one
      // pixel in ten thousand on these photos: the mean below).
      {"edges", {{"method", "canny"}}, 255},
      {"border", {{"size", 20}, {"mode", "color"}, {"color", "#336699"}}, 0},
      {"border", {{"size", 12}, {"mode", "mirror"}}, 0},
      {"watermark", {{"text", "PROOF"}, {"size", 48}, {"opacity", 0.5}, {"position", "center"}}, 1},
  };
  for (const std::string name : {"baboon.jpg", "fruits.jpg"})
    for (const auto& [channels, depth] : {std::pair{3, CV_8U}, {4, CV_8U}, {3, CV_16U}}) {
      const Image image = photo_as(name, channels, depth);
      for (const Case& c : cases) {
        SCOPED_TRACE(
            fmt::format("{} {} channels {}-bit: {}", name, channels, depth == CV_16U ? 16 : 8, c.op));
        const Chain chain = Chain().then(c.op, c.params);
        const Both both = run_both(chain, image);
        ASSERT_EQ(both.runs.size(), 1u);
        EXPECT_EQ(both.runs[0].device, Device::opencl);
        EXPECT_EQ(both.runs[0].first_step, 1);
        EXPECT_EQ(both.runs[0].last_step, 1);
        EXPECT_GT(both.kernels.count, 0) << "no OpenCL kernel ran";
        if (c.op == "adjust_colors") {
          EXPECT_NE(both.kernels.names.find("point_program"), std::string::npos);
        }
        ASSERT_EQ(both.device.size(), both.cpu.size());
        ASSERT_EQ(both.device.type(), both.cpu.type());
        const double scale = depth == CV_16U ? 257 : 1;
        EXPECT_LE(max_abs_diff(both.device, both.cpu), c.tolerance * scale + (depth == CV_16U ? 1 : 0));
        EXPECT_LE(mean_abs_diff(both.device, both.cpu), 0.1 * scale);
      }
    }
}

TEST_F(OpenclChains, ConsecutiveStepsStayOnTheDeviceAndAStepWithoutAPathSplitsTheRun) {
  const Image image = photo_as("rocket.jpg", 3, CV_8U, 1000);
  const Chain together = Chain()
                             .then("resize", {{"width", 800}})
                             .then("adjust_colors", {{"contrast", 1.1}})
                             .then("sharpen", {{"amount", 0.5}})
                             .then("gaussian_blur", {{"sigma", 1.0}});
  Both both = run_both(together, image);
  ASSERT_EQ(both.runs.size(), 1u);
  EXPECT_EQ(both.runs[0].first_step, 1);
  EXPECT_EQ(both.runs[0].last_step, 4);
  EXPECT_GT(both.runs[0].upload_ms, 0);
  EXPECT_GT(both.runs[0].download_ms, 0);
  EXPECT_NE(both.kernels.names.find("point_program"), std::string::npos);
  EXPECT_LE(max_abs_diff(both.device, both.cpu), 2);

  // median has no OpenCL path: the image comes back for it, and goes out again after it.
  const Chain split = Chain()
                          .then("resize", {{"width", 800}})
                          .then("adjust_colors", {{"contrast", 1.1}})
                          .then("median", {{"radius", 1}})
                          .then("flip");
  both = run_both(split, image);
  ASSERT_EQ(both.runs.size(), 2u);
  EXPECT_EQ(both.runs[0].first_step, 1);
  EXPECT_EQ(both.runs[0].last_step, 2);
  EXPECT_EQ(both.runs[1].first_step, 4);
  EXPECT_EQ(both.runs[1].last_step, 4);
  // The resize's level of difference, through contrast 1.1: up to two.
  EXPECT_LE(max_abs_diff(both.device, both.cpu), 2);
}

TEST_F(OpenclChains, AStepsOwnDeviceOverridesTheChains) {
  const Image image = photo_as("building.jpg", 3, CV_8U);
  const Chain chain =
      Chain().then("resize", {{"width", 500}}).then("gaussian_blur", {{"sigma", 1.5}, {"device", "opencl"}});
  EXPECT_NE(chain.canonical().find("\"#device\":\"opencl\""), std::string::npos);
  const Both both = run_both(chain, image, Device::cpu);
  ASSERT_EQ(both.runs.size(), 1u);
  EXPECT_EQ(both.runs[0].first_step, 2);
  EXPECT_EQ(both.runs[0].last_step, 2);
  EXPECT_GT(both.kernels.count, 0);
  EXPECT_LE(max_abs_diff(both.device, both.cpu), 1);
  // With the chain's device cpu and no step's own, nothing runs on OpenCL.
  const Both none = run_both(Chain().then("gaussian_blur", {{"sigma", 1.5}}), image, Device::cpu);
  EXPECT_TRUE(none.runs.empty());
  EXPECT_EQ(none.kernels.count, 0);
  EXPECT_TRUE(identical(none.device, none.cpu));
}

TEST_F(OpenclChains, AutoNeverChoosesOpencl) {
  // PoCL is slower than the CPU path for every operation (docs/acceleration.md): auto keeps
  // even a large blur on the CPU.
  const Image image = photo_as("shell-5120x2880.jpg", 3, CV_8U, 5120);
  const Both both = run_both(Chain().then("gaussian_blur", {{"sigma", 2.0}}), image, Device::automatic);
  EXPECT_TRUE(both.runs.empty());
  EXPECT_EQ(both.kernels.count, 0);
}

}  // namespace
}  // namespace imgpipe::test
