// SegmentationModel: the ONNX model of remove_background's `mode: model`, run by the cv::dnn
// plugin. The plugin is loaded on the first model, from IMGPIPE_PLUGIN_DIR or else the folder
// libimgpipe itself was loaded from (where the build and `cmake --install` put it).

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <mutex>
#include <string>

#include "../../core/plugin.hpp"
#include "segmentation_backend.hpp"

namespace imgpipe::kernels {

namespace {

SegmentationFactory load_factory() {
  static std::once_flag once;
  static SegmentationFactory factory = nullptr;
  static std::string problem;
  std::call_once(once, [] {
    detail::Plugin plugin = detail::load_plugin(kSegmentationPlugin);
    if (void* symbol = plugin.symbol(kSegmentationFactorySymbol))
      std::memcpy(&factory, &symbol, sizeof factory);  // object to function pointer, as POSIX allows
    else
      problem = plugin.problem;
  });
  if (!factory)
    throw Error(
        ErrorCategory::unsupported,
        fmt::format("remove_background: mode model needs the cv::dnn plugin; {} (set IMGPIPE_PLUGIN_DIR to "
                    "its folder)",
                    problem));
  return factory;
}

}  // namespace

struct SegmentationModel::Impl {
  std::unique_ptr<SegmentationBackend> backend;
};

SegmentationModel::SegmentationModel(const SegmentationModelOptions& options)
    : options_(options), impl_(std::make_unique<Impl>()) {
  impl_->backend.reset(load_factory()(&options));
}

SegmentationModel::~SegmentationModel() = default;

cv::Mat SegmentationModel::predict(cv::InputArray image) const {
  return impl_->backend->predict(image);
}

}  // namespace imgpipe::kernels
