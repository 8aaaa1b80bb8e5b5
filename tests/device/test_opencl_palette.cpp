// The palette step on OpenCL (device: opencl) through PoCL and the spy runtime, as in
// test_opencl_chains.cpp: the full-resolution assignment and every variant's colours run as
// imgpipe's own kernels palette_assign and palette_apply, and every variant is the CPU's bit
// for bit. At ultra (the exact Lab) the step stays on the CPU.

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

class OpenclPalette : public OpenclSpyTest {
 protected:
  // The chain's variants on OpenCL and on the CPU, with the device runs and the kernels.
  struct Both {
    std::vector<Variant> device, cpu;
    std::vector<DeviceRun> runs;
    Kernels kernels;
  };
  static Both run_both(const Chain& chain, const Image& image,
                       QualityPreset quality = QualityPreset::balanced) {
    Both both;
    Context context;
    context.quality = quality;
    context.device = Device::opencl;
    context.device_runs = &both.runs;
    kernels_run();
    both.device = chain.run_variants(image, context);
    both.kernels = kernels_run();
    context.device = Device::cpu;
    context.device_runs = nullptr;
    both.cpu = chain.run_variants(image, context);
    return both;
  }

  static void expect_identical(const Both& both) {
    ASSERT_EQ(both.device.size(), both.cpu.size());
    for (std::size_t i = 0; i < both.cpu.size(); ++i) {
      SCOPED_TRACE(both.cpu[i].name);
      EXPECT_EQ(both.device[i].name, both.cpu[i].name);
      const cv::Mat& device = both.device[i].image.pixels;
      const cv::Mat& cpu = both.cpu[i].image.pixels;
      ASSERT_EQ(device.size(), cpu.size());
      ASSERT_EQ(device.type(), cpu.type());
      EXPECT_TRUE(identical(device, cpu));
    }
  }

  static Image photo_as(const std::string& name, int channels, int depth, int long_side = 600) {
    return device_photo(name, channels, depth, long_side);
  }
};

const char* const kPalettes =
    R"({"night": ["#000", "#f80", "#08f", "#fff"], "sea": ["#1d3557", "#457b9d", "#a8dadc", "#f1faee"],)"
    R"( "sun": ["#3d0c02", "#e63946", "#f4a261", "#ffd166", "#fefae0"]})";

struct Case {
  std::string label;
  int channels, depth;
  ParamList params;
};

TEST_F(OpenclPalette, EveryVariantRunsOnOpenclAndIsTheCpusBitForBit) {
  const std::vector<Case> cases = {
      {"palettes", 3, CV_8U, {{"colors", kPalettes}, {"k", 8}}},
      {"preserve_shading", 3, CV_8U, {{"colors", kPalettes}, {"k", 6}, {"preserve_shading", true}}},
      {"nearest", 3, CV_8U, {{"colors", kPalettes}, {"k", 10}, {"mapping", "nearest"}}},
      {"rgba transparent", 4, CV_8U, {{"colors", kPalettes}, {"k", 8}, {"masked", "transparent"}}},
      {"rgba fill", 4, CV_8U, {{"colors", kPalettes}, {"k", 5}, {"masked", "fill"}, {"fill", "#123456"}}},
      {"rgba mask none", 4, CV_8U, {{"colors", kPalettes}, {"k", 6}, {"mask", "none"}}},
      {"rgba keep", 4, CV_8U, {{"colors", kPalettes}, {"k", 5}, {"preserve_shading", true}}},
      {"16-bit", 3, CV_16U, {{"colors", kPalettes}, {"k", 8}}},
      {"16-bit rgba", 4, CV_16U, {{"colors", kPalettes}, {"k", 7}, {"masked", "transparent"}}},
      {"centers", 3, CV_8U, {{"palettes", "centers"}, {"k", 12}}},
  };
  for (const std::string name : {"baboon.jpg", "fruits.jpg"})
    for (const Case& c : cases) {
      SCOPED_TRACE(fmt::format("{}: {}", name, c.label));
      const Image image = photo_as(name, c.channels, c.depth);
      const Both both = run_both(Chain().then("palette", c.params), image);
      ASSERT_FALSE(both.runs.empty());
      EXPECT_EQ(both.runs[0].device, Device::opencl);
      EXPECT_TRUE(both.kernels.ran("palette_assign")) << both.kernels.names;
      EXPECT_TRUE(both.kernels.ran("palette_apply")) << both.kernels.names;
      expect_identical(both);
    }
}

TEST_F(OpenclPalette, AtUltraTheStepStaysOnTheCpu) {
  const Image image = photo_as("fruits.jpg", 3, CV_8U);
  const Both both =
      run_both(Chain().then("palette", {{"colors", kPalettes}, {"k", 6}}), image, QualityPreset::ultra);
  EXPECT_TRUE(both.runs.empty());
  EXPECT_FALSE(both.kernels.ran("palette_assign")) << both.kernels.names;
  EXPECT_FALSE(both.kernels.ran("palette_apply")) << both.kernels.names;
  expect_identical(both);
}

}  // namespace
}  // namespace imgpipe::test
