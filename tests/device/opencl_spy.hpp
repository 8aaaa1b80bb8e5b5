#pragma once
// What the device tests share: OpenCV told to load tests/support/opencl_spy.c as its OpenCL
// runtime (and PoCL as its device) before any test runs, the kernels the spy recorded, and a
// fixture that skips without an OpenCL device and fails when the spy is not the runtime in use
// (then nothing would prove where the work ran).

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <imgpipe/device.hpp>
#include <opencv2/core/ocl.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "test_support.hpp"

namespace imgpipe::test {

// A real photo with `long_side` pixels on its long side, as 3 (RGB) or 4 channels (with
// with_radial_alpha()), 8- or 16-bit (× 257).
inline Image device_photo(const std::string& name, int channels, int depth, int long_side) {
  cv::Mat pixels = load(photo(name)).pixels;
  const double scale = static_cast<double>(long_side) / std::max(pixels.cols, pixels.rows);
  cv::resize(pixels, pixels, {}, scale, scale, cv::INTER_AREA);
  if (channels == 4) pixels = with_radial_alpha(pixels);
  if (depth == CV_16U) pixels.convertTo(pixels, CV_16U, 257);
  return Image(pixels);
}

// OpenCV reads where its OpenCL runtime is the first time it needs it: before any test runs.
inline const bool kSpyInstalled = [] {
  setenv("OPENCV_OPENCL_RUNTIME", IMGPIPE_OPENCL_SPY, 1);
  setenv("OPENCV_OPENCL_DEVICE", ":CPU:", 1);
  return true;
}();

// The kernels and device copies enqueued since the last call: how many, and their names
// separated by spaces.
struct Kernels {
  int count = 0;
  std::string names;
  bool ran(const std::string& name) const { return names.find(name) != std::string::npos; }
};
inline Kernels kernels_run() {
  using Read = int (*)(char*, std::size_t);
  static Read read = [] {
    void* spy = dlopen(IMGPIPE_OPENCL_SPY, RTLD_NOW | RTLD_NOLOAD);
    return spy ? reinterpret_cast<Read>(dlsym(spy, "imgpipe_spy_kernels_run")) : nullptr;
  }();
  Kernels k;
  if (!read) return k;
  std::string names(8192, '\0');
  k.count = read(names.data(), names.size());
  k.names = names.c_str();
  return k;
}

// Skips without an OpenCL device; asserts that OpenCV loaded the spy and uses OpenCL; clears
// the spy's record.
class OpenclSpyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kSpyInstalled);
    const DeviceStatus& status = device_status(Device::opencl);
    if (!status.usable) GTEST_SKIP() << "no OpenCL device: " << status.problem;
    ASSERT_NE(dlopen(IMGPIPE_OPENCL_SPY, RTLD_NOW | RTLD_NOLOAD), nullptr)
        << "OpenCV did not load the spy runtime";
    ASSERT_TRUE(cv::ocl::useOpenCL());
    kernels_run();
  }
};

}  // namespace imgpipe::test
