#pragma once
/// \file
/// Devices: where a chain's steps run (docs/acceleration.md).
///
/// A step runs on the CPU unless the chain (`performance: {device: …}`, `--device`,
/// Context::device) or the step itself (`- gaussian_blur: {sigma: 2, device: opencl}`) asks
/// for a device and the operation has a path there (Operation::runs_on()). Consecutive steps
/// on one device keep the image there: it is copied to the device before the first and back
/// after the last, and nowhere in between.

#include <imgpipe/context.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>

namespace imgpipe {

class CudaBuffer;  // an image in CUDA device memory, owned (lib/core/cuda_plugin.hpp)

/// An image held on a device: a cv::UMat on OpenCL, a CudaBuffer on CUDA. Metadata stays with
/// the Image it came from; a DeviceImage is pixels only.
struct DeviceImage {
  Device device = Device::opencl;    ///< opencl or cuda
  cv::UMat umat;                     ///< the pixels on OpenCL
  std::shared_ptr<CudaBuffer> cuda;  ///< the pixels on CUDA
  cv::Size size() const;             ///< width and height
  int channels() const;              ///< 1..4, alpha last
  int depth() const;                 ///< CV_8U or CV_16U
};

/// Whether `device` (opencl or cuda) can run steps in this process, and what it is.
struct DeviceStatus {
  bool usable = false;  ///< whether steps can run there
  bool gpu = false;     ///< whether it is a GPU (OpenCL on the CPU, such as PoCL, is not)
  std::string name;     ///< "NVIDIA H100 80GB HBM3 (sm_90, 80 GB)", "pthread-AMD EPYC… (PoCL)"
  std::string problem;  ///< when not usable: what is missing, in words
};
/// The device's status, found once per process (the first call loads OpenCL's runtime or the
/// CUDA plugin). cpu and auto are always usable.
const DeviceStatus& device_status(Device device);

/// Throws Error(device) naming what is missing when `device` is opencl or cuda and not usable.
void require_device(Device device);

/// `pixels` copied to `device` (opencl or cuda); throws Error(device) when it is not usable.
DeviceImage upload(const cv::Mat& pixels, Device device);
/// The image's pixels copied back to the host, once everything queued on it has finished.
cv::Mat download(const DeviceImage& image);
/// Waits until everything queued on `device` has finished (for timing).
void synchronize(Device device);

/// One run of consecutive steps on a device, for -v, --profile and the batch report.
struct DeviceRun {
  /// The first and last step of the run, 1-based as in "step 2: resize".
  ///@{
  int first_step = 0, last_step = 0;
  ///@}
  Device device = Device::cpu;   ///< opencl or cuda
  std::string name;              ///< DeviceStatus::name
  double upload_ms = 0;          ///< copying the image to the device
  double run_ms = 0;             ///< the steps, waited for
  double download_ms = 0;        ///< copying the result back
  std::string describe() const;  ///< "steps 2-4 on opencl (NAME): upload 1.2 ms, run …"
};

}  // namespace imgpipe
