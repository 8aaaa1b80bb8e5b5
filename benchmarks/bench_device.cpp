// Steps on a device against the CPU (docs/acceleration.md): every operation with a device path
// on a photo at 1024², 2048² and 4096² (RGB, 8-bit), run as a one-step chain with device cpu,
// opencl or cuda. The time is the whole step with the copies to the device and back; the
// counters kernel_ms and copy_ms split it (DeviceRun). A device that is not usable here skips
// its rows with the reason. On PoCL (OpenCL on the CPU) this measures imgpipe's and OpenCV's
// overhead on the device path, not a gain.

#include <benchmark/benchmark.h>

#include <imgpipe/imgpipe.hpp>
#include <opencv2/imgproc.hpp>

#include "bench_photos.hpp"

namespace {

using imgpipe::Chain;
using imgpipe::Device;

const imgpipe::Image& photo(int side) {
  static std::map<int, imgpipe::Image> cache;
  auto it = cache.find(side);
  if (it == cache.end()) {
    imgpipe::Image image = imgpipe::load(imgpipe::bench::bench_photo("autumn-2560x1600.jpg"));
    cv::Mat square;
    cv::resize(image.pixels, square, cv::Size(side, side), 0, 0,
               side < image.width() ? cv::INTER_AREA : cv::INTER_CUBIC);
    it = cache.emplace(side, imgpipe::Image(square)).first;
  }
  return it->second;
}

void BM_device(benchmark::State& state, const Chain& chain, Device device) {
  if (device != Device::cpu) {
    const imgpipe::DeviceStatus& status = imgpipe::device_status(device);
    if (!status.usable) return state.SkipWithError(("no device: " + status.problem).c_str());
  }
  const imgpipe::Image& image = photo(static_cast<int>(state.range(0)));
  imgpipe::Context context;
  context.device = device;
  std::vector<imgpipe::DeviceRun> runs;
  context.device_runs = &runs;
  chain.run(image, context);  // builds the device's kernels
  runs.clear();
  for (auto _ : state) benchmark::DoNotOptimize(chain.run(image, context));
  if (runs.empty()) return;
  double kernel = 0, copy = 0;
  for (const auto& run : runs) {
    kernel += run.run_ms;
    copy += run.upload_ms + run.download_ms;
  }
  state.counters["kernel_ms"] = kernel / static_cast<double>(runs.size());
  state.counters["copy_ms"] = copy / static_cast<double>(runs.size());
}

void register_all() {
  const std::vector<std::pair<std::string, Chain>> steps = {
      {"gaussian_blur", Chain().then("gaussian_blur", {{"sigma", 2.0}})},
      {"sharpen", Chain().then("sharpen", {{"amount", 1.0}})},
      {"resize_half", Chain().then("resize", {{"scale", 0.5}})},
      {"adjust_colors",
       Chain().then("adjust_colors", {{"brightness", 1.05}, {"contrast", 1.1}, {"saturation", 1.1}})},
      {"grayscale", Chain().then("grayscale")},
      {"flip", Chain().then("flip")},
      {"rotate_90", Chain().then("rotate", {{"angle", 90.0}})},
      {"chain4", Chain()
                     .then("resize", {{"scale", 0.5}})
                     .then("adjust_colors", {{"contrast", 1.1}})
                     .then("sharpen", {{"amount", 0.5}})
                     .then("gaussian_blur", {{"sigma", 1.0}})},
  };
  for (const auto& [name, chain] : steps)
    for (const Device device : {Device::cpu, Device::opencl, Device::cuda})
      benchmark::RegisterBenchmark(
          ("BM_device/" + name + "/" + std::string(imgpipe::to_string(device))).c_str(),
          [chain = chain, device](benchmark::State& state) { BM_device(state, chain, device); })
          ->Arg(1024)
          ->Arg(2048)
          ->Arg(4096)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
