// imgpipe_gpu_golden: the expected outputs tools/gpu-check takes to a GPU machine, computed by
// libimgpipe's own CPU kernels (include/imgpipe/kernels/; the point program is adjust_colors's
// PointProgram), with each kernel's CPU time on this machine.
//
//   imgpipe_gpu_golden --source PHOTO --out DIR [--runs N] [--no-16bit]
//
// --runs: how many runs each CPU time is the median of (5, 3 for a kernel that takes over half
// a second; 0 leaves the times out).
//
// writes into DIR:
//   input_1024x640_rgba8.raw   the photo, area-resized to 1024x640, with a made-up alpha
//   manifest.txt               one line per case (kernel, input layout, output size, how it is
//                              checked, CPU milliseconds, golden file, parameters)
//   *.golden                   per case: a 64-bit FNV-1a per output row for the exact kernels,
//                              or whole output rows for the floating-point ones, which may
//                              differ by one level: every row of 8-bit 1024x640, every 4th of
//                              16-bit, every 8th at 4096x2560 (the folder must stay under 60 MiB)
//   *.stages                   the point program's stages as imgpipe_cuda_point_stage wants them
//
// Every other input is derived from the stored photo by tools/gpu_check/inputs.hpp, which the
// harness compiles too.

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/kernels/colour.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "inputs.hpp"

namespace fs = std::filesystem;

namespace {

using gpu_check::InputLayout;

// adjust_colors with the settings of its first documented example: a typical mild correction
// (a tone table, then a saturation matrix).
constexpr double kBrightness = 1.05, kContrast = 1.1, kSaturation = 1.1;

// How a case's output is checked on the device.
enum class Check {
  exact,     // bit for bit: one hash per row
  one_level  // within one level: whole rows stored
};

// One kernel with its parameters: what the CPU computes, and how the manifest describes it.
struct Kernel {
  std::string name;    // the case name's first part
  std::string plugin;  // the plugin function's kernel name (imgpipe_cuda_<plugin>)
  Check check;
  // The output for `in`; `input` is the layout `in` was derived with.
  std::function<cv::Mat(const cv::Mat& in, const InputLayout& input)> run;
  // The manifest's parameters (key=value ...) for `input`.
  std::function<std::string(const InputLayout& input)> params;
};

int cv_type(const InputLayout& layout) {
  return CV_MAKETYPE(layout.depth == 2 ? CV_16U : CV_8U, layout.channels);
}

cv::Size half(cv::Size s) {
  return {s.width / 2, s.height / 2};
}
cv::Size scaled_06(cv::Size s) {
  return {static_cast<int>(std::lround(s.width * 0.6)), static_cast<int>(std::lround(s.height * 0.6))};
}
cv::Size size_of(const InputLayout& layout) {
  return {layout.width(), layout.height()};
}

// ---- The point program: adjust_colors's stages. ----
//
// kernels::adjust_colors runs the PointProgram the adjust_colors operation appends to a chain's
// fused point stages (lib/ops/colour/adjust_colors.cpp): a tone table, then a 3x3 matrix.

cv::Mat adjust_colors(const cv::Mat& in, double brightness, double contrast, double saturation) {
  cv::Mat out;
  imgpipe::kernels::adjust_colors(in, out,
                                  {.brightness = brightness, .contrast = contrast, .saturation = saturation});
  return out;
}

// The stages in the plugin's terms. The program keeps its stages to itself, so the tone table
// is read back by running the tone part alone on a ramp, and the matrix is the W3C saturation
// matrix adjust_colors builds (hue 0); make_stages() then checks that these stages, run with
// PointProgram's arithmetic, give the kernel's output bit for bit.
struct Stages {
  std::vector<std::uint16_t> table;
  std::array<double, 9> matrix{};
};

std::array<double, 9> saturation_matrix(double s) {
  // As lib/ops/colour/adjust_colors.cpp: hue_matrix(0) * saturation_matrix(s), hue_matrix(0)
  // being the identity up to rounding, which the product keeps.
  const std::array<double, 9> sat = {0.2126 + 0.7874 * s, 0.7152 - 0.7152 * s, 0.0722 - 0.0722 * s,
                                     0.2126 - 0.2126 * s, 0.7152 + 0.2848 * s, 0.0722 - 0.0722 * s,
                                     0.2126 - 0.2126 * s, 0.7152 - 0.7152 * s, 0.0722 + 0.9278 * s};
  const double c = 1.0, n = 0.0;
  const std::array<double, 9> hue = {
      0.2126 + c * 0.7874 - n * 0.2126, 0.7152 - c * 0.7152 - n * 0.7152, 0.0722 - c * 0.0722 + n * 0.9278,
      0.2126 - c * 0.2126 + n * 0.143,  0.7152 + c * 0.2848 + n * 0.140,  0.0722 - c * 0.0722 - n * 0.283,
      0.2126 - c * 0.2126 - n * 0.7874, 0.7152 - c * 0.7152 + n * 0.7152, 0.0722 + c * 0.9278 + n * 0.0722};
  std::array<double, 9> out{};
  for (int r = 0; r < 3; ++r)
    for (int col = 0; col < 3; ++col)
      for (int k = 0; k < 3; ++k) out[r * 3 + col] += hue[r * 3 + k] * sat[k * 3 + col];
  return out;
}

// The table, then the matrix, per pixel, with PointProgram::run's arithmetic (double, values
// in 0..1, clamped, rounded half up); alpha passes through.
template <typename T>
cv::Mat run_stages(const cv::Mat& in, const Stages& stages) {
  const double max = static_cast<double>(stages.table.size() - 1), inverse_max = 1.0 / max;
  const int channels = in.channels();
  cv::Mat out(in.size(), in.type());
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const T* s = in.ptr<T>(y) + x * channels;
      T* d = out.ptr<T>(y) + x * channels;
      std::array<double, 3> rgb{};
      for (int c = 0; c < 3; ++c) rgb[c] = stages.table[s[c]] * inverse_max;
      for (int k = 0; k < 3; ++k) {
        const auto& m = stages.matrix;
        const double v = m[k * 3] * rgb[0] + m[k * 3 + 1] * rgb[1] + m[k * 3 + 2] * rgb[2];
        d[k] = static_cast<T>(std::clamp(v, 0.0, 1.0) * max + 0.5);
      }
      if (channels == 4) d[3] = s[3];
    }
  return out;
}

Stages make_stages(int depth, const cv::Mat& probe_image) {
  const int levels = depth == 2 ? 65536 : 256;
  const int cv_depth = depth == 2 ? CV_16U : CV_8U;
  cv::Mat ramp(1, levels, CV_MAKETYPE(cv_depth, 3));
  for (int v = 0; v < levels; ++v) {
    if (depth == 2)
      ramp.at<cv::Vec3w>(0, v) = cv::Vec3w::all(static_cast<std::uint16_t>(v));
    else
      ramp.at<cv::Vec3b>(0, v) = cv::Vec3b::all(static_cast<std::uint8_t>(v));
  }
  const cv::Mat toned = adjust_colors(ramp, kBrightness, kContrast, 1.0);
  Stages stages;
  stages.table.resize(static_cast<std::size_t>(levels));
  for (int v = 0; v < levels; ++v)
    stages.table[static_cast<std::size_t>(v)] =
        depth == 2 ? toned.at<cv::Vec3w>(0, v)[0] : toned.at<cv::Vec3b>(0, v)[0];
  stages.matrix = saturation_matrix(kSaturation);

  const cv::Mat expected = adjust_colors(probe_image, kBrightness, kContrast, kSaturation);
  const cv::Mat got = depth == 2 ? run_stages<std::uint16_t>(probe_image, stages)
                                 : run_stages<std::uint8_t>(probe_image, stages);
  if (cv::norm(expected, got, cv::NORM_INF) != 0)
    throw std::runtime_error(
        "the point stages read back from adjust_colors do not reproduce it: update make_stages() in "
        "tools/gpu_check/golden.cpp to match lib/ops/colour/adjust_colors.cpp");
  return stages;
}

// The .stages file: u32 count, then per stage u32 levels (0: a matrix stage), `levels` u16
// table entries, 9 matrix and 3 offset doubles (native byte order).
void write_stages(const fs::path& path, const Stages& stages) {
  std::ofstream out(path, std::ios::binary);
  auto put = [&](const void* data, std::size_t size) { out.write(static_cast<const char*>(data), size); };
  const std::uint32_t count = 2, levels = static_cast<std::uint32_t>(stages.table.size()), none = 0;
  const std::array<double, 12> zero{};
  put(&count, 4);
  put(&levels, 4);
  put(stages.table.data(), stages.table.size() * 2);
  put(zero.data(), sizeof zero);
  std::array<double, 12> matrix{};
  std::copy(stages.matrix.begin(), stages.matrix.end(), matrix.begin());
  put(&none, 4);
  put(matrix.data(), sizeof matrix);
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// ---- The kernels and their cases. ----

std::vector<Kernel> kernels() {
  namespace k = imgpipe::kernels;
  std::vector<Kernel> list;
  list.push_back({"gaussian_blur", "gaussian_blur", Check::one_level,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::gaussian_blur(in, out, {.sigma = 2.0});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("sigma=2"); }});
  list.push_back({"sharpen", "sharpen", Check::one_level,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::sharpen(in, out, {.amount = 1.0, .radius = 1.0, .threshold = 0.0});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("amount=1 radius=1 threshold=0"); }});
  list.push_back({"point_program", "point_program", Check::exact,
                  [](const cv::Mat& in, const InputLayout&) {
                    return adjust_colors(in, kBrightness, kContrast, kSaturation);
                  },
                  [](const InputLayout& l) {
                    return "stages=point_program_" + std::to_string(l.depth * 8) + "bit.stages";
                  }});
  list.push_back({"resize_area_half", "resize", Check::one_level,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::resize(
                        in, out,
                        {.size = half(in.size()), .kernel = k::Interpolation::area, .fit = k::Fit::exact});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("interpolation=0"); }});
  list.push_back(
      {"resize_linear_0.6", "resize", Check::one_level,
       [](const cv::Mat& in, const InputLayout&) {
         cv::Mat out;
         k::resize(in, out,
                   {.size = scaled_06(in.size()), .kernel = k::Interpolation::linear, .fit = k::Fit::exact});
         return out;
       },
       [](const InputLayout&) { return std::string("interpolation=1"); }});
  list.push_back({"flip_h", "flip", Check::exact,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::flip(in, out, {.direction = k::FlipDirection::horizontal});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("horizontal=1 vertical=0"); }});
  list.push_back({"rotate_90", "rotate90", Check::exact,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::rotate(in, out, {.angle = 90});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("quarter_turns=1"); }});
  list.push_back(
      {"crop_centre_half", "crop", Check::exact,
       [](const cv::Mat& in, const InputLayout&) {
         cv::Mat out;
         const cv::Size size = half(in.size());
         k::crop(in, out,
                 {.size = size, .left = (in.cols - size.width) / 2, .top = (in.rows - size.height) / 2});
         return out;
       },
       [](const InputLayout& l) {
         const cv::Size size = half(size_of(l));
         return "left=" + std::to_string((l.width() - size.width) / 2) +
                " top=" + std::to_string((l.height() - size.height) / 2);
       }});
  list.push_back({"grayscale_rec709", "grayscale", Check::exact,
                  [](const cv::Mat& in, const InputLayout&) {
                    cv::Mat out;
                    k::grayscale(in, out, {.weights = k::LumaWeights::rec709, .keep_channels = false});
                    return out;
                  },
                  [](const InputLayout&) { return std::string("weights=0 keep_channels=0"); }});
  // Extension point: palette assignment and apply (imgpipe::cluster() / Clustering::apply())
  // and ordered dithering (kernels::dither with bayer2/4/8) join here as exact cases. The
  // plugin takes the CPU's own tables (palette::LabConverter's sRGB and f() tables, the
  // centres in float Lab, the colour table, kernels::dither's plan), which a case writes
  // beside its golden as the point program's .stages file is; the harness then needs the
  // matching entry in run_kernel().
  return list;
}

// ---- The inputs. ----

// The photo, area-resized to fill 1024x640 (centre-cropped to that aspect first), with an alpha
// that has a smooth radial falloff to fully transparent corners and a fully transparent
// rectangle with hard edges in the opaque middle: premultiplied paths meet every case.
cv::Mat base_input(const fs::path& source) {
  imgpipe::Image image = imgpipe::load(source);
  cv::Mat pixels = image.pixels;
  if (pixels.depth() != CV_8U) pixels.convertTo(pixels, CV_8U, 1.0 / 257.0);
  if (pixels.channels() != 3 && pixels.channels() != 4)
    throw std::runtime_error(source.string() + ": expected an RGB or RGBA photo");
  const double aspect = static_cast<double>(gpu_check::kBaseWidth) / gpu_check::kBaseHeight;
  cv::Rect region(0, 0, pixels.cols, pixels.rows);
  if (pixels.cols > pixels.rows * aspect)
    region.width = static_cast<int>(std::lround(pixels.rows * aspect));
  else
    region.height = static_cast<int>(std::lround(pixels.cols / aspect));
  region.x = (pixels.cols - region.width) / 2;
  region.y = (pixels.rows - region.height) / 2;
  cv::Mat rgb;
  imgpipe::kernels::resize(pixels(region).clone(), rgb,
                           {.size = {gpu_check::kBaseWidth, gpu_check::kBaseHeight},
                            .kernel = imgpipe::kernels::Interpolation::area,
                            .fit = imgpipe::kernels::Fit::exact});
  cv::Mat rgba(rgb.size(), CV_8UC4);
  const double cx = rgba.cols / 2.0, cy = rgba.rows / 2.0;
  for (int y = 0; y < rgba.rows; ++y)
    for (int x = 0; x < rgba.cols; ++x) {
      const double r = std::hypot((x - cx) / cx, (y - cy) / cy);  // 0 in the middle, 1.41 in a corner
      int alpha = static_cast<int>(std::lround(std::clamp((1.3 - r) / 0.8, 0.0, 1.0) * 255));
      if (x >= 600 && x < 680 && y >= 200 && y < 440) alpha = 0;
      const auto* s = rgb.ptr<std::uint8_t>(y) + x * rgb.channels();
      rgba.at<cv::Vec4b>(y, x) = {s[0], s[1], s[2], static_cast<std::uint8_t>(alpha)};
    }
  return rgba;
}

// ---- Writing. ----

// The kernel's output, and in `ms` the median time of up to `runs` runs, the first of them the
// run that gives the output (a warm-up changes nothing measurable at these sizes). Kernels
// that take over half a second run 3 times at most, so prepare stays within its two minutes.
cv::Mat run_timed(const std::function<cv::Mat()>& work, int runs, double& ms) {
  constexpr double kSlowMs = 500;
  std::vector<double> times;
  cv::Mat out;
  for (int i = 0; i < std::max(runs, 1); ++i) {
    const auto start = std::chrono::steady_clock::now();
    cv::Mat result = work();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (i == 0) out = result;
    if (times.front() > kSlowMs) runs = std::min(runs, 3);
  }
  std::sort(times.begin(), times.end());
  ms = runs > 0 ? times[times.size() / 2] : -1.0;
  return out;
}

std::string cpu_description() {
  std::ifstream info("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(info, line))
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " threads";
}

struct Options {
  fs::path source, out;
  int runs = 5;
  bool sixteen_bit = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + ": expected a value");
      return argv[++i];
    };
    if (a == "--source")
      o.source = next();
    else if (a == "--out")
      o.out = next();
    else if (a == "--runs")
      o.runs = std::stoi(next());
    else if (a == "--no-16bit")
      o.sixteen_bit = false;
    else
      throw std::runtime_error(
          "unknown argument '" + a +
          "'; usage: imgpipe_gpu_golden --source PHOTO --out DIR [--runs N] [--no-16bit]");
  }
  if (o.source.empty() || o.out.empty()) throw std::runtime_error("--source and --out are required");
  if (o.runs < 0) throw std::runtime_error("--runs: expected 0 (no timing) or more");
  return o;
}

void write_file(const fs::path& path, const void* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The golden of one case: row hashes, or every `row_step`-th row in full.
std::size_t write_golden(const fs::path& path, const cv::Mat& out, Check check, int row_step) {
  const std::size_t row_bytes = static_cast<std::size_t>(out.cols) * out.elemSize();
  std::vector<std::uint8_t> bytes;
  for (int y = 0; y < out.rows; y += check == Check::exact ? 1 : row_step) {
    const std::uint8_t* row = out.ptr<std::uint8_t>(y);
    if (check == Check::exact) {
      const std::uint64_t h = gpu_check::fnv1a(row, row_bytes);
      const auto* p = reinterpret_cast<const std::uint8_t*>(&h);
      bytes.insert(bytes.end(), p, p + 8);
    } else {
      bytes.insert(bytes.end(), row, row + row_bytes);
    }
  }
  write_file(path, bytes.data(), bytes.size());
  return bytes.size();
}

int generate(const Options& options) {
  fs::create_directories(options.out);
  const cv::Mat base = base_input(options.source);
  std::vector<std::uint8_t> base_bytes(base.total() * base.elemSize());
  std::memcpy(base_bytes.data(), base.data, base_bytes.size());
  write_file(options.out / gpu_check::kBaseFile, base_bytes.data(), base_bytes.size());

  std::vector<InputLayout> layouts;
  for (int scale : {1, 4})
    for (int channels : {3, 4}) layouts.push_back({scale, channels, 1});
  if (options.sixteen_bit)
    for (int channels : {3, 4}) layouts.push_back({1, channels, 2});

  std::ostringstream manifest;
  manifest << "imgpipe-gpu-check 1\n";
  manifest << "cpu " << cpu_description() << "\n";
  manifest << "input " << gpu_check::kBaseFile << "\n";
  for (int depth : {1, 2}) {
    if (depth == 2 && !options.sixteen_bit) continue;
    cv::Mat probe(base.size(), CV_MAKETYPE(depth == 2 ? CV_16U : CV_8U, 4));
    gpu_check::derive_input(base_bytes.data(), {1, 4, depth}, probe.data);
    write_stages(options.out / ("point_program_" + std::to_string(depth * 8) + "bit.stages"),
                 make_stages(depth, probe));
  }

  const auto list = kernels();
  for (const InputLayout& layout : layouts) {
    cv::Mat in(layout.height(), layout.width(), cv_type(layout));
    gpu_check::derive_input(base_bytes.data(), layout, in.data);
    const std::string size = std::to_string(layout.width()) + "x" + std::to_string(layout.height());
    const std::string layout_name = gpu_check::layout_name(layout.channels, layout.depth);
    for (const Kernel& kernel : list) {
      double ms = 0;
      const cv::Mat out = run_timed([&] { return kernel.run(in, layout); }, options.runs, ms);
      const int row_step = layout.scale > 1 ? 8 : layout.depth == 2 ? 4 : 1;
      const std::string file = kernel.name + "_" + size + "_" + layout_name + ".golden";
      write_golden(options.out / file, out, kernel.check, row_step);
      char cpu_ms[32];
      std::snprintf(cpu_ms, sizeof cpu_ms, "%.3f", ms);
      manifest << "case " << kernel.name << " " << kernel.plugin << " " << layout.scale << " "
               << layout.channels << " " << layout.depth << " " << out.cols << " " << out.rows << " "
               << out.channels() << " " << (kernel.check == Check::exact ? "hash" : "rows") << " " << row_step
               << " " << cpu_ms << " " << file << " " << kernel.params(layout) << "\n";
      std::cout << kernel.name << " " << size << " " << layout_name << ": " << cpu_ms << " ms\n"
                << std::flush;
    }
  }
  const std::string text = manifest.str();
  write_file(options.out / "manifest.txt", text.data(), text.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return generate(parse(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "imgpipe_gpu_golden: " << e.what() << "\n";
    return 1;
  }
}
