// Per-operation and per-codec timings at 512, 1024 and 2048 px (long side) on a real photo,
// through the public API exactly as a chain runs them: every example of every operation.
//   build/benchmarks/bench_ops --benchmark_filter=resize
#include <benchmark/benchmark.h>
#include <vips/vips.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <string>

#include "bench_photos.hpp"

namespace {

using imgpipe::bench::bench_photo;

// The 2560x1600 photo scaled so its long side is `side`, RGB 8-bit; cached per size.
const imgpipe::Image& photo(int side) {
  static std::map<int, imgpipe::Image> cache;
  auto it = cache.find(side);
  if (it != cache.end()) return it->second;
  imgpipe::Image full = imgpipe::load(bench_photo("autumn-2560x1600.jpg"));
  const double scale = static_cast<double>(side) / std::max(full.width(), full.height());
  cv::Mat resized;
  cv::resize(full.pixels, resized, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return cache.emplace(side, full.with_pixels(resized)).first->second;
}

void run_chain(benchmark::State& state, const imgpipe::Chain& chain) {
  const imgpipe::Image& input = photo(static_cast<int>(state.range(0)));
  imgpipe::Context context;
  for (auto _ : state) benchmark::DoNotOptimize(chain.run(input, context));
  state.SetItemsProcessed(state.iterations() * input.width() * input.height());
  state.counters["Mpx/s"] = benchmark::Counter(static_cast<double>(input.width()) * input.height() * 1e-6,
                                               benchmark::Counter::kIsIterationInvariantRate);
}

// One benchmark per example of every registered operation (OpDescriptor::examples), named
// after the operation and the example's index, labelled with its parameters: a new operation
// is benchmarked without editing this file. Effects also run at 4096 px.
std::string label(const std::map<std::string, imgpipe::Value, std::less<>>& example) {
  std::string out;
  for (const auto& [name, value] : example) out += (out.empty() ? "" : " ") + name + "=" + value.to_text();
  return out;
}

void register_operation_benchmarks() {
  for (const auto& [name, descriptor] : imgpipe::Registry::global().all()) {
    const auto examples = descriptor.examples_or_defaults();
    for (std::size_t i = 0; i < examples.size(); ++i) {
      std::string benchmark_name = "BM_" + name;
      if (examples.size() > 1) benchmark_name += "/example:" + std::to_string(i);
      auto chain = std::make_shared<imgpipe::Chain>();
      chain->then(descriptor, imgpipe::validate_params(descriptor, examples[i]));
      auto run = [chain, text = label(examples[i])](benchmark::State& state) {
        state.SetLabel(text);
        run_chain(state, *chain);
      };
      auto* bench = benchmark::RegisterBenchmark(benchmark_name.c_str(), run);
      bench->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
      if (descriptor.family == "effects") bench->Arg(4096);
    }
  }
}

// The SVG itself (clustering + tracing + path text) at 16 colours.
void BM_vectorize_svg(benchmark::State& state) {
  const imgpipe::Image& input = photo(static_cast<int>(state.range(0)));
  imgpipe::kernels::VectorizeOptions options;
  options.colors = 16;
  for (auto _ : state) benchmark::DoNotOptimize(imgpipe::kernels::vectorize(input.pixels, options));
}
BENCHMARK(BM_vectorize_svg)->Arg(512)->Arg(1024)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond);

void BM_encode(benchmark::State& state, imgpipe::Format format) {
  const imgpipe::Image& input = photo(static_cast<int>(state.range(0)));
  imgpipe::SaveOptions options;
  options.format = format;
  for (auto _ : state) benchmark::DoNotOptimize(imgpipe::encode(input, options));
}
BENCHMARK_CAPTURE(BM_encode, jpeg, imgpipe::Format::jpeg)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, png, imgpipe::Format::png)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, webp, imgpipe::Format::webp)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMillisecond);

// Decoding the photo encoded at the defaults, by imgpipe (libjpeg-turbo, libpng, libwebp
// directly) and, with the suffix _libvips, by libvips's loader into memory as imgpipe decoded
// through it before.
std::vector<std::uint8_t> encoded(int side, imgpipe::Format format) {
  imgpipe::SaveOptions options;
  options.format = format;
  return imgpipe::encode(photo(side), options);
}

void BM_decode(benchmark::State& state, imgpipe::Format format) {
  const auto bytes = encoded(static_cast<int>(state.range(0)), format);
  for (auto _ : state) benchmark::DoNotOptimize(imgpipe::load_buffer(bytes, "bench"));
}

void BM_decode_libvips(benchmark::State& state, imgpipe::Format format) {
  const auto bytes = encoded(static_cast<int>(state.range(0)), format);
  for (auto _ : state) {
    VipsImage* image = vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr);
    std::size_t size = 0;
    void* pixels = image ? vips_image_write_to_memory(image, &size) : nullptr;
    if (!pixels) state.SkipWithError("libvips failed to decode");
    g_free(pixels);
    if (image) g_object_unref(image);
  }
}

#define IMGPIPE_DECODE_BENCHMARKS(format)                               \
  BENCHMARK_CAPTURE(BM_decode, format, imgpipe::Format::format)         \
      ->Arg(1024)                                                       \
      ->Arg(2048)                                                       \
      ->Unit(benchmark::kMillisecond);                                  \
  BENCHMARK_CAPTURE(BM_decode_libvips, format, imgpipe::Format::format) \
      ->Arg(1024)                                                       \
      ->Arg(2048)                                                       \
      ->Unit(benchmark::kMillisecond)
IMGPIPE_DECODE_BENCHMARKS(jpeg);
IMGPIPE_DECODE_BENCHMARKS(png);
IMGPIPE_DECODE_BENCHMARKS(webp);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (VIPS_INIT(argv[0]) != 0) return 1;  // for the _libvips decode benchmarks
  vips_cache_set_max(0);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_operation_benchmarks();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
