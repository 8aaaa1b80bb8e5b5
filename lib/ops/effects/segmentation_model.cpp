// SegmentationModel: the ONNX model of remove_background's `method: model`, run by the cv::dnn
// plugin. The plugin is loaded on the first model, from IMGPIPE_PLUGIN_DIR or else the folder
// libimgpipe itself was loaded from (where the build and `cmake --install` put it). Also the
// models known by name and the folders names are looked up in.

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <imgpipe/error.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
        fmt::format("remove_background: method model needs the cv::dnn plugin; {} (set IMGPIPE_PLUGIN_DIR to "
                    "its folder)",
                    problem));
  return factory;
}

}  // namespace

std::optional<SegmentationModelOptions> known_segmentation_model(std::string_view name) {
  if (name == "isnet") {
    // The network was trained on (x - 128) / 256 of RGB 0..255: on 0..1 samples that is a mean
    // of 128/255 and a divisor of 256/255.
    constexpr double kMean = 128.0 / 255.0, kStd = 256.0 / 255.0;
    return SegmentationModelOptions{.path = {},
                                    .size = 1024,
                                    .mean = {kMean, kMean, kMean},
                                    .std = {kStd, kStd, kStd},
                                    .output_index = 0};
  }
  return std::nullopt;
}

bool is_segmentation_model_name(std::string_view value) {
  return !value.empty() && value.find('/') == std::string_view::npos && !value.ends_with(".onnx");
}

std::vector<std::filesystem::path> segmentation_model_folders() {
  std::vector<std::filesystem::path> folders;
  if (const char* dir = std::getenv("IMGPIPE_MODEL_DIR"); dir && *dir) folders.emplace_back(dir);
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data)
    folders.push_back(std::filesystem::path(data) / "imgpipe" / "models");
  else if (const char* home = std::getenv("HOME"); home && *home)
    folders.push_back(std::filesystem::path(home) / ".local" / "share" / "imgpipe" / "models");
#ifdef IMGPIPE_MODEL_PREFIX_DIR
  folders.emplace_back(IMGPIPE_MODEL_PREFIX_DIR);  // <install prefix>/share/imgpipe/models, from CMake
#else
  folders.emplace_back("/usr/local/share/imgpipe/models");
  folders.emplace_back("/usr/share/imgpipe/models");
#endif
  return folders;
}

std::optional<std::filesystem::path> find_segmentation_model(std::string_view name) {
  for (const auto& folder : segmentation_model_folders()) {
    const auto candidate = folder / (std::string(name) + ".onnx");
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

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
