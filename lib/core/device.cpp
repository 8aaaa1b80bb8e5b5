#include <fmt/format.h>

#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <opencv2/core/ocl.hpp>

#include "cuda_plugin.hpp"

namespace imgpipe {

cv::Size DeviceImage::size() const {
  return device == Device::cuda ? cuda->size() : umat.size();
}
int DeviceImage::channels() const {
  return device == Device::cuda ? cuda->channels() : umat.channels();
}
int DeviceImage::depth() const {
  return device == Device::cuda ? cuda->depth() : umat.depth();
}

namespace {

DeviceStatus opencl_status() {
  DeviceStatus status;
  if (!cv::ocl::haveOpenCL()) {
    status.problem =
        "no OpenCL runtime or platform (install an ICD such as pocl-opencl-icd or the GPU vendor's; "
        "OPENCV_OPENCL_RUNTIME=disabled turns it off)";
    return status;
  }
  cv::ocl::setUseOpenCL(true);
  const cv::ocl::Device& device = cv::ocl::Device::getDefault();
  if (!cv::ocl::useOpenCL() || !device.available()) {
    status.problem =
        "OpenCL has no device OpenCV uses (by default it takes GPUs only; OPENCV_OPENCL_DEVICE selects "
        "another, e.g. :CPU: for PoCL)";
    return status;
  }
  status.usable = true;
  status.gpu = device.type() == cv::ocl::Device::TYPE_GPU;
  status.name = fmt::format("{} ({}, {})", device.name(), device.vendorName(), device.version());
  return status;
}

DeviceStatus cuda_status() {
  DeviceStatus status;
  if (cuda::Plugin* p = cuda::plugin()) {
    status.usable = status.gpu = true;
    status.name = p->name;
  } else {
    status.problem = cuda::problem();
  }
  return status;
}

}  // namespace

const DeviceStatus& device_status(Device device) {
  static const DeviceStatus host{true, false, "cpu", ""};
  if (device == Device::opencl) {
    static const DeviceStatus opencl = opencl_status();
    return opencl;
  }
  if (device == Device::cuda) {
    static const DeviceStatus cuda = cuda_status();
    return cuda;
  }
  return host;
}

DeviceImage upload(const cv::Mat& pixels, Device device) {
  if (device != Device::opencl && device != Device::cuda)
    throw Error(ErrorCategory::internal, fmt::format("upload: {} is not a device", to_string(device)));
  require_device(device);
  DeviceImage image;
  image.device = device;
  if (device == Device::cuda)
    image.cuda = CudaBuffer::upload(pixels);
  else
    pixels.copyTo(image.umat);  // a copy into device memory; getUMat() would share the host's
  return image;
}

cv::Mat download(const DeviceImage& image) {
  if (image.device == Device::cuda) return image.cuda->download();
  cv::Mat host;
  image.umat.copyTo(host);
  return host;
}

void synchronize(Device device) {
  if (device == Device::cuda)
    cuda::call("synchronize",
               [](const cuda::Api& api, imgpipe_cuda_context* c) { return api.synchronize(c); });
  else if (device == Device::opencl)
    cv::ocl::finish();
}

void require_device(Device device) {
  if (device != Device::opencl && device != Device::cuda) return;
  if (const DeviceStatus& status = device_status(device); !status.usable)
    throw Error(ErrorCategory::device, fmt::format("device {}: {}", to_string(device), status.problem));
}

std::string DeviceRun::describe() const {
  const std::string steps = first_step == last_step ? fmt::format("step {}", first_step)
                                                    : fmt::format("steps {}-{}", first_step, last_step);
  return fmt::format("{} on {} ({}): upload {:.1f} ms, run {:.1f} ms, download {:.1f} ms", steps,
                     to_string(device), name, upload_ms, run_ms, download_ms);
}

}  // namespace imgpipe
