// SegmentationModel: the ONNX model of remove_background's `mode: model`, run by the cv::dnn
// plugin. The plugin is loaded on the first model, from IMGPIPE_PLUGIN_DIR or else the folder
// libimgpipe itself was loaded from (where the build and `cmake --install` put it).

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <mutex>
#include <string>

#include "segmentation_backend.hpp"

namespace imgpipe::kernels {

namespace {

const int kAnchor = 0;  // an object inside libimgpipe, for dladdr

SegmentationFactory load_factory() {
  static std::once_flag once;
  static SegmentationFactory factory = nullptr;
  static std::string problem;
  std::call_once(once, [] {
    std::filesystem::path folder;
    if (const char* env = std::getenv("IMGPIPE_PLUGIN_DIR"); env && *env) {
      folder = env;
    } else {
      Dl_info info{};
      if (dladdr(&kAnchor, &info) && info.dli_fname)
        folder = std::filesystem::path(info.dli_fname).parent_path();
    }
    const auto path = folder / kSegmentationPlugin;
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      problem = fmt::format("cannot load {}: {}", path.string(), dlerror());
      return;
    }
    void* symbol = dlsym(handle, kSegmentationFactorySymbol);
    if (!symbol) {
      problem = fmt::format("{} has no {}", path.string(), kSegmentationFactorySymbol);
      return;
    }
    std::memcpy(&factory, &symbol, sizeof factory);  // object to function pointer, as POSIX allows
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
