// The CUDA plugin's kernels as the device runs them (lib/cuda/filter.hpp, geometry.hpp), run
// on the host against the CPU kernels: the same passes, tables and float operations, so that
// parity is checked on every machine, GPU or not. test_cuda_plugin.cpp checks the device itself.

#include <gtest/gtest.h>

#include <iostream>

#include "cases.hpp"
#include "cuda/filter.hpp"
#include "cuda/geometry.hpp"
#include "host_executor.hpp"

namespace imgpipe::test::cuda {
namespace {

// The kernel's output for `in`, run through its passes on the host.
cv::Mat emulated(const Case& c, const cv::Mat& in, const cv::Mat& expected_out) {
  cv::Mat out(expected_out.size(), expected_out.type(), cv::Scalar::all(0));
  const imgpipe_cuda_image src = view(in), dst = view(out);
  HostExecutor exec;
  switch (c.kernel) {
    case Kernel::gaussian_blur: gpu::gaussian_blur(exec, src, dst, c.sigma); break;
    case Kernel::sharpen: gpu::sharpen(exec, src, dst, c.amount, c.radius, c.threshold); break;
    case Kernel::resize: gpu::resize(exec, src, dst, c.interpolation); break;
    case Kernel::flip: gpu::move(exec, src, dst, 0, c.horizontal != 0, c.vertical != 0); break;
    case Kernel::rotate90: gpu::move(exec, src, dst, c.quarter_turns, false, false); break;
    case Kernel::crop: {
      const cv::Point at = crop_origin(in.size());
      gpu::crop(exec, src, dst, at.x, at.y);
      break;
    }
    case Kernel::grayscale: gpu::grayscale(exec, src, dst, c.weights, c.keep_channels != 0); break;
  }
  return out;
}

class Arithmetic : public testing::TestWithParam<Case> {
 protected:
  static void SetUpTestSuite() { inputs_ = new std::vector<Input>(inputs()); }
  static void TearDownTestSuite() {
    delete inputs_;
    inputs_ = nullptr;
  }
  static std::vector<Input>* inputs_;
};

std::vector<Input>* Arithmetic::inputs_ = nullptr;

TEST_P(Arithmetic, MatchesTheCpuKernel) {
  const Case& c = GetParam();
  for (const Input& input : *inputs_) {
    SCOPED_TRACE(input.name);
    const cv::Mat want = expected(c, input.pixels);
    const cv::Mat got = emulated(c, input.pixels, want);
    const Comparison result = compare(got, want);
    std::cout << c.name << " " << input.name << ": max " << result.max_diff << ", " << result.differing
              << " of " << result.samples << " samples differ\n";
    EXPECT_LE(result.max_diff, c.exact ? 0.0 : 1.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, Arithmetic, testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace imgpipe::test::cuda
