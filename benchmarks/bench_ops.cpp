// Per-operation and per-codec timings at 512, 1024 and 2048 px (long side) on a real photo,
// through the public API exactly as a chain runs them.
//   build/benchmarks/bench_ops --benchmark_filter=resize
#include <map>

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include <imgpipe/imgpipe.hpp>

namespace {

// The 2560x1600 photo scaled so its long side is `side`, RGB 8-bit; cached per size.
const imgpipe::Image& photo(int side) {
  static std::map<int, imgpipe::Image> cache;
  auto it = cache.find(side);
  if (it != cache.end()) return it->second;
  imgpipe::Image full = imgpipe::load(IMGPIPE_SHARED_IMAGES "/autumn-2560x1600.jpg");
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

#define IMGPIPE_OP_BENCH(NAME, ...)                                               \
  void BM_##NAME(benchmark::State& state) {                                       \
    static const imgpipe::Chain chain = imgpipe::Chain().then(#NAME, __VA_ARGS__); \
    run_chain(state, chain);                                                      \
  }                                                                               \
  BENCHMARK(BM_##NAME)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)

IMGPIPE_OP_BENCH(resize, {{"scale", 0.5}});
IMGPIPE_OP_BENCH(crop, {{"width", 256}, {"height", 256}});
IMGPIPE_OP_BENCH(rotate, {{"angle", 17.0}});
IMGPIPE_OP_BENCH(flip, {{"direction", "horizontal"}});
IMGPIPE_OP_BENCH(adjust_colors, {{"brightness", 1.1}, {"contrast", 1.2}, {"saturation", 1.2}});
IMGPIPE_OP_BENCH(grayscale, {});
IMGPIPE_OP_BENCH(gaussian_blur, {{"sigma", 2.0}});
IMGPIPE_OP_BENCH(sharpen, {{"amount", 0.5}});
IMGPIPE_OP_BENCH(edges, {{"method", "canny"}});
IMGPIPE_OP_BENCH(border, {{"size", 20}});
IMGPIPE_OP_BENCH(watermark, {{"text", "© imgpipe"}});

// Effects, also at 4096 px.
#define IMGPIPE_EFFECT_BENCH(LABEL, NAME, ...)                                     \
  void BM_##LABEL(benchmark::State& state) {                                      \
    static const imgpipe::Chain chain = imgpipe::Chain().then(#NAME, __VA_ARGS__); \
    run_chain(state, chain);                                                      \
  }                                                                               \
  BENCHMARK(BM_##LABEL)->Arg(512)->Arg(1024)->Arg(2048)->Arg(4096)->Unit(benchmark::kMillisecond)

IMGPIPE_EFFECT_BENCH(enhanced_bw, enhanced_bw, {{"filter", "red"}, {"clahe", 2.0}, {"curve", 0.3}, {"grain", 0.05}});
IMGPIPE_EFFECT_BENCH(pop_art, pop_art, {{"palette", "warhol"}});
IMGPIPE_EFFECT_BENCH(pop_art_grid, pop_art, {{"palette", "warhol"}, {"grid", "2x2"}});
IMGPIPE_EFFECT_BENCH(pop_art_halftone, pop_art, {{"palette", "pop"}, {"halftone", true}});
IMGPIPE_EFFECT_BENCH(dither_floyd_steinberg, dither, {{"method", "floyd_steinberg"}, {"levels", 2}});
IMGPIPE_EFFECT_BENCH(dither_atkinson_palette, dither, {{"method", "atkinson"}, {"palette", "#000,#f00,#0f0,#00f,#fff"}});
IMGPIPE_EFFECT_BENCH(dither_bayer8, dither, {{"method", "bayer8"}, {"levels", 2}});
IMGPIPE_EFFECT_BENCH(remove_background, remove_background, {{"output", "rgba"}});
IMGPIPE_EFFECT_BENCH(vectorize, vectorize, {{"colors", 16}});

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
BENCHMARK_CAPTURE(BM_encode, jpeg, imgpipe::Format::jpeg)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, png, imgpipe::Format::png)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_encode, webp, imgpipe::Format::webp)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);

void BM_decode_jpeg(benchmark::State& state) {
  const imgpipe::Image& input = photo(static_cast<int>(state.range(0)));
  imgpipe::SaveOptions options;
  options.format = imgpipe::Format::jpeg;
  const auto bytes = imgpipe::encode(input, options);
  for (auto _ : state) benchmark::DoNotOptimize(imgpipe::load_buffer(bytes, "bench.jpg"));
}
BENCHMARK(BM_decode_jpeg)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
