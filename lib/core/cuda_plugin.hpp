#pragma once
// The CUDA plugin (libimgpipe_cuda.so, lib/cuda/) seen from libimgpipe: loaded with dlopen on
// first use, so that libimgpipe never links cudart, and its images as owned buffers.

#include <imgpipe/device.hpp>
#include <memory>
#include <string>

#include "../cuda/imgpipe_cuda.h"

namespace imgpipe {

namespace cuda {

// The plugin's functions, resolved once.
struct Api {
  decltype(&imgpipe_cuda_abi_version) abi_version;
  decltype(&imgpipe_cuda_device_count) device_count;
  decltype(&imgpipe_cuda_create) create;
  decltype(&imgpipe_cuda_destroy) destroy;
  decltype(&imgpipe_cuda_device_name) device_name;
  decltype(&imgpipe_cuda_last_error) last_error;
  decltype(&imgpipe_cuda_alloc) alloc;
  decltype(&imgpipe_cuda_free) free;
  decltype(&imgpipe_cuda_host_alloc) host_alloc;
  decltype(&imgpipe_cuda_host_free) host_free;
  decltype(&imgpipe_cuda_upload) upload;
  decltype(&imgpipe_cuda_download) download;
  decltype(&imgpipe_cuda_synchronize) synchronize;
  decltype(&imgpipe_cuda_gaussian_blur) gaussian_blur;
  decltype(&imgpipe_cuda_sharpen) sharpen;
  decltype(&imgpipe_cuda_point_program) point_program;
  decltype(&imgpipe_cuda_resize) resize;
  decltype(&imgpipe_cuda_flip) flip;
  decltype(&imgpipe_cuda_rotate90) rotate90;
  decltype(&imgpipe_cuda_crop) crop;
  decltype(&imgpipe_cuda_grayscale) grayscale;
  decltype(&imgpipe_cuda_palette_assign) palette_assign;
  decltype(&imgpipe_cuda_palette_apply) palette_apply;
  decltype(&imgpipe_cuda_dither_ordered) dither_ordered;
};

// The plugin's functions and device 0's name, or null with problem() saying why (no plugin, a
// plugin of another ABI, no driver, no device).
struct Plugin {
  Api api{};
  std::string name;
};
Plugin* plugin();
// This thread's context on device 0: its own stream, so that the images of a batch, each on its
// worker thread, overlap their copies and kernels. Made on a thread's first device step and
// kept for the process's life. Throws Error(device) when there is no plugin or it fails.
imgpipe_cuda_context* thread_context();
// Why plugin() is null ("" when it is not).
const std::string& problem();

// Throws Error(device) naming `what` and the plugin's message when `status` is not OK.
void check(int status, const char* what);

// Calls `body(api, context)` — one plugin call returning its status — on this thread's context,
// and throws Error(device) naming `what` and the plugin's message when it fails.
template <typename Body>
void call(const char* what, Body&& body) {
  imgpipe_cuda_context* context = thread_context();
  check(body(plugin()->api, context), what);
}

}  // namespace cuda

// An image in CUDA device memory, freed with the buffer. gpu_mat() hands out a
// cv::cuda::GpuMat header over it for code that works with OpenCV's CUDA types.
class CudaBuffer {
 public:
  CudaBuffer(int width, int height, int channels, int depth);  // depth: CV_8U or CV_16U
  ~CudaBuffer();
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;

  const imgpipe_cuda_image& image() const { return image_; }
  cv::Size size() const { return {image_.width, image_.height}; }
  int channels() const { return image_.channels; }
  int depth() const { return image_.depth == 2 ? CV_16U : CV_8U; }
  // A header over the buffer (no copy); valid while the buffer lives.
  cv::cuda::GpuMat gpu_mat() const;

  // Copies `host` (the buffer's size and type) to the device / the device's pixels to `host`.
  static std::shared_ptr<CudaBuffer> upload(const cv::Mat& host);
  cv::Mat download() const;

 private:
  imgpipe_cuda_image image_{};
};

}  // namespace imgpipe
