// The device half of tools/gpu-check: loads libimgpipe_cuda.so with dlopen, runs every case of
// a golden folder written by imgpipe_gpu_golden on the GPU (chain4: five kernels in sequence on
// device images), checks each output against the CPU's and prints one table with the times.
//
//   gpu_check_harness GOLDEN_DIR [--plugin PATH] [--runs N]
//
// GOLDEN_DIR is what imgpipe_gpu_golden wrote; the plugin defaults to GOLDEN_DIR/../libimgpipe_cuda.so
// (the layout `tools/gpu-check prepare` writes).
//
// Plain C++17 with libc and libdl only (no libimgpipe, no OpenCV, no CUDA headers), so that it
// builds with whatever g++ a GPU machine has. Exit status: 0 when every case matched (or there
// is no device: the reason is printed and nothing runs), 1 on any parity failure, 2 when the
// folder or the plugin cannot be used.

#include <dlfcn.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "imgpipe_cuda.h"
#include "inputs.hpp"

namespace {

using gpu_check::InputLayout;

// ---- The golden folder. ----

struct Case {
  std::string name;    // "gaussian_blur"
  std::string plugin;  // the kernel's plugin function, imgpipe_cuda_<plugin>
  InputLayout input;
  int out_width = 0, out_height = 0, out_channels = 0;
  bool exact = true;  // row hashes; else whole rows within one level
  int row_step = 1;
  double cpu_ms = 0;
  std::string golden;
  std::map<std::string, std::string> params;

  // The output's bytes per sample: the input's, unless the manifest gives out_depth (the
  // palette and dither kernels write 8-bit output).
  int out_depth() const {
    const auto it = params.find("out_depth");
    return it == params.end() ? input.depth : std::atoi(it->second.c_str());
  }
  std::size_t out_row_bytes() const {
    return static_cast<std::size_t>(out_width) * out_channels * out_depth();
  }
  std::size_t stored_rows() const {
    return exact ? static_cast<std::size_t>(out_height)
                 : static_cast<std::size_t>((out_height + row_step - 1) / row_step);
  }
  std::size_t golden_bytes() const { return stored_rows() * (exact ? 8 : out_row_bytes()); }
  double number(const std::string& key) const {
    const auto it = params.find(key);
    if (it == params.end()) throw std::runtime_error(name + ": the manifest gives no " + key);
    return std::strtod(it->second.c_str(), nullptr);
  }
  std::string size() const { return std::to_string(input.width()) + "x" + std::to_string(input.height()); }
};

struct Manifest {
  std::string cpu;    // where the CPU times were measured
  std::string input;  // the stored photo's file name
  std::vector<Case> cases;
};

std::vector<std::uint8_t> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

Manifest read_manifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.txt");
  if (!in)
    throw std::runtime_error("no manifest.txt in " + dir + " (was it written by `tools/gpu-check prepare`?)");
  Manifest m;
  std::string line;
  if (!std::getline(in, line) || line != "imgpipe-gpu-check 1")
    throw std::runtime_error(dir + "/manifest.txt: expected 'imgpipe-gpu-check 1' on the first line");
  int number = 1;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "cpu") {
      std::getline(words >> std::ws, m.cpu);
    } else if (kind == "input") {
      words >> m.input;
    } else if (kind == "case") {
      Case c;
      std::string check;
      words >> c.name >> c.plugin >> c.input.scale >> c.input.channels >> c.input.depth >> c.out_width >>
          c.out_height >> c.out_channels >> check >> c.row_step >> c.cpu_ms >> c.golden;
      if (!words || (check != "hash" && check != "rows") || c.row_step < 1)
        throw std::runtime_error("manifest.txt line " + std::to_string(number) + ": malformed case");
      c.exact = check == "hash";
      std::string param;
      while (words >> param) {
        const auto eq = param.find('=');
        if (eq == std::string::npos)
          throw std::runtime_error("manifest.txt line " + std::to_string(number) +
                                   ": expected key=value, got " + param);
        c.params[param.substr(0, eq)] = param.substr(eq + 1);
      }
      m.cases.push_back(c);
    } else if (!kind.empty()) {
      throw std::runtime_error("manifest.txt line " + std::to_string(number) + ": unknown entry '" + kind +
                               "'");
    }
  }
  if (m.input.empty() || m.cases.empty())
    throw std::runtime_error(dir + "/manifest.txt: no input or no cases");
  return m;
}

// The folder's files are all there with the sizes the manifest implies.
void check_folder(const std::string& dir, const Manifest& m) {
  const InputLayout base{1, gpu_check::kBaseChannels, 1};
  if (read_file(dir + "/" + m.input).size() != base.bytes())
    throw std::runtime_error(m.input + ": expected " + std::to_string(base.bytes()) + " bytes");
  for (const Case& c : m.cases) {
    const std::size_t size = read_file(dir + "/" + c.golden).size();
    if (size != c.golden_bytes())
      throw std::runtime_error(c.golden + ": expected " + std::to_string(c.golden_bytes()) +
                               " bytes, found " + std::to_string(size));
  }
}

// ---- The plugin. ----

struct Plugin {
  void* handle = nullptr;
#define IMGPIPE_CUDA_FUNCTION(name) decltype(&::imgpipe_cuda_##name) name = nullptr;
  IMGPIPE_CUDA_FUNCTION(abi_version)
  IMGPIPE_CUDA_FUNCTION(device_count)
  IMGPIPE_CUDA_FUNCTION(create)
  IMGPIPE_CUDA_FUNCTION(destroy)
  IMGPIPE_CUDA_FUNCTION(device_name)
  IMGPIPE_CUDA_FUNCTION(last_error)
  IMGPIPE_CUDA_FUNCTION(alloc)
  IMGPIPE_CUDA_FUNCTION(free)
  IMGPIPE_CUDA_FUNCTION(host_alloc)
  IMGPIPE_CUDA_FUNCTION(host_free)
  IMGPIPE_CUDA_FUNCTION(upload)
  IMGPIPE_CUDA_FUNCTION(download)
  IMGPIPE_CUDA_FUNCTION(synchronize)
  IMGPIPE_CUDA_FUNCTION(record)
  IMGPIPE_CUDA_FUNCTION(elapsed_ms)
  IMGPIPE_CUDA_FUNCTION(gaussian_blur)
  IMGPIPE_CUDA_FUNCTION(sharpen)
  IMGPIPE_CUDA_FUNCTION(point_program)
  IMGPIPE_CUDA_FUNCTION(resize)
  IMGPIPE_CUDA_FUNCTION(flip)
  IMGPIPE_CUDA_FUNCTION(rotate90)
  IMGPIPE_CUDA_FUNCTION(crop)
  IMGPIPE_CUDA_FUNCTION(grayscale)
  IMGPIPE_CUDA_FUNCTION(palette_assign)
  IMGPIPE_CUDA_FUNCTION(palette_apply)
  IMGPIPE_CUDA_FUNCTION(dither_ordered)
#undef IMGPIPE_CUDA_FUNCTION
};

template <typename F>
void resolve(void* handle, const char* name, F& function, std::string& missing) {
  function = reinterpret_cast<F>(dlsym(handle, name));
  if (!function) missing += std::string(missing.empty() ? "" : ", ") + name;
}

// Loads the plugin; the management functions must all be there, a missing kernel only fails
// its own cases.
Plugin load_plugin(const std::string& path) {
  Plugin p;
  p.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!p.handle) throw std::runtime_error(std::string("cannot load the plugin: ") + dlerror());
  std::string missing, missing_kernels;
#define RESOLVE(name, list) resolve(p.handle, "imgpipe_cuda_" #name, p.name, list)
  RESOLVE(abi_version, missing);
  RESOLVE(device_count, missing);
  RESOLVE(create, missing);
  RESOLVE(destroy, missing);
  RESOLVE(device_name, missing);
  RESOLVE(last_error, missing);
  RESOLVE(alloc, missing);
  RESOLVE(free, missing);
  RESOLVE(host_alloc, missing);
  RESOLVE(host_free, missing);
  RESOLVE(upload, missing);
  RESOLVE(download, missing);
  RESOLVE(synchronize, missing);
  RESOLVE(record, missing);
  RESOLVE(elapsed_ms, missing);
  RESOLVE(gaussian_blur, missing_kernels);
  RESOLVE(sharpen, missing_kernels);
  RESOLVE(point_program, missing_kernels);
  RESOLVE(resize, missing_kernels);
  RESOLVE(flip, missing_kernels);
  RESOLVE(rotate90, missing_kernels);
  RESOLVE(crop, missing_kernels);
  RESOLVE(grayscale, missing_kernels);
  RESOLVE(palette_assign, missing_kernels);
  RESOLVE(palette_apply, missing_kernels);
  RESOLVE(dither_ordered, missing_kernels);
#undef RESOLVE
  if (!missing.empty()) throw std::runtime_error(path + " lacks " + missing);
  if (!missing_kernels.empty())
    std::printf("the plugin lacks %s: their cases fail\n", missing_kernels.c_str());
  if (p.abi_version() != IMGPIPE_CUDA_ABI_VERSION)
    throw std::runtime_error("the plugin has ABI version " + std::to_string(p.abi_version()) +
                             ", the harness " + std::to_string(IMGPIPE_CUDA_ABI_VERSION));
  return p;
}

// ---- Running one case. ----

// A failed plugin call: the case fails with the plugin's words.
struct CallFailed : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Device {
 public:
  Device(const Plugin& plugin, imgpipe_cuda_context* context) : p_(plugin), context_(context) {}
  ~Device() {
    for (auto& [key, input] : inputs_) p_.host_free(context_, input.data);
    p_.destroy(context_);
  }
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const Plugin& plugin() const { return p_; }
  imgpipe_cuda_context* context() const { return context_; }

  void check(int status, const char* what) const {
    if (status != IMGPIPE_CUDA_OK)
      throw CallFailed(std::string(what) + " failed (" + std::to_string(status) +
                       "): " + p_.last_error(context_));
  }

  // The input of `layout` in pinned host memory, derived once.
  imgpipe_cuda_image input(const std::vector<std::uint8_t>& base, const InputLayout& layout) {
    const int key = layout.scale * 100 + layout.channels * 10 + layout.depth;
    auto it = inputs_.find(key);
    if (it == inputs_.end()) {
      void* memory = nullptr;
      check(p_.host_alloc(context_, layout.bytes(), &memory), "imgpipe_cuda_host_alloc");
      gpu_check::derive_input(base.data(), layout, static_cast<std::uint8_t*>(memory));
      it = inputs_
               .emplace(key,
                        host_image(memory, layout.width(), layout.height(), layout.channels, layout.depth))
               .first;
    }
    return it->second;
  }

  static imgpipe_cuda_image host_image(void* data, int width, int height, int channels, int depth) {
    imgpipe_cuda_image image{};
    image.data = data;
    image.step = static_cast<std::size_t>(width) * channels * depth;
    image.width = width;
    image.height = height;
    image.channels = channels;
    image.depth = depth;
    return image;
  }

 private:
  const Plugin& p_;
  imgpipe_cuda_context* context_;
  std::map<int, imgpipe_cuda_image> inputs_;
};

// The point program's stages from a .stages file (see golden.cpp's write_stages).
struct PointStages {
  std::vector<std::vector<std::uint16_t>> tables;
  std::vector<imgpipe_cuda_point_stage> stages;
};

PointStages read_stages(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  std::size_t at = 0;
  auto take = [&](void* out, std::size_t size) {
    if (at + size > bytes.size()) throw std::runtime_error(path + ": truncated");
    std::memcpy(out, bytes.data() + at, size);
    at += size;
  };
  PointStages s;
  std::uint32_t count = 0;
  take(&count, 4);
  s.tables.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint32_t levels = 0;
    take(&levels, 4);
    imgpipe_cuda_point_stage stage{};
    s.tables.emplace_back(levels);
    take(s.tables.back().data(), levels * 2u);
    stage.table = levels ? s.tables.back().data() : nullptr;
    take(stage.matrix, sizeof stage.matrix);
    take(stage.offset, sizeof stage.offset);
    s.stages.push_back(stage);
  }
  return s;
}

// Reads a .tables file (see golden.cpp's Writer): plain values, and arrays as a u32 count
// followed by the elements.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path), bytes_(read_file(path)) {}
  template <typename T>
  T value() {
    T v{};
    take(&v, sizeof v);
    return v;
  }
  template <typename T>
  std::vector<T> array() {
    std::vector<T> v(value<std::uint32_t>());
    take(v.data(), v.size() * sizeof(T));
    return v;
  }
  void expect_end() const {
    if (at_ != bytes_.size()) throw std::runtime_error(path_ + ": unexpected bytes at the end");
  }

 private:
  void take(void* out, std::size_t size) {
    if (at_ + size > bytes_.size()) throw std::runtime_error(path_ + ": truncated");
    if (size) std::memcpy(out, bytes_.data() + at_, size);
    at_ += size;
  }
  std::string path_;
  std::vector<std::uint8_t> bytes_;
  std::size_t at_ = 0;
};

template <typename T>
const T* data_or_null(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

// The arguments of imgpipe_cuda_palette_assign and imgpipe_cuda_palette_apply for one input
// (golden.cpp's write_palette_tables).
struct PaletteTables {
  int k = 0, use_alpha = 1, preserve_shading = 0, mask_mode = 0;
  std::vector<float> centres, linear, f;
  std::vector<double> exact_linear;
  std::vector<std::uint8_t> colours, centres_rgb, fill;
  imgpipe_cuda_lab_tables lab{};
};

PaletteTables read_palette_tables(const std::string& path) {
  Reader in(path);
  PaletteTables t;
  t.k = in.value<std::int32_t>();
  t.use_alpha = in.value<std::int32_t>();
  t.centres = in.array<float>();
  t.linear = in.array<float>();
  t.f = in.array<float>();
  t.exact_linear = in.array<double>();
  t.colours = in.array<std::uint8_t>();
  t.centres_rgb = in.array<std::uint8_t>();
  t.preserve_shading = in.value<std::int32_t>();
  t.mask_mode = in.value<std::int32_t>();
  t.fill = in.array<std::uint8_t>();
  in.expect_end();
  const auto k = static_cast<std::size_t>(t.k);
  if (t.k < 1 || t.k > 254 || t.centres.size() != k * 3 || t.linear.size() != 256 || t.f.size() != 4097 ||
      (!t.exact_linear.empty() && t.exact_linear.size() != 256) || t.colours.size() != k * 4 ||
      t.centres_rgb.size() != k * 4 || t.fill.size() != 4)
    throw std::runtime_error(path + ": tables of unexpected sizes");
  t.lab = {t.linear.data(), t.f.data()};
  return t;
}

// An ordered dithering's imgpipe_cuda_ordered_dither (golden.cpp's write_dither_tables), with
// the arrays it points into.
struct DitherTables {
  std::vector<float> thresholds, base, level_work, palette_lab, code_thresholds, linear, f;
  std::vector<std::uint8_t> level_values, palette;
  imgpipe_cuda_ordered_dither plan{};
};

DitherTables read_dither_tables(const std::string& path) {
  Reader in(path);
  DitherTables t;
  imgpipe_cuda_ordered_dither& p = t.plan;
  p.n = in.value<std::int32_t>();
  t.thresholds = in.array<float>();
  t.base = in.array<float>();
  p.levels = in.value<std::int32_t>();
  t.level_values = in.array<std::uint8_t>();
  t.level_work = in.array<float>();
  p.palette_size = in.value<std::int32_t>();
  t.palette = in.array<std::uint8_t>();
  t.palette_lab = in.array<float>();
  p.spread = in.value<float>();
  t.code_thresholds = in.array<float>();
  t.linear = in.array<float>();
  t.f = in.array<float>();
  in.expect_end();
  if (p.n < 1 || t.thresholds.size() != static_cast<std::size_t>(p.n) * p.n || t.base.size() != 256 ||
      t.linear.size() != 256 || t.f.size() != 4097)
    throw std::runtime_error(path + ": tables of unexpected sizes");
  p.thresholds = t.thresholds.data();
  p.base = t.base.data();
  p.level_values = data_or_null(t.level_values);
  p.level_work = data_or_null(t.level_work);
  p.palette = data_or_null(t.palette);
  p.palette_lab = data_or_null(t.palette_lab);
  p.code_thresholds = data_or_null(t.code_thresholds);
  p.lab = {t.linear.data(), t.f.data()};
  return t;
}

// What one case's kernel takes besides its images, read from the case's side files; for
// palette_apply also the labels imgpipe_cuda_palette_assign gives the input (device memory,
// assigned on the first run); for the chain its device images between the steps.
struct CaseData {
  PointStages stages;
  PaletteTables palette;
  DitherTables dither;
  imgpipe_cuda_image labels{};
  bool labels_assigned = false;
  imgpipe_cuda_image resized{}, adjusted{}, sharpened{};
};

// The cases whose side files include palette tables.
bool uses_palette_tables(const Case& c) {
  return c.plugin == "palette_assign" || c.plugin == "palette_apply" || c.plugin == "chain";
}

// Queues the case's kernel on the device.
void run_kernel(Device& device, const Case& c, const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst,
                CaseData& data) {
  const Plugin& p = device.plugin();
  imgpipe_cuda_context* context = device.context();
  auto need = [&](const void* function) {
    if (!function) throw CallFailed("the plugin lacks imgpipe_cuda_" + c.plugin);
  };
  int status;
  if (c.plugin == "gaussian_blur") {
    need(reinterpret_cast<const void*>(p.gaussian_blur));
    status = p.gaussian_blur(context, &src, &dst, c.number("sigma"));
  } else if (c.plugin == "sharpen") {
    need(reinterpret_cast<const void*>(p.sharpen));
    status = p.sharpen(context, &src, &dst, c.number("amount"), c.number("radius"), c.number("threshold"));
  } else if (c.plugin == "point_program") {
    need(reinterpret_cast<const void*>(p.point_program));
    status = p.point_program(context, &src, &dst, data.stages.stages.data(),
                             static_cast<int>(data.stages.stages.size()));
  } else if (c.plugin == "resize") {
    need(reinterpret_cast<const void*>(p.resize));
    status = p.resize(context, &src, &dst, static_cast<int>(c.number("interpolation")));
  } else if (c.plugin == "flip") {
    need(reinterpret_cast<const void*>(p.flip));
    status = p.flip(context, &src, &dst, static_cast<int>(c.number("horizontal")),
                    static_cast<int>(c.number("vertical")));
  } else if (c.plugin == "rotate90") {
    need(reinterpret_cast<const void*>(p.rotate90));
    status = p.rotate90(context, &src, &dst, static_cast<int>(c.number("quarter_turns")));
  } else if (c.plugin == "crop") {
    need(reinterpret_cast<const void*>(p.crop));
    status =
        p.crop(context, &src, &dst, static_cast<int>(c.number("left")), static_cast<int>(c.number("top")));
  } else if (c.plugin == "grayscale") {
    need(reinterpret_cast<const void*>(p.grayscale));
    status = p.grayscale(context, &src, &dst, static_cast<int>(c.number("weights")),
                         static_cast<int>(c.number("keep_channels")));
  } else if (c.plugin == "palette_assign" || c.plugin == "palette_apply") {
    const PaletteTables& t = data.palette;
    auto assign = [&](const imgpipe_cuda_image& labels) {
      need(reinterpret_cast<const void*>(p.palette_assign));
      return p.palette_assign(context, &src, nullptr, t.use_alpha, t.centres.data(), t.k, &t.lab,
                              data_or_null(t.exact_linear), &labels, nullptr);
    };
    if (c.plugin == "palette_assign") {
      status = assign(dst);
    } else {
      if (!data.labels_assigned) {
        device.check(assign(data.labels), "imgpipe_cuda_palette_assign");
        data.labels_assigned = true;
      }
      need(reinterpret_cast<const void*>(p.palette_apply));
      status = p.palette_apply(context, &data.labels, &src, t.colours.data(), t.centres_rgb.data(), t.k,
                               t.preserve_shading, t.mask_mode, t.fill.data(), &dst);
    }
  } else if (c.plugin == "dither_ordered") {
    need(reinterpret_cast<const void*>(p.dither_ordered));
    status = p.dither_ordered(context, &src, &dst, &data.dither.plan);
  } else if (c.plugin == "chain") {
    // resize -> point program -> sharpen -> palette assignment -> palette apply, each reading the
    // device image the step before wrote.
    const std::pair<const void*, const char*> functions[] = {
        {reinterpret_cast<const void*>(p.resize), "resize"},
        {reinterpret_cast<const void*>(p.point_program), "point_program"},
        {reinterpret_cast<const void*>(p.sharpen), "sharpen"},
        {reinterpret_cast<const void*>(p.palette_assign), "palette_assign"},
        {reinterpret_cast<const void*>(p.palette_apply), "palette_apply"}};
    for (const auto& [function, name] : functions)
      if (!function) throw CallFailed(std::string("the plugin lacks imgpipe_cuda_") + name);
    const PaletteTables& t = data.palette;
    device.check(p.resize(context, &src, &data.resized, static_cast<int>(c.number("interpolation"))),
                 "imgpipe_cuda_resize");
    device.check(p.point_program(context, &data.resized, &data.adjusted, data.stages.stages.data(),
                                 static_cast<int>(data.stages.stages.size())),
                 "imgpipe_cuda_point_program");
    device.check(p.sharpen(context, &data.adjusted, &data.sharpened, c.number("amount"), c.number("radius"),
                           c.number("threshold")),
                 "imgpipe_cuda_sharpen");
    device.check(p.palette_assign(context, &data.sharpened, nullptr, t.use_alpha, t.centres.data(), t.k,
                                  &t.lab, data_or_null(t.exact_linear), &data.labels, nullptr),
                 "imgpipe_cuda_palette_assign");
    device.check(
        p.palette_apply(context, &data.labels, &data.sharpened, t.colours.data(), t.centres_rgb.data(), t.k,
                        t.preserve_shading, t.mask_mode, t.fill.data(), &dst),
        "imgpipe_cuda_palette_apply");
    return;
  } else {
    throw CallFailed("the harness does not know the kernel '" + c.plugin + "'");
  }
  device.check(status, ("imgpipe_cuda_" + c.plugin).c_str());
}

// How one case's output compares with the golden.
struct Parity {
  bool ok = false;
  std::string text;
};

Parity compare(const Case& c, const std::uint8_t* out, const std::vector<std::uint8_t>& golden) {
  const std::size_t row_bytes = c.out_row_bytes();
  char text[160];
  if (c.exact) {
    int differing = 0, first = -1;
    for (int y = 0; y < c.out_height; ++y) {
      std::uint64_t expected;
      std::memcpy(&expected, golden.data() + static_cast<std::size_t>(y) * 8, 8);
      if (gpu_check::fnv1a(out + static_cast<std::size_t>(y) * row_bytes, row_bytes) != expected) {
        if (first < 0) first = y;
        ++differing;
      }
    }
    if (differing == 0)
      std::snprintf(text, sizeof text, "OK exact (%d rows)", c.out_height);
    else
      std::snprintf(text, sizeof text, "FAIL %d/%d rows differ, first row %d", differing, c.out_height,
                    first);
    return {differing == 0, text};
  }
  long max_difference = 0;
  std::size_t differing = 0, beyond = 0, samples = 0, differing_pixels = 0, pixels = 0;
  const std::size_t count = row_bytes / static_cast<std::size_t>(c.out_depth());
  for (std::size_t r = 0; r < c.stored_rows(); ++r) {
    const std::uint8_t* got = out + r * static_cast<std::size_t>(c.row_step) * row_bytes;
    const std::uint8_t* want = golden.data() + r * row_bytes;
    bool pixel_differs = false;
    for (std::size_t i = 0; i < count; ++i) {
      long a, b;
      if (c.out_depth() == 1) {
        a = got[i];
        b = want[i];
      } else {
        std::uint16_t a16, b16;
        std::memcpy(&a16, got + i * 2, 2);
        std::memcpy(&b16, want + i * 2, 2);
        a = a16;
        b = b16;
      }
      const long d = std::labs(a - b);
      max_difference = std::max(max_difference, d);
      differing += d != 0;
      beyond += d > 1;
      pixel_differs = pixel_differs || d != 0;
      if ((i + 1) % static_cast<std::size_t>(c.out_channels) == 0) {
        differing_pixels += pixel_differs;
        pixel_differs = false;
      }
    }
    samples += count;
    pixels += static_cast<std::size_t>(c.out_width);
  }
  const double checked = 100.0 * static_cast<double>(c.stored_rows()) / c.out_height;
  if (c.params.count("max_off_pixels")) {
    // Only the fraction of differing pixels is checked: the output's colours come from labels,
    // and a label differs wherever a step before it is one level off near a decision boundary.
    const double limit = c.number("max_off_pixels");
    const bool ok = static_cast<double>(differing_pixels) < limit * static_cast<double>(pixels);
    std::snprintf(text, sizeof text, "%s %zu of %zu px off (%.3f%%, < %.1f%%), max %ld, %.1f%% rows",
                  ok ? "OK" : "FAIL", differing_pixels, pixels,
                  100.0 * static_cast<double>(differing_pixels) / static_cast<double>(pixels), 100.0 * limit,
                  max_difference, checked);
    return {ok, text};
  }
  std::snprintf(text, sizeof text, "%s max %ld, %zu of %zu off (%zu > 1), %.1f%% rows",
                beyond ? "FAIL" : "OK", max_difference, differing, samples, beyond, checked);
  return {beyond == 0, text};
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

struct Row {
  Parity parity;
  double kernel_ms = -1, transfer_ms = -1;
};

Row run_case(Device& device, const Case& c, const std::vector<std::uint8_t>& base, const std::string& dir,
             int runs) {
  const Plugin& p = device.plugin();
  imgpipe_cuda_context* context = device.context();
  const std::vector<std::uint8_t> golden = read_file(dir + "/" + c.golden);
  CaseData data;
  if (c.params.count("stages")) data.stages = read_stages(dir + "/" + c.params.at("stages"));
  if (uses_palette_tables(c)) data.palette = read_palette_tables(dir + "/" + c.params.at("tables"));
  if (c.plugin == "dither_ordered") data.dither = read_dither_tables(dir + "/" + c.params.at("tables"));

  const imgpipe_cuda_image host_in = device.input(base, c.input);
  imgpipe_cuda_image src{}, dst{};
  void* out_memory = nullptr;
  Row row;
  try {
    device.check(p.alloc(context, c.input.width(), c.input.height(), c.input.channels, c.input.depth, &src),
                 "imgpipe_cuda_alloc");
    device.check(p.alloc(context, c.out_width, c.out_height, c.out_channels, c.out_depth(), &dst),
                 "imgpipe_cuda_alloc");
    if (c.plugin == "palette_apply")
      device.check(p.alloc(context, c.input.width(), c.input.height(), 1, 1, &data.labels),
                   "imgpipe_cuda_alloc");
    if (c.plugin == "chain") {
      for (imgpipe_cuda_image* image : {&data.resized, &data.adjusted, &data.sharpened})
        device.check(p.alloc(context, c.out_width, c.out_height, c.input.channels, c.input.depth, image),
                     "imgpipe_cuda_alloc");
      device.check(p.alloc(context, c.out_width, c.out_height, 1, 1, &data.labels), "imgpipe_cuda_alloc");
    }
    device.check(p.host_alloc(context, c.out_row_bytes() * c.out_height, &out_memory),
                 "imgpipe_cuda_host_alloc");
    const imgpipe_cuda_image host_out =
        Device::host_image(out_memory, c.out_width, c.out_height, c.out_channels, c.out_depth());
    auto elapsed = [&](const std::function<void()>& work) {
      int from = 0, to = 0;
      double ms = 0;
      device.check(p.record(context, &from), "imgpipe_cuda_record");
      work();
      device.check(p.record(context, &to), "imgpipe_cuda_record");
      device.check(p.elapsed_ms(context, from, to, &ms), "imgpipe_cuda_elapsed_ms");
      return ms;
    };
    auto kernel = [&] { run_kernel(device, c, src, dst, data); };
    auto round_trip = [&] {
      device.check(p.upload(context, &host_in, &src), "imgpipe_cuda_upload");
      kernel();
      device.check(p.download(context, &dst, &host_out), "imgpipe_cuda_download");
    };

    round_trip();  // also the warm-up
    device.check(p.synchronize(context), "imgpipe_cuda_synchronize");
    row.parity = compare(c, static_cast<const std::uint8_t*>(out_memory), golden);
    std::vector<double> kernel_times, transfer_times;
    for (int i = 0; i < runs; ++i) kernel_times.push_back(elapsed(kernel));
    for (int i = 0; i < runs; ++i) transfer_times.push_back(elapsed(round_trip));
    row.kernel_ms = median(kernel_times);
    row.transfer_ms = median(transfer_times);
  } catch (const CallFailed& e) {
    row.parity = {false, std::string("FAIL ") + e.what()};
  }
  if (out_memory) p.host_free(context, out_memory);
  for (imgpipe_cuda_image* image : {&data.labels, &data.resized, &data.adjusted, &data.sharpened})
    if (image->data) p.free(context, image);
  if (dst.data) p.free(context, &dst);
  if (src.data) p.free(context, &src);
  return row;
}

// Every case's side files (.stages, .tables) are there and read as their kernels take them, so a
// malformed folder is found on any machine, before the device part.
void check_side_files(const std::string& dir, const Manifest& m) {
  for (const Case& c : m.cases) {
    if (c.params.count("stages")) read_stages(dir + "/" + c.params.at("stages"));
    if (uses_palette_tables(c)) read_palette_tables(dir + "/" + c.params.at("tables"));
    if (c.plugin == "dither_ordered") read_dither_tables(dir + "/" + c.params.at("tables"));
  }
}

// ---- The table. ----

std::string milliseconds(double ms) {
  if (ms < 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, ms < 10 ? "%.3f" : "%.1f", ms);
  return text;
}

void print_row(const std::string& kernel, const std::string& size, const std::string& layout,
               const std::string& parity, const std::string& cpu, const std::string& gpu,
               const std::string& all) {
  std::printf("| %-18s | %-9s | %-6s | %-52s | %9s | %9s | %9s |\n", kernel.c_str(), size.c_str(),
              layout.c_str(), parity.c_str(), cpu.c_str(), gpu.c_str(), all.c_str());
  std::fflush(stdout);
}

struct Options {
  std::string dir, plugin;
  int runs = 9;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help") {
      std::printf("usage: gpu_check_harness GOLDEN_DIR [--plugin PATH] [--runs N]\n");
      std::exit(0);
    } else if (a == "--plugin" && i + 1 < argc)
      o.plugin = argv[++i];
    else if (a == "--runs" && i + 1 < argc)
      o.runs = std::max(1, std::atoi(argv[++i]));
    else if (o.dir.empty() && a[0] != '-')
      o.dir = a;
    else
      throw std::runtime_error("usage: gpu_check_harness GOLDEN_DIR [--plugin PATH] [--runs N]");
  }
  if (o.dir.empty())
    throw std::runtime_error("usage: gpu_check_harness GOLDEN_DIR [--plugin PATH] [--runs N]");
  if (o.plugin.empty()) o.plugin = o.dir + "/../libimgpipe_cuda.so";
  return o;
}

int run(const Options& o) {
  const Manifest manifest = read_manifest(o.dir);
  check_folder(o.dir, manifest);
  check_side_files(o.dir, manifest);
  std::printf("goldens: %zu cases in %s, CPU times from %s\n", manifest.cases.size(), o.dir.c_str(),
              manifest.cpu.c_str());
  std::string kernels;
  for (const Case& c : manifest.cases) {
    const std::string& listed = c.plugin == "chain" ? c.name : c.plugin;
    if ((", " + kernels + ", ").find(", " + listed + ", ") == std::string::npos)
      kernels += (kernels.empty() ? "" : ", ") + listed;
  }
  std::printf("kernels with goldens: %s\n", kernels.c_str());
  const Plugin plugin = load_plugin(o.plugin);

  char why[512] = "";
  const int devices = plugin.device_count(why, sizeof why);
  if (devices <= 0) {
    std::printf("no CUDA device: %s\n", why);
    std::printf("device part skipped: %s\n", why[0] ? why : "the plugin found no device");
    return 0;
  }
  imgpipe_cuda_context* context = nullptr;
  if (plugin.create(0, &context, why, sizeof why) != IMGPIPE_CUDA_OK || !context) {
    std::printf("cannot open device 0: %s\n", why);
    return 2;
  }
  Device device(plugin, context);
  std::printf("device: %s; GPU times: median of %d runs after a warm-up\n\n", plugin.device_name(context),
              o.runs);

  const std::vector<std::uint8_t> base = read_file(o.dir + "/" + manifest.input);
  print_row("kernel", "size", "layout", "parity (max difference, differing samples)", "CPU ms", "GPU ms",
            "GPU+copy");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(20, '-').c_str(), std::string(11, '-').c_str(),
              std::string(8, '-').c_str(), std::string(54, '-').c_str(), std::string(11, '-').c_str(),
              std::string(11, '-').c_str(), std::string(11, '-').c_str());
  int failed = 0;
  for (const Case& c : manifest.cases) {
    const Row row = run_case(device, c, base, o.dir, o.runs);
    failed += !row.parity.ok;
    print_row(c.name, c.size(), gpu_check::layout_name(c.input.channels, c.input.depth), row.parity.text,
              milliseconds(c.cpu_ms), milliseconds(row.kernel_ms), milliseconds(row.transfer_ms));
  }
  std::printf(
      "\nCPU ms: libimgpipe on all cores of the machine that wrote the goldens (median of its runs).\n"
      "GPU ms: the kernel alone (CUDA events). GPU+copy: upload + kernel + download from pinned memory.\n");
  std::printf("%s: %zu cases, %d failed\n", failed ? "parity FAILED" : "parity OK", manifest.cases.size(),
              failed);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_check_harness: %s\n", e.what());
    return 2;
  }
}
