#pragma once
// The seam between remove_background and its model plugin (libimgpipe_dnn.so): the plugin
// exports one C function that makes a backend; libimgpipe loads it with dlopen on first use.

#include <imgpipe/kernels/remove_background.hpp>
#include <opencv2/core/mat.hpp>

namespace imgpipe::kernels {

class SegmentationBackend {
 public:
  virtual ~SegmentationBackend() = default;
  // Foreground probability (CV_32FC1, 0..1) at the model's output resolution.
  virtual cv::Mat predict(cv::InputArray image) const = 0;
};

// extern "C" SegmentationBackend* imgpipe_create_segmentation_backend(const SegmentationModelOptions*)
using SegmentationFactory = SegmentationBackend* (*)(const SegmentationModelOptions*);
inline constexpr const char* kSegmentationFactorySymbol = "imgpipe_create_segmentation_backend";
inline constexpr const char* kSegmentationPlugin = "libimgpipe_dnn.so";

}  // namespace imgpipe::kernels
