// imgpipe_gpu_golden: the expected outputs tools/gpu-check takes to a GPU machine, computed by
// libimgpipe's own CPU kernels (include/imgpipe/kernels/; the point program is adjust_colors's
// PointProgram; the palette cases imgpipe::cluster(), assign() and Clustering::apply(); chain4
// those in sequence), with each case's CPU time on this machine. Test tooling: it includes the library's
// private headers (lib/) for the tables the plugin takes.
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
//   *.stages                   adjust_colors's PointProgram stages (PointProgram::stages()) as
//                              imgpipe_cuda_point_stage wants them
//   *.tables                   the plugin's tables for the palette cases and the chain's palette
//                              step (per input, from cuda_assign_tables() and
//                              cuda_apply_tables()) and for each ordered dithering
//                              (kernels::ordered_dither_tables())
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
#include <imgpipe/kernels/dither.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <imgpipe/palette.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "inputs.hpp"
#include "ops/colour/adjust_colors.hpp"
#include "ops/effects/ordered_dither.hpp"
#include "ops/palette/cuda_tables.hpp"
#include "ops/point_program.hpp"

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
  // Optional: writes the case's side file for `input` into the golden folder, after `run`.
  std::function<void(const fs::path& dir, const InputLayout& input)> write_tables = {};
  // Optional: the inputs the case runs on (every input when empty).
  std::function<bool(const InputLayout& input)> accepts = {};
  // Optional: untimed work for `input`, before `run`.
  std::function<void(const cv::Mat& in, const InputLayout& input)> prepare = {};
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
// fused point stages (lib/ops/colour/adjust_colors.cpp): the harness gets that program's own
// stages.

imgpipe::kernels::AdjustColorsOptions adjust_options() {
  return {.brightness = kBrightness, .contrast = kContrast, .saturation = kSaturation};
}

cv::Mat adjust_colors(const cv::Mat& in) {
  cv::Mat out;
  imgpipe::kernels::adjust_colors(in, out, adjust_options());
  return out;
}

// A small writer of the side files (.stages, .tables): plain values, and arrays as a u32 count
// (0 for a null pointer) followed by the elements (native byte order).
class Writer {
 public:
  explicit Writer(fs::path path) : path_(std::move(path)), out_(path_, std::ios::binary) {}
  template <typename T>
  void value(T v) {
    out_.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <typename T>
  void array(const T* data, std::size_t count) {
    const auto n = static_cast<std::uint32_t>(data ? count : 0);
    value(n);
    out_.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(T)));
  }
  void close() {
    out_.close();
    if (!out_) throw std::runtime_error("cannot write " + path_.string());
  }

 private:
  fs::path path_;
  std::ofstream out_;
};

// The .stages file of adjust_colors's PointProgram at `depth` bytes: u32 count, then per stage
// u32 levels (0: a matrix stage), `levels` u16 table entries, 9 matrix and 3 offset doubles.
void write_stages(const fs::path& path, int depth) {
  imgpipe::PointProgram program(4, depth == 2 ? CV_16U : CV_8U);
  imgpipe::ops::append_stages(program, adjust_options());
  Writer out(path);
  out.value(static_cast<std::uint32_t>(program.stages().size()));
  for (const auto& stage : program.stages()) {
    out.array(stage.table.data(), stage.table.size());
    for (double m : stage.matrix) out.value(m);
    for (double o : stage.offset) out.value(o);
  }
  out.close();
}

// ---- Palette assignment and apply, ordered dithering: the plugin's tables. ----

// The .tables file of an ordered dithering: imgpipe_cuda_ordered_dither's fields in order,
// arrays counted (see Writer).
void write_dither_tables(const fs::path& path, const imgpipe::kernels::DitherOptions& options) {
  const imgpipe::kernels::OrderedDitherTables tables = imgpipe::kernels::ordered_dither_tables(options);
  const imgpipe_cuda_ordered_dither& p = tables.plan;
  Writer out(path);
  out.value(static_cast<std::int32_t>(p.n));
  out.array(p.thresholds, static_cast<std::size_t>(p.n) * p.n);
  out.array(p.base, 256);
  out.value(static_cast<std::int32_t>(p.levels));
  out.array(p.level_values, static_cast<std::size_t>(std::max(p.levels, 0)));
  out.array(p.level_work, static_cast<std::size_t>(std::max(p.levels, 0)));
  out.value(static_cast<std::int32_t>(p.palette_size));
  out.array(p.palette, static_cast<std::size_t>(p.palette_size) * 4);
  out.array(p.palette_lab, static_cast<std::size_t>(p.palette_size) * 3);
  out.value(p.spread);
  out.array(p.code_thresholds, 255);
  out.array(p.lab.linear, 256);
  out.array(p.lab.f, 4097);
  out.close();
}

// The .tables file of the palette cases of one input: the arguments of
// imgpipe_cuda_palette_assign (k, use_alpha, centres, the Lab tables, exact_linear) and of
// imgpipe_cuda_palette_apply (colours, centres' RGBA, preserve_shading, mask_mode, fill), as
// PaletteOp::cuda_variants passes them.
void write_palette_tables(const fs::path& path, const imgpipe::Clustering& clustering,
                          const imgpipe::Palette& palette, const imgpipe::ClusterOptions& cluster_options,
                          const imgpipe::ApplyOptions& apply_options) {
  const imgpipe::CudaAssignTables assign = imgpipe::cuda_assign_tables(clustering, cluster_options.quality);
  const imgpipe::CudaApplyTables apply = imgpipe::cuda_apply_tables(clustering, palette, apply_options);
  Writer out(path);
  out.value(static_cast<std::int32_t>(clustering.k()));
  out.value(static_cast<std::int32_t>(cluster_options.mask.empty() ? 1 : 0));
  out.array(assign.centres.data(), assign.centres.size());
  out.array(assign.lab.linear, 256);
  out.array(assign.lab.f, 4097);
  out.array(assign.exact_linear, 256);
  out.array(apply.colours.data(), apply.colours.size());
  out.array(apply.centres.data(), apply.centres.size());
  out.value(static_cast<std::int32_t>(apply.preserve_shading));
  out.value(static_cast<std::int32_t>(apply.mask_mode));
  out.array(apply.fill, 4);
  out.close();
}

// ---- The kernels and their cases. ----

// The ordered ditherings: bayer4 to 4 grey levels, and bayer8 to a 4-colour palette in linear
// light. Their tables do not depend on the input: one file each.
struct DitherCase {
  std::string name;
  imgpipe::kernels::DitherOptions options;
};

std::vector<DitherCase> dither_cases() {
  namespace k = imgpipe::kernels;
  k::DitherOptions grey;
  grey.method = k::DitherMethod::bayer4;
  grey.levels = 4;
  k::DitherOptions colour;
  colour.method = k::DitherMethod::bayer8;
  colour.linear = true;
  colour.palette = {{29, 43, 83, 255}, {126, 37, 83, 255}, {255, 163, 0, 255}, {255, 241, 232, 255}};
  return {{"dither_bayer4_levels4", grey}, {"dither_bayer8_palette4_linear", colour}};
}

std::string dither_tables_file(const std::string& name) {
  return name + ".tables";
}

// Palette assignment and apply: each input clustered by imgpipe::cluster() (k 8, alpha below
// 128 left out), its labels assigned again by imgpipe::assign() (the full-resolution
// assignment the plugin replaces, timed) and recoloured by Clustering::apply() with one
// palette of 5 colours. The clustering of the current input is kept for both cases.
struct PaletteState {
  std::string input;  // the layout the clustering is of
  std::optional<imgpipe::Clustering> clustering;
};

imgpipe::ClusterOptions palette_cluster_options() {
  imgpipe::ClusterOptions o;
  o.k = 8;
  return o;
}

imgpipe::Palette palette_colours() {
  return {"five",
          {{38, 70, 83, 255},
           {42, 157, 143, 255},
           {233, 196, 106, 255},
           {244, 162, 97, 255},
           {231, 111, 81, 255}}};
}

std::string layout_key(const InputLayout& l) {
  return std::to_string(l.width()) + "x" + std::to_string(l.height()) + "_" +
         gpu_check::layout_name(l.channels, l.depth);
}

std::string palette_tables_file(const InputLayout& l) {
  return "palette_" + layout_key(l) + ".tables";
}

const imgpipe::Clustering& clustering_of(PaletteState& state, const cv::Mat& in, const InputLayout& l) {
  if (!state.clustering || state.input != layout_key(l)) {
    state.clustering = imgpipe::cluster(imgpipe::Image(in), palette_cluster_options());
    state.input = layout_key(l);
  }
  return *state.clustering;
}

void add_palette_kernels(std::vector<Kernel>& list) {
  auto state = std::make_shared<PaletteState>();
  auto params = [](const InputLayout& l) { return "tables=" + palette_tables_file(l) + " out_depth=1"; };
  list.push_back({"palette_assign", "palette_assign", Check::exact,
                  [state](const cv::Mat& in, const InputLayout& l) {
                    const imgpipe::Clustering& clustering = clustering_of(*state, in, l);
                    const imgpipe::Clustering assigned =
                        imgpipe::assign(imgpipe::Image(in), clustering, palette_cluster_options());
                    if (cv::norm(assigned.labels(), clustering.labels(), cv::NORM_INF) != 0)
                      throw std::runtime_error("imgpipe::assign() and imgpipe::cluster() label " +
                                               layout_key(l) + " differently");
                    return assigned.labels();
                  },
                  params,
                  [state](const fs::path& dir, const InputLayout& l) {
                    write_palette_tables(dir / palette_tables_file(l), *state->clustering, palette_colours(),
                                         palette_cluster_options(), {});
                  }});
  list.push_back({"palette_apply", "palette_apply", Check::exact,
                  [state](const cv::Mat& in, const InputLayout& l) {
                    return clustering_of(*state, in, l).apply(palette_colours()).pixels;
                  },
                  params});
}

// The chain: resize to half (area), adjust_colors's point program, sharpen (amount 1, radius 1,
// threshold 0), then the palette step: the sharpened image assigned to the centres of its own
// clustering (imgpipe::cluster(), k 8, computed once per input and not timed) and recoloured by
// Clustering::apply() with the 5-colour palette. The timed run is the whole sequence, with
// imgpipe::assign() as the assignment; its labels must equal the clustering's.
struct ChainState {
  std::optional<imgpipe::Clustering> clustering;  // of the current input's sharpened image
  cv::Mat labels;                                 // the last run's assignment
};

cv::Mat chain_filters(const cv::Mat& in) {
  namespace k = imgpipe::kernels;
  cv::Mat resized, sharpened;
  k::resize(in, resized, {.size = half(in.size()), .kernel = k::Interpolation::area, .fit = k::Fit::exact});
  k::sharpen(adjust_colors(resized), sharpened, {.amount = 1.0, .radius = 1.0, .threshold = 0.0});
  return sharpened;
}

std::string chain_tables_file(const InputLayout& l) {
  return "chain4_" + layout_key(l) + ".tables";
}

void add_chain_kernel(std::vector<Kernel>& list) {
  auto state = std::make_shared<ChainState>();
  list.push_back(
      {"chain4", "chain", Check::one_level,
       [state](const cv::Mat& in, const InputLayout&) {
         const imgpipe::Clustering assigned = imgpipe::assign(imgpipe::Image(chain_filters(in)),
                                                              *state->clustering, palette_cluster_options());
         state->labels = assigned.labels();
         return assigned.apply(palette_colours()).pixels;
       },
       [](const InputLayout& l) {
         return "interpolation=0 stages=point_program_8bit.stages amount=1 radius=1 threshold=0 tables=" +
                chain_tables_file(l) + " out_depth=1 max_off_pixels=0.001";
       },
       [state](const fs::path& dir, const InputLayout& l) {
         if (cv::norm(state->labels, state->clustering->labels(), cv::NORM_INF) != 0)
           throw std::runtime_error("chain4: imgpipe::assign() and imgpipe::cluster() label " +
                                    layout_key(l) + " differently");
         write_palette_tables(dir / chain_tables_file(l), *state->clustering, palette_colours(),
                              palette_cluster_options(), {});
       },
       [](const InputLayout& l) { return l.channels == 3 && l.depth == 1; },
       [state](const cv::Mat& in, const InputLayout&) {
         state->clustering = imgpipe::cluster(imgpipe::Image(chain_filters(in)), palette_cluster_options());
       }});
}

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
                  [](const cv::Mat& in, const InputLayout&) { return adjust_colors(in); },
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
  add_palette_kernels(list);
  for (const DitherCase& dither : dither_cases())
    list.push_back({dither.name, "dither_ordered", Check::exact,
                    [options = dither.options](const cv::Mat& in, const InputLayout&) {
                      cv::Mat out;
                      k::dither(in, out, options);
                      return out;
                    },
                    [name = dither.name](const InputLayout&) {
                      return "tables=" + dither_tables_file(name) + " out_depth=1";
                    }});
  add_chain_kernel(list);
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
  for (int depth : {1, 2})
    if (depth == 1 || options.sixteen_bit)
      write_stages(options.out / ("point_program_" + std::to_string(depth * 8) + "bit.stages"), depth);
  for (const DitherCase& dither : dither_cases())
    write_dither_tables(options.out / dither_tables_file(dither.name), dither.options);

  const auto list = kernels();
  for (const InputLayout& layout : layouts) {
    cv::Mat in(layout.height(), layout.width(), cv_type(layout));
    gpu_check::derive_input(base_bytes.data(), layout, in.data);
    const std::string size = std::to_string(layout.width()) + "x" + std::to_string(layout.height());
    const std::string layout_name = gpu_check::layout_name(layout.channels, layout.depth);
    for (const Kernel& kernel : list) {
      if (kernel.accepts && !kernel.accepts(layout)) continue;
      if (kernel.prepare) kernel.prepare(in, layout);
      double ms = 0;
      const cv::Mat out = run_timed([&] { return kernel.run(in, layout); }, options.runs, ms);
      const int row_step = layout.scale > 1 ? 8 : layout.depth == 2 ? 4 : 1;
      const std::string file = kernel.name + "_" + size + "_" + layout_name + ".golden";
      write_golden(options.out / file, out, kernel.check, row_step);
      if (kernel.write_tables) kernel.write_tables(options.out, layout);
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
