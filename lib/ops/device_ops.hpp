#pragma once
// What operations' device paths (Operation::runs_on / apply_on) share: running a kernel on an
// image's cv::UMat (OpenCL through OpenCV), and a CUDA plugin call into a new buffer.

#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <opencv2/core/ocl.hpp>
#include <string>

#include "../core/cuda_plugin.hpp"

namespace imgpipe::ops {

// Replaces the image's cv::UMat with what kernel(in, out) writes: with a cv::UMat, OpenCV runs
// its OpenCL path.
template <typename Kernel>
void on_umat(DeviceImage& image, Kernel&& kernel) {
  cv::UMat out;
  kernel(image.umat, out);
  image.umat = std::move(out);
}

// Runs imgpipe's own OpenCL kernel `name` (from `source`, built with `options`) with one work
// item per pixel of `out`; its arguments are `in` (pointer, step, offset), `out` (pointer, step,
// offset, rows, cols), then `args`. Throws Error(device) when it does not build or run.
template <typename... Args>
void run_opencl_kernel(const char* name, const cv::ocl::ProgramSource& source, const std::string& options,
                       const cv::UMat& in, cv::UMat& out, const Args&... args) {
  cv::ocl::Kernel kernel(name, source, options);
  if (kernel.empty())
    throw Error(ErrorCategory::device,
                std::string("opencl: imgpipe's ") + name + " kernel does not build here");
  kernel.args(cv::ocl::KernelArg::ReadOnlyNoSize(in), cv::ocl::KernelArg::WriteOnly(out), args...);
  std::size_t global[2] = {static_cast<std::size_t>(out.cols), static_cast<std::size_t>(out.rows)};
  if (!kernel.run(2, global, nullptr, false))
    throw Error(ErrorCategory::device, std::string("opencl: imgpipe's ") + name + " kernel failed to run");
}

// Replaces the image's CUDA buffer with a new one of `size`, `channels` and `depth` (CV_8U or
// CV_16U) that call(api, context, in, out) — one plugin call — fills; `what` names it in errors.
template <typename Call>
void on_cuda(DeviceImage& image, cv::Size size, int channels, int depth, const char* what, Call&& call) {
  auto out = std::make_shared<CudaBuffer>(size.width, size.height, channels, depth);
  const imgpipe_cuda_image& in = image.cuda->image();
  cuda::call(what, [&](const cuda::Api& api, imgpipe_cuda_context* context) {
    return call(api, context, &in, &out->image());
  });
  image.cuda = std::move(out);
}

// on_cuda() for a kernel whose output has the input's depth.
template <typename Call>
void on_cuda(DeviceImage& image, cv::Size size, int channels, const char* what, Call&& call) {
  on_cuda(image, size, channels, image.depth(), what, std::forward<Call>(call));
}

// on_cuda() for a kernel whose output has the input's size and channels.
template <typename Call>
void on_cuda_same(DeviceImage& image, const char* what, Call&& call) {
  on_cuda(image, image.size(), image.channels(), what, std::forward<Call>(call));
}

}  // namespace imgpipe::ops
