// The ONNX segmentation model behind remove_background's `mode: model`: the only user of
// OpenCV's dnn module, built as a plugin (libimgpipe_dnn.so) that libimgpipe loads on first
// use, so that dnn and protobuf stay off every other process's start (~4 ms each time).

#include <fmt/format.h>

#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <mutex>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "../core/channels.hpp"
#include "../ops/effects/segmentation_backend.hpp"
#include "../ops/pixels.hpp"

namespace imgpipe::kernels {

namespace {

struct DnnState {
  cv::dnn::Net net;
  std::vector<cv::String> outputs;
  std::mutex mutex;  // cv::dnn::Net::forward is not reentrant
};

class DnnSegmentation final : public SegmentationBackend {
 public:
  explicit DnnSegmentation(const SegmentationModelOptions& options);
  cv::Mat predict(cv::InputArray image) const override;

 private:
  SegmentationModelOptions options_;
  std::unique_ptr<DnnState> impl_;
};

DnnSegmentation::DnnSegmentation(const SegmentationModelOptions& options)
    : options_(options), impl_(std::make_unique<DnnState>()) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(options.path, ec))
    throw Error(ErrorCategory::io, fmt::format("remove_background: model file {} not found", options.path));
  try {
    impl_->net = cv::dnn::readNetFromONNX(options.path);
  } catch (const cv::Exception& e) {
    throw Error(ErrorCategory::config,
                fmt::format("remove_background: cannot read {} as an ONNX model: {}", options.path, e.err));
  }
  if (impl_->net.empty())
    throw Error(ErrorCategory::config, fmt::format("remove_background: {} holds no network", options.path));
  impl_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  impl_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  impl_->outputs = impl_->net.getUnconnectedOutLayersNames();
  if (options.output_index >= static_cast<int>(impl_->outputs.size()))
    throw Error(ErrorCategory::config,
                fmt::format("remove_background.output_index: the model has {} output(s), got index {}",
                            impl_->outputs.size(), options.output_index));
}

cv::Mat DnnSegmentation::predict(cv::InputArray image_array) const {
  const cv::Mat image = image_array.getMat();
  cv::Mat rgb = imgpipe::detail::colour_as_rgb(image);
  const cv::Size size(options_.size, options_.size);
  cv::Mat small, input;
  const bool shrinking = rgb.cols > size.width || rgb.rows > size.height;
  cv::resize(rgb, small, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  small.convertTo(input, CV_32F, 1.0 / ops::max_value(image));
  const auto& m = options_.mean;
  const auto& s = options_.std;
  cv::subtract(input, cv::Scalar(m[0], m[1], m[2]), input);
  cv::divide(input, cv::Scalar(s[0], s[1], s[2]), input);
  const cv::Mat blob = cv::dnn::blobFromImage(input);  // NCHW, no scaling, no channel swap

  cv::Mat out;
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->net.setInput(blob);
    std::vector<cv::Mat> results;
    impl_->net.forward(results, impl_->outputs);
    out = results[static_cast<std::size_t>(options_.output_index)].clone();
  }

  // 1xHxW, 1x1xHxW or 1xCxHxW as C planes of HxW.
  const int dims = out.dims;
  if (dims < 2 || dims > 4 || (dims >= 3 && out.size[0] != 1))
    throw Error(
        ErrorCategory::unsupported,
        fmt::format("remove_background: the model's output has {} dimensions; expected 1xHxW or 1xCxHxW",
                    dims));
  const int h = out.size[dims - 2], w = out.size[dims - 1];
  const int c = dims == 4 ? out.size[1] : 1;
  std::vector<cv::Mat> planes;
  for (int i = 0; i < c; ++i)
    planes.emplace_back(h, w, CV_32F, out.ptr<float>() + static_cast<std::size_t>(i) * h * w);

  double lo = 0, hi = 0;
  cv::minMaxLoc(out.reshape(1, 1), &lo, &hi);
  const bool probabilities = lo >= 0 && hi <= 1;
  cv::Mat mask;
  if (c == 1) {
    if (probabilities) {
      mask = planes[0].clone();
    } else {
      cv::exp(-planes[0], mask);
      mask = 1.0 / (1.0 + mask);
    }
  } else {
    cv::Mat sum = cv::Mat::zeros(h, w, CV_32F);
    for (const auto& p : planes) sum += p;
    double sum_lo = 0, sum_hi = 0;
    cv::minMaxLoc(sum, &sum_lo, &sum_hi);
    if (probabilities && sum_lo > 0.99 && sum_hi < 1.01) {
      mask = 1.0 - planes[0];
    } else {
      // Softmax: p0 = 1 / sum_i exp(x_i - x_0).
      cv::Mat total = cv::Mat::zeros(h, w, CV_32F), e;
      for (const auto& p : planes) {
        cv::exp(cv::min(p - planes[0], 80.0), e);
        total += e;
      }
      mask = 1.0 - 1.0 / total;
    }
  }
  if (options_.invert) mask = 1.0 - mask;
  return mask;
}

}  // namespace

}  // namespace imgpipe::kernels

extern "C" imgpipe::kernels::SegmentationBackend* imgpipe_create_segmentation_backend(
    const imgpipe::kernels::SegmentationModelOptions* options) {
  return new imgpipe::kernels::DnnSegmentation(*options);
}
