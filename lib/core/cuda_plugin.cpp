#include "cuda_plugin.hpp"

#include <fmt/format.h>

#include <cstring>
#include <imgpipe/error.hpp>
#include <opencv2/core/cuda.hpp>

#include "plugin.hpp"

namespace imgpipe {

namespace cuda {

namespace {

constexpr const char* kCudaPlugin = "libimgpipe_cuda.so";

template <typename Function>
bool resolve(detail::Plugin& library, Function& function, const char* name) {
  void* address = library.symbol(name);
  if (address) std::memcpy(&function, &address, sizeof function);  // object to function pointer (POSIX)
  return address != nullptr;
}

// Loads the plugin and opens device 0; on failure `problem` says why.
std::unique_ptr<Plugin> open(std::string& problem) {
  detail::Plugin library = detail::load_plugin(kCudaPlugin);
  if (!library.handle) {
    problem = library.problem +
              " (built with -DIMGPIPE_CUDA=ON or AUTO where nvcc is found; "
              "IMGPIPE_PLUGIN_DIR names its folder)";
    return nullptr;
  }
  auto p = std::make_unique<Plugin>();
  Api& a = p->api;
#define IMGPIPE_RESOLVE(member) resolve(library, a.member, "imgpipe_cuda_" #member)
  const bool all = IMGPIPE_RESOLVE(abi_version) && IMGPIPE_RESOLVE(device_count) && IMGPIPE_RESOLVE(create) &&
                   IMGPIPE_RESOLVE(destroy) && IMGPIPE_RESOLVE(device_name) && IMGPIPE_RESOLVE(last_error) &&
                   IMGPIPE_RESOLVE(alloc) && IMGPIPE_RESOLVE(free) && IMGPIPE_RESOLVE(host_alloc) &&
                   IMGPIPE_RESOLVE(host_free) && IMGPIPE_RESOLVE(upload) && IMGPIPE_RESOLVE(download) &&
                   IMGPIPE_RESOLVE(synchronize) && IMGPIPE_RESOLVE(gaussian_blur) &&
                   IMGPIPE_RESOLVE(sharpen) && IMGPIPE_RESOLVE(point_program) && IMGPIPE_RESOLVE(resize) &&
                   IMGPIPE_RESOLVE(flip) && IMGPIPE_RESOLVE(rotate90) && IMGPIPE_RESOLVE(crop) &&
                   IMGPIPE_RESOLVE(grayscale) && IMGPIPE_RESOLVE(palette_assign) &&
                   IMGPIPE_RESOLVE(palette_apply) && IMGPIPE_RESOLVE(dither_ordered);
#undef IMGPIPE_RESOLVE
  if (!all) {
    problem = library.problem + " (a plugin from another build?)";
    return nullptr;
  }
  if (const int version = a.abi_version(); version != IMGPIPE_CUDA_ABI_VERSION) {
    problem = fmt::format("{} has interface version {}, this libimgpipe needs {}", library.path, version,
                          IMGPIPE_CUDA_ABI_VERSION);
    return nullptr;
  }
  char why[512] = {};
  if (a.device_count(why, sizeof why) <= 0) {
    problem = fmt::format("no CUDA device: {}", why);
    return nullptr;
  }
  imgpipe_cuda_context* first = nullptr;
  if (a.create(0, &first, why, sizeof why) != IMGPIPE_CUDA_OK) {
    problem = fmt::format("CUDA device 0 cannot be opened: {}", why);
    return nullptr;
  }
  p->name = a.device_name(first);
  a.destroy(first);
  return p;
}

struct Loaded {
  std::unique_ptr<Plugin> plugin;
  std::string problem;
};

Loaded& loaded() {
  // Never destroyed: device memory still referenced at exit is the driver's to reclaim.
  static Loaded* once = [] {
    auto* l = new Loaded;
    l->plugin = open(l->problem);
    return l;
  }();
  return *once;
}

}  // namespace

Plugin* plugin() {
  return loaded().plugin.get();
}

const std::string& problem() {
  return loaded().problem;
}

imgpipe_cuda_context* thread_context() {
  thread_local imgpipe_cuda_context* context = nullptr;
  if (context) return context;
  Plugin* p = plugin();
  if (!p) throw Error(ErrorCategory::device, "device cuda: " + problem());
  char why[512] = {};
  if (p->api.create(0, &context, why, sizeof why) != IMGPIPE_CUDA_OK)
    throw Error(ErrorCategory::device, fmt::format("device cuda: CUDA device 0 cannot be opened: {}", why));
  return context;
}

void check(int status, const char* what) {
  if (status == IMGPIPE_CUDA_OK) return;
  throw Error(ErrorCategory::device,
              fmt::format("cuda: {} failed: {}", what, plugin()->api.last_error(thread_context())));
}

}  // namespace cuda

namespace {

imgpipe_cuda_image host_image(const cv::Mat& m) {
  return {const_cast<std::uint8_t*>(m.data), m.step[0], m.cols, m.rows, m.channels(),
          static_cast<int>(m.elemSize1())};
}

}  // namespace

CudaBuffer::CudaBuffer(int width, int height, int channels, int depth) {
  cuda::call("alloc", [&](const cuda::Api& api, imgpipe_cuda_context* context) {
    return api.alloc(context, width, height, channels, depth == CV_16U ? 2 : 1, &image_);
  });
}

CudaBuffer::~CudaBuffer() {
  if (image_.data) cuda::plugin()->api.free(cuda::thread_context(), &image_);
}

cv::cuda::GpuMat CudaBuffer::gpu_mat() const {
  return cv::cuda::GpuMat(image_.height, image_.width, CV_MAKETYPE(depth(), image_.channels), image_.data,
                          image_.step);
}

std::shared_ptr<CudaBuffer> CudaBuffer::upload(const cv::Mat& host) {
  auto buffer = std::make_shared<CudaBuffer>(host.cols, host.rows, host.channels(), host.depth());
  const imgpipe_cuda_image from = host_image(host);
  cuda::call("upload", [&](const cuda::Api& api, imgpipe_cuda_context* context) {
    return api.upload(context, &from, &buffer->image_);
  });
  return buffer;
}

cv::Mat CudaBuffer::download() const {
  cv::Mat host(size(), CV_MAKETYPE(depth(), channels()));
  const imgpipe_cuda_image to = host_image(host);
  cuda::call("download", [&](const cuda::Api& api, imgpipe_cuda_context* context) {
    const int status = api.download(context, &image_, &to);
    return status == IMGPIPE_CUDA_OK ? api.synchronize(context) : status;
  });
  return host;
}

}  // namespace imgpipe
