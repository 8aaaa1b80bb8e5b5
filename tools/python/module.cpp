// The imgpipe Python module (_imgpipe, wrapped by the imgpipe package beside it): pixels as
// buffers shared with numpy, chains run through the library's own engine and job runner, the
// palette engine and the batch. Python's lock is released while pixels are processed, so a
// threaded server scales; library errors become the imgpipe.Error classes of the package.
#include <fmt/format.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <imgpipe/batch.hpp>
#include <imgpipe/chain.hpp>
#include <imgpipe/config.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/operation.hpp>
#include <imgpipe/palette.hpp>
#include <imgpipe/params.hpp>
#include <imgpipe/version.hpp>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using namespace pybind11::literals;

namespace imgpipe::python {
namespace {

Error config_error(const std::string& message) {
  return Error(ErrorCategory::config, message);
}

// An image and, when its pixels are the memory of a Python object (Image.from_array), that
// object: it lives as long as any image whose pixels point into it.
struct PyImage {
  Image image;
  py::object base;
};

// An output made from `input`: where the engine handed back pixels it does not own (a view
// into the input, such as an unchanged image), the input's owner is kept with them.
PyImage derived(Image image, const PyImage& input) {
  PyImage out{std::move(image), py::none()};
  if (out.image.pixels.u == nullptr && !out.image.pixels.empty()) out.base = input.base;
  return out;
}

// ---- Pixels ------------------------------------------------------------------------------

py::buffer_info buffer_of(PyImage& self) {
  const cv::Mat& m = self.image.pixels;
  if (m.empty()) throw config_error("the image has no pixels");
  const bool sixteen = m.depth() == CV_16U;
  const auto item = static_cast<py::ssize_t>(m.elemSize1());
  const std::string format = sixteen ? py::format_descriptor<std::uint16_t>::format()
                                     : py::format_descriptor<std::uint8_t>::format();
  if (m.channels() == 1)
    return py::buffer_info(m.data, item, format, 2, {m.rows, m.cols},
                           {static_cast<py::ssize_t>(m.step[0]), static_cast<py::ssize_t>(m.elemSize())});
  return py::buffer_info(m.data, item, format, 3, {m.rows, m.cols, m.channels()},
                         {static_cast<py::ssize_t>(m.step[0]), static_cast<py::ssize_t>(m.elemSize()), item});
}

// Wraps a buffer's memory as an image without copying where OpenCV can describe its layout
// (rows of packed pixels, any row stride); copies otherwise (or when asked to).
PyImage from_array(const py::buffer& array, bool copy) {
  py::buffer_info info = array.request();
  int depth = -1;
  if (info.itemsize == 1 && (info.format == "B" || info.format == "=B" || info.format == "<B"))
    depth = CV_8U;
  else if (info.itemsize == 2 && (info.format == "H" || info.format == "=H" || info.format == "<H"))
    depth = CV_16U;
  if (depth < 0)
    throw config_error(fmt::format(
        "Image.from_array: expected uint8 or uint16 pixels, got buffer format '{}'", info.format));
  if (info.ndim != 2 && info.ndim != 3)
    throw config_error(
        fmt::format("Image.from_array: expected an array of shape (height, width) or "
                    "(height, width, channels), got {} dimensions",
                    info.ndim));
  const auto rows = info.shape[0], cols = info.shape[1];
  const auto channels = info.ndim == 3 ? info.shape[2] : 1;
  if (channels < 1 || channels > 4)
    throw config_error(
        fmt::format("Image.from_array: expected 1 to 4 channels (grey, grey + alpha, RGB, "
                    "RGBA), got {}",
                    channels));
  if (rows < 1 || cols < 1) throw config_error("Image.from_array: the array is empty");
  const auto item = info.itemsize;
  const bool packed = (info.ndim == 2 || info.strides[2] == item) && info.strides[1] == item * channels &&
                      info.strides[0] >= item * channels * cols && info.strides[0] % item == 0;
  cv::Mat view;
  if (packed) {
    view = cv::Mat(static_cast<int>(rows), static_cast<int>(cols),
                   CV_MAKETYPE(depth, static_cast<int>(channels)), info.ptr,
                   static_cast<std::size_t>(info.strides[0]));
  } else {
    copy = true;
    view.create(static_cast<int>(rows), static_cast<int>(cols),
                CV_MAKETYPE(depth, static_cast<int>(channels)));
    const auto* base = static_cast<const std::uint8_t*>(info.ptr);
    for (py::ssize_t y = 0; y < rows; ++y)
      for (py::ssize_t x = 0; x < cols; ++x)
        for (py::ssize_t c = 0; c < channels; ++c)
          std::memcpy(
              view.ptr(static_cast<int>(y)) + (x * channels + c) * item,
              base + y * info.strides[0] + x * info.strides[1] + (info.ndim == 3 ? c * info.strides[2] : 0),
              static_cast<std::size_t>(item));
    return PyImage{Image(view), py::none()};
  }
  Image image(copy ? view.clone() : view);
  image.source = "<array>";
  return PyImage{std::move(image), copy ? py::none() : py::object(array)};
}

// Bytes-like objects (bytes, bytearray, memoryview, numpy arrays of bytes) as a span; the
// buffer export keeps them alive and unresizable while it is held.
std::span<const std::uint8_t> bytes_of(const py::buffer_info& info) {
  return {static_cast<const std::uint8_t*>(info.ptr), static_cast<std::size_t>(info.size * info.itemsize)};
}

py::bytes to_bytes(const std::vector<std::uint8_t>& data) {
  return py::bytes(reinterpret_cast<const char*>(data.data()), data.size());
}

// ---- Settings ------------------------------------------------------------------------------

QualityPreset preset_of(const std::optional<std::string>& name, QualityPreset fallback) {
  if (!name) return fallback;
  if (auto preset = parse_quality_preset(*name)) return *preset;
  throw config_error(
      fmt::format("quality: expected one of ultra, high, balanced, fast, draft, got '{}'", *name));
}

// The chain's settings with the call's: device, threads, quality and timeout (seconds).
Context context_of(Context base, const py::dict& settings) {
  const auto get = [&](const char* key) -> py::object {
    return settings.contains(key) ? py::reinterpret_borrow<py::object>(settings[key]) : py::none();
  };
  if (const auto device = get("device"); !device.is_none()) {
    const auto text = device.cast<std::string>();
    auto parsed = parse_device(text);
    if (!parsed)
      throw config_error(fmt::format("device: expected one of auto, cpu, opencl, cuda, got '{}'", text));
    base.device = *parsed;
  }
  if (const auto threads = get("threads"); !threads.is_none()) {
    const int n = threads.cast<int>();
    if (n < 0) throw config_error(fmt::format("threads: expected 0 (all cores) or more, got {}", n));
    base.threads = n;
  }
  if (const auto quality = get("quality"); !quality.is_none())
    base.quality = preset_of(quality.cast<std::string>(), base.quality);
  if (const auto timeout = get("timeout"); !timeout.is_none()) {
    const double seconds = timeout.cast<double>();
    if (!(seconds > 0)) throw config_error(fmt::format("timeout: expected seconds above 0, got {}", seconds));
    base.deadline =
        std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                               std::chrono::duration<double>(seconds));
  }
  return base;
}

Colour colour_of(const py::handle& item) {
  if (py::isinstance<py::str>(item)) {
    const auto text = item.cast<std::string>();
    if (auto colour = parse_colour(text)) return *colour;
    throw config_error(fmt::format("expected a colour such as \"#ff8800\", got '{}'", text));
  }
  if (py::isinstance<py::sequence>(item)) {
    const auto values = item.cast<std::vector<int>>();
    if (values.size() == 3 || values.size() == 4) {
      for (int v : values)
        if (v < 0 || v > 255) throw config_error(fmt::format("colour components are 0..255, got {}", v));
      return Colour{static_cast<std::uint8_t>(values[0]), static_cast<std::uint8_t>(values[1]),
                    static_cast<std::uint8_t>(values[2]),
                    static_cast<std::uint8_t>(values.size() == 4 ? values[3] : 255)};
    }
  }
  throw config_error(fmt::format("expected a colour as \"#rrggbb\" or (r, g, b), got {}",
                                 py::repr(item).cast<std::string>()));
}

py::tuple rgb_tuple(const Colour& c) {
  return py::make_tuple(c.r, c.g, c.b);
}

Value value_of(const py::handle& v) {
  if (py::isinstance<py::bool_>(v)) return Value(v.cast<bool>());
  if (py::isinstance<py::int_>(v)) return Value(v.cast<std::int64_t>());
  if (py::isinstance<py::float_>(v)) return Value(v.cast<double>());
  if (py::isinstance<py::str>(v)) return Value(v.cast<std::string>());
  if (v.is_none()) return Value();
  if (py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v)) return Value(colour_of(v));
  throw config_error(fmt::format("a parameter value must be a bool, int, float, str or colour tuple, got {}",
                                 py::repr(v).cast<std::string>()));
}

py::object value_to_python(const Value& v) {
  if (!v.is_set()) return py::none();
  if (v.is_bool()) return py::bool_(v.as_bool());
  if (v.is_int()) return py::int_(v.as_int());
  if (v.is_number()) return py::float_(v.as_number());
  if (v.is_string()) return py::str(v.as_string());
  return py::str(to_hex(v.as_colour()));
}

// ---- Chains --------------------------------------------------------------------------------

// A chain with what a chain file adds: settings (Context) and output settings.
struct PyChain {
  ChainFile file;
};

// [{"resize": {"width": 800}}, ("sharpen", {}), "grayscale"] → steps.
PyChain chain_from_steps(const py::object& steps) {
  PyChain chain;
  chain.file.source = "<python>";
  if (steps.is_none()) return chain;
  std::size_t index = 0;
  for (const py::handle& item : steps) {
    ++index;
    std::string name;
    py::object params = py::dict();
    if (py::isinstance<py::str>(item)) {
      name = item.cast<std::string>();
    } else if (py::isinstance<py::dict>(item) && py::len(item) == 1) {
      const auto entry = *item.cast<py::dict>().begin();
      name = entry.first.cast<std::string>();
      params = py::reinterpret_borrow<py::object>(entry.second);
    } else if (py::isinstance<py::tuple>(item) && py::len(item) == 2) {
      name = item.cast<py::tuple>()[0].cast<std::string>();
      params = item.cast<py::tuple>()[1];
    } else {
      throw config_error(
          fmt::format("step {}: expected {{\"operation\": {{parameters}}}}, (\"operation\", "
                      "{{parameters}}) or \"operation\", got {}",
                      index, py::repr(item).cast<std::string>()));
    }
    ParamList list;
    if (!params.is_none()) {
      if (!py::isinstance<py::dict>(params))
        throw config_error(fmt::format("step {} ({}): parameters must be a dict, got {}", index, name,
                                       py::repr(params).cast<std::string>()));
      for (const auto& [key, value] : params.cast<py::dict>())
        list.emplace_back(key.cast<std::string>(), value_of(value));
    }
    try {
      chain.file.chain.then(name, list);
    } catch (const Error& e) {
      throw Error(e.category(), fmt::format("step {}: {}", index, e.what()));
    }
  }
  return chain;
}

// A path: an os.PathLike, or a str of one line ending in .yaml or .yml; anything else is
// YAML text.
// untrusted / allow_paths: FileAccess (which files the steps may read); a folder implies
// untrusted.
PyChain chain_from_yaml(const py::object& source, bool untrusted, const py::iterable& allow_paths) {
  const py::object fspath = py::module_::import("os").attr("fspath");
  FileAccess access;
  for (const auto& folder : allow_paths) access.allowed.emplace_back(fspath(folder).cast<std::string>());
  access.untrusted = untrusted || !access.allowed.empty();
  if (!py::isinstance<py::str>(source)) {
    const auto path = fspath(source).cast<std::string>();
    py::gil_scoped_release release;
    return PyChain{load_chain_file(path, access)};
  }
  const auto text = source.cast<std::string>();
  const bool one_line = text.find('\n') == std::string::npos;
  const auto ext = std::filesystem::path(text).extension();
  py::gil_scoped_release release;
  if (one_line && (ext == ".yaml" || ext == ".yml")) return PyChain{load_chain_file(text, access)};
  return PyChain{parse_chain(text, "<yaml>", access)};
}

py::list steps_of(const PyChain& chain) {
  py::list out;
  for (const Step& step : chain.file.chain.steps()) {
    py::dict params;
    for (const auto& [name, value] : step.params.values()) params[py::str(name)] = value_to_python(value);
    out.append(py::make_tuple(step.descriptor->name, params));
  }
  return out;
}

// ---- Encoding ------------------------------------------------------------------------------

Format format_of(const std::string& name) {
  if (auto format = parse_format(name)) return *format;
  throw config_error(fmt::format("format: unknown format '{}' (png, jpeg, webp, tiff, gif, svg)", name));
}

SaveOptions save_options(Format format, int quality, bool lossless, int compression, bool progressive,
                         bool keep_metadata, int effort) {
  if (quality < 0 || quality > 100)
    throw config_error(fmt::format("quality: expected 0..100, got {}", quality));
  if (compression < 0 || compression > 9)
    throw config_error(fmt::format("compression: expected 0..9, got {}", compression));
  if (effort < -1 || effort > 6) throw config_error(fmt::format("effort: expected 0..6, got {}", effort));
  SaveOptions o;
  o.format = format;
  o.quality = quality;
  o.lossless = lossless;
  o.compression = compression;
  o.progressive = progressive;
  o.keep_metadata = keep_metadata;
  o.method = effort;
  return o;
}

// The default limits, with the input formats given as text ("jpeg, png, ppm") when given.
Limits limits_of(const std::optional<std::string>& formats) {
  Limits limits;
  if (formats) limits.formats = parse_input_formats(*formats);
  return limits;
}

// ---- Errors --------------------------------------------------------------------------------

const char* class_name(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::config: return "ConfigError";
    case ErrorCategory::decode: return "DecodeError";
    case ErrorCategory::limit: return "LimitError";
    case ErrorCategory::io: return "IoError";
    case ErrorCategory::unsupported: return "UnsupportedError";
    case ErrorCategory::device: return "DeviceError";
    case ErrorCategory::timeout: return "TimeoutError";
    case ErrorCategory::cancelled: return "CancelledError";
    case ErrorCategory::internal: return "InternalError";
  }
  return "Error";
}

void translate(std::exception_ptr pointer) {
  try {
    if (pointer) std::rethrow_exception(pointer);
  } catch (const Error& e) {
    const py::object cls = py::module_::import("imgpipe").attr(class_name(e.category()));
    PyErr_SetObject(cls.ptr(), cls(e.what(), std::string(to_string(e.category()))).ptr());
  }
}

}  // namespace
}  // namespace imgpipe::python

PYBIND11_MODULE(_imgpipe, m) {
  using namespace imgpipe;
  using namespace imgpipe::python;
  m.doc() = "imgpipe: fast, bounded-memory image pipelines (the compiled part of the imgpipe package)";
  m.attr("__version__") = std::string(version());
  py::register_exception_translator(&translate);

  py::class_<PyImage>(m, "Image", py::buffer_protocol())
      .def_buffer(&buffer_of)
      .def_static("from_array", &from_array, "array"_a, py::kw_only(), "copy"_a = false)
      .def_property_readonly("width", [](const PyImage& i) { return i.image.width(); })
      .def_property_readonly("height", [](const PyImage& i) { return i.image.height(); })
      .def_property_readonly("channels", [](const PyImage& i) { return i.image.channels(); })
      .def_property_readonly("bit_depth", [](const PyImage& i) { return i.image.bit_depth(); })
      .def_property_readonly("has_alpha", [](const PyImage& i) { return i.image.has_alpha(); })
      .def_property_readonly("source", [](const PyImage& i) { return i.image.source; })
      .def_property_readonly("source_format", [](const PyImage& i) { return i.image.source_format; })
      .def_property_readonly("measures", [](const PyImage& i) { return i.image.measures; })
      .def_property_readonly("_base", [](const PyImage& i) { return i.base; });

  m.def(
      "_load_path",
      [](const std::filesystem::path& path, bool auto_orient, const std::optional<std::string>& formats) {
        LoadOptions options;
        options.auto_orient = auto_orient;
        const Limits limits = limits_of(formats);
        py::gil_scoped_release release;
        return PyImage{load(path, options, limits), py::none()};
      },
      "path"_a, "auto_orient"_a, "formats"_a);
  m.def(
      "_load_bytes",
      [](const py::buffer& data, const std::string& name, bool auto_orient,
         const std::optional<std::string>& formats) {
        const py::buffer_info info = data.request();
        LoadOptions options;
        options.auto_orient = auto_orient;
        const Limits limits = limits_of(formats);
        py::gil_scoped_release release;
        return PyImage{load_buffer(bytes_of(info), name, options, limits), py::none()};
      },
      "data"_a, "name"_a, "auto_orient"_a, "formats"_a);

  m.def(
      "_encode",
      [](const PyImage& image, const std::string& format, int quality, bool lossless, int compression,
         bool progressive, bool keep_metadata, int effort) {
        const SaveOptions options = save_options(format_of(format), quality, lossless, compression,
                                                 progressive, keep_metadata, effort);
        std::vector<std::uint8_t> data;
        {
          py::gil_scoped_release release;
          data = encode(image.image, options);
        }
        return to_bytes(data);
      },
      "image"_a, "format"_a, "quality"_a, "lossless"_a, "compression"_a, "progressive"_a, "keep_metadata"_a,
      "effort"_a);
  m.def(
      "_save",
      [](const PyImage& image, const std::filesystem::path& path, const std::optional<std::string>& format,
         int quality, bool lossless, int compression, bool progressive, bool keep_metadata, int effort) {
        const Format resolved = resolve_output_format(
            path, format ? std::optional<Format>(format_of(*format)) : std::nullopt, "save()");
        SaveOptions options =
            save_options(resolved, quality, lossless, compression, progressive, keep_metadata, effort);
        py::gil_scoped_release release;
        save(image.image, path, options);
      },
      "image"_a, "path"_a, "format"_a, "quality"_a, "lossless"_a, "compression"_a, "progressive"_a,
      "keep_metadata"_a, "effort"_a);

  py::class_<PyChain>(m, "Chain")
      .def(py::init(&chain_from_steps), "steps"_a = py::none())
      .def_static("_from_yaml", &chain_from_yaml, "source"_a, "untrusted"_a = false,
                  "allow_paths"_a = py::tuple())
      .def_property_readonly("steps", &steps_of)
      .def_property_readonly("canonical", [](const PyChain& c) { return c.file.chain.canonical(); })
      .def_property_readonly("output_format",
                             [](const PyChain& c) -> std::optional<std::string> {
                               if (!c.file.output_format_set) return std::nullopt;
                               return std::string(to_string(c.file.output.format));
                             })
      .def("__len__", [](const PyChain& c) { return c.file.chain.steps().size(); })
      .def(
          "_run_variants",
          [](const PyChain& chain, const PyImage& image, const py::dict& settings) {
            const Context context = context_of(chain.file.context, settings);
            std::vector<Variant> variants;
            {
              py::gil_scoped_release release;
              variants = Job(chain.file, image.image, context).variants();
            }
            std::map<std::string, PyImage> out;
            for (auto& variant : variants)
              out.emplace(variant.name, derived(std::move(variant.image), image));
            return out;
          },
          "image"_a, "settings"_a)
      .def(
          "_run_file",
          [](const PyChain& chain, const std::filesystem::path& input, const std::filesystem::path& output,
             bool stream, const py::dict& settings) {
            const Context context = context_of(chain.file.context, settings);
            SaveOptions save = chain.file.output;
            save.format = resolve_output_format(
                output, chain.file.output_format_set ? std::optional<Format>(save.format) : std::nullopt,
                chain.file.source);
            JobResult result;
            {
              py::gil_scoped_release release;
              Job job(chain.file, input, context, JobOptions{.stream = stream});
              result = job.run(output, save);
            }
            py::dict outputs;
            for (const auto& written : result.outputs) outputs[py::str(written.variant)] = written.path;
            return outputs;
          },
          "input"_a, "output"_a, "stream"_a, "settings"_a)
      .def(
          "_encode",
          [](const PyChain& chain, const py::object& source, const std::string& name,
             const std::optional<std::string>& format, int quality, const py::dict& settings) {
            const Context context = context_of(chain.file.context, settings);
            SaveOptions save = chain.file.output;
            if (format) {
              save.format = format_of(*format);
            } else if (!chain.file.output_format_set) {
              throw config_error("encode: give format= (the chain sets no output.format)");
            }
            if (quality < 0 || quality > 100)
              throw config_error(fmt::format("quality: expected 0..100, got {}", quality));
            if (quality > 0) save.quality = quality;
            check_output_format(chain.file.chain, save.format);
            std::vector<EncodedOutput> encoded;
            if (py::isinstance<PyImage>(source)) {
              const Image image = source.cast<const PyImage&>().image;
              py::gil_scoped_release release;
              encoded = Job(chain.file, image, context).encode(save);
            } else {
              const py::buffer_info info = source.cast<py::buffer>().request();
              py::gil_scoped_release release;
              const auto bytes = bytes_of(info);
              encoded = Job(chain.file, std::vector<std::uint8_t>(bytes.begin(), bytes.end()), name, context)
                            .encode(save);
            }
            py::dict out;
            for (const auto& e : encoded) out[py::str(e.variant)] = to_bytes(e.bytes);
            return out;
          },
          "source"_a, "name"_a, "format"_a, "quality"_a, "settings"_a);

  py::class_<Clustering>(m, "Clustering")
      .def_property_readonly("k", &Clustering::k)
      .def_property_readonly("centers",
                             [](const Clustering& c) {
                               py::list out;
                               for (const auto& colour : c.centres_rgb()) out.append(rgb_tuple(colour));
                               return out;
                             })
      .def_property_readonly("centers_lab",
                             [](const Clustering& c) {
                               py::list out;
                               for (const auto& lab : c.centres_lab())
                                 out.append(py::make_tuple(lab.L, lab.a, lab.b));
                               return out;
                             })
      .def_property_readonly("fractions", &Clustering::fractions)
      .def_property_readonly("labels",
                             [](const Clustering& c) {
                               return PyImage{Image(c.labels()), py::none()};
                             })
      .def_property_readonly("strategy", &Clustering::strategy)
      .def("mean_lab_error",
           [](const Clustering& c) {
             py::gil_scoped_release release;
             return c.mean_lab_error();
           })
      .def(
          "_apply",
          [](const Clustering& c, const py::iterable& palette, const std::string& mapping,
             bool preserve_shading, const std::string& masked, const py::object& fill) {
            Palette p{"palette", {}};
            for (const py::handle& colour : palette) p.colours.push_back(colour_of(colour));
            if (p.colours.empty()) throw config_error("apply: the palette has no colours");
            ApplyOptions options;
            if (mapping == "nearest")
              options.mapping = ApplyOptions::Mapping::nearest;
            else if (mapping != "lightness")
              throw config_error(fmt::format("mapping: expected lightness or nearest, got '{}'", mapping));
            options.preserve_shading = preserve_shading;
            if (masked == "transparent")
              options.mask_mode = MaskMode::transparent;
            else if (masked == "fill")
              options.mask_mode = MaskMode::fill;
            else if (masked != "keep")
              throw config_error(fmt::format("masked: expected keep, transparent or fill, got '{}'", masked));
            if (!fill.is_none()) options.fill = colour_of(fill);
            py::gil_scoped_release release;
            return PyImage{c.apply(p, options), py::none()};
          },
          "palette"_a, "mapping"_a, "preserve_shading"_a, "masked"_a, "fill"_a)
      .def("apply_centers", [](const Clustering& c) {
        py::gil_scoped_release release;
        return PyImage{c.apply_centres(), py::none()};
      });

  m.def(
      "_cluster",
      [](const PyImage& image, int k, const PyImage* mask, std::uint64_t seed,
         const std::optional<std::string>& quality, int threads) {
        ClusterOptions options;
        options.k = k;
        options.seed = seed;
        options.quality = preset_of(quality, QualityPreset::balanced);
        options.threads = threads;
        if (mask) {
          const cv::Mat& given = mask->image.pixels;
          if (given.type() != CV_8UC1 || given.size() != image.image.pixels.size())
            throw config_error(fmt::format(
                "cluster: the mask must be a uint8 array of shape ({}, {}), got {}x{} "
                "with {} channels",
                image.image.height(), image.image.width(), given.cols, given.rows, given.channels()));
          options.mask = given;
        }
        py::gil_scoped_release release;
        return cluster(image.image, options);
      },
      "image"_a, "k"_a, "mask"_a, "seed"_a, "quality"_a, "threads"_a);

  m.def(
      "_extract_palette",
      [](const PyImage& image, int k, const std::optional<std::string>& quality) {
        const QualityPreset preset = preset_of(quality, QualityPreset::balanced);
        std::vector<DominantColour> colours;
        {
          py::gil_scoped_release release;
          colours = extract_palette(image.image, k, preset);
        }
        py::list out;
        for (const auto& c : colours)
          out.append(py::dict("hex"_a = to_hex(c.colour).substr(0, 7), "rgb"_a = rgb_tuple(c.colour),
                              "lab"_a = py::make_tuple(c.lab.L, c.lab.a, c.lab.b),
                              "fraction"_a = c.fraction));
        return out;
      },
      "image"_a, "k"_a, "quality"_a);

  m.def(
      "_run_batch",
      [](const PyChain& chain, const std::vector<std::filesystem::path>& inputs,
         const std::filesystem::path& output_dir, const std::vector<std::string>& include,
         const std::optional<std::string>& output_template, int jobs, int threads, bool resume,
         const std::optional<std::filesystem::path>& cache_dir) {
        BatchOptions options;
        options.walk.include = include;
        options.output_root = output_dir;
        if (output_template) {
          check_output_template(*output_template);
          options.output_template = *output_template;
        }
        options.jobs = jobs;
        options.threads = threads;
        options.resume = resume;
        options.cache_dir = cache_dir;
        std::vector<std::string> lines;
        {
          py::gil_scoped_release release;
          const BatchPlan plan = plan_batch(chain.file, find_inputs(inputs, options.walk), options);
          run_batch(chain.file, plan, options,
                    [&](const BatchRecord& r) { lines.push_back(to_json_line(r)); });
        }
        return lines;
      },
      "chain"_a, "inputs"_a, "output_dir"_a, "include"_a, "output_template"_a, "jobs"_a, "threads"_a,
      "resume"_a, "cache_dir"_a);

  m.def("_ops_json", [] { return describe_ops_json(); });
}
