// YAML chain files → ChainFile, with every error naming file:line:column and what is allowed.

#include <imgpipe/config.hpp>
#include <imgpipe/error.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace imgpipe {

namespace {

const std::vector<std::string> kTopKeys = {"performance", "chain", "output", "on_error"};
const std::vector<std::string> kPerformanceKeys = {"device",     "threads",         "max_memory",
                                                   "max_pixels", "max_file_size",   "tile_size",
                                                   "parallel_images", "quality"};
const std::vector<std::string> kOutputKeys = {
    "format",        "quality", "progressive", "metadata",    "compression", "indexed",
    "lossless",      "near_lossless", "alpha_quality", "method", "target_size", "tiff_compression",
    "background",    "path",    "fsync"};

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    const auto mark = node.Mark();
    if (mark.is_null()) throw Error(ErrorCategory::config, fmt::format("{}: {}", name_, message));
    throw Error(ErrorCategory::config,
                fmt::format("{}:{}:{}: {}", name_, mark.line + 1, mark.column + 1, message));
  }

  void expect_map(const YAML::Node& node, const std::string& what) const {
    if (!node.IsMap())
      fail(node, fmt::format("{}: expected a mapping of keys to values", what));
  }

  // Every key must be one of `allowed`; says which and suggests the closest.
  void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                  const std::string& what) const {
    for (const auto& entry : map) {
      const auto key = entry.first.as<std::string>();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string message = fmt::format("{}: unknown key '{}'", what, key);
      if (auto near = closest_name(key, allowed)) message += fmt::format(" (did you mean '{}'?)", *near);
      fail(entry.first, message + fmt::format("; allowed: {}", fmt::join(allowed, ", ")));
    }
  }

  std::string scalar(const YAML::Node& node, const std::string& what) const {
    if (!node.IsScalar()) fail(node, fmt::format("{}: expected a single value", what));
    return node.Scalar();
  }

  // A YAML value as the natural Value for a parameter of the given type; the spec's own
  // check then says whether it fits.
  Value value_for(const YAML::Node& node, ParamType type, const std::string& what) const {
    if (type == ParamType::colour && node.IsSequence()) return colour_list(node, what);
    const std::string text = scalar(node, what);
    const bool quoted = node.Tag() == "!";
    if (!quoted) {
      if (type == ParamType::boolean) {
        bool b = false;
        if (YAML::convert<bool>::decode(node, b)) return Value(b);
      }
      if (type == ParamType::integer || type == ParamType::number) {
        std::int64_t i = 0;
        auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
        if (ec == std::errc() && p == text.data() + text.size()) return Value(i);
        double d = 0;
        auto [q, ed] = std::from_chars(text.data(), text.data() + text.size(), d);
        if (ed == std::errc() && q == text.data() + text.size()) return Value(d);
      }
    }
    return Value(text);
  }

  Value colour_list(const YAML::Node& node, const std::string& what) const {
    if (node.size() != 3 && node.size() != 4)
      fail(node, fmt::format("{}: expected [r, g, b] or [r, g, b, a] with values 0..255", what));
    std::uint8_t c[4] = {0, 0, 0, 255};
    for (std::size_t i = 0; i < node.size(); ++i) {
      int v = -1;
      if (!YAML::convert<int>::decode(node[i], v) || v < 0 || v > 255)
        fail(node[i], fmt::format("{}: expected a channel value 0..255, got {}", what, node[i].Scalar()));
      c[i] = static_cast<std::uint8_t>(v);
    }
    return Value(Colour{c[0], c[1], c[2], c[3]});
  }

  // Checks one setting against an ad-hoc spec, failing at the value's position.
  Value setting(const YAML::Node& node, const ParamSpec& spec, const std::string& section) const {
    const std::string what = section + "." + spec.name;
    auto checked = spec.check(value_for(node, spec.type, what));
    if (auto* why = std::get_if<std::string>(&checked)) fail(node, fmt::format("{}: {}", what, *why));
    return std::get<Value>(checked);
  }

  std::uint64_t byte_size(const YAML::Node& node, const std::string& what) const {
    auto bytes = parse_byte_size(scalar(node, what));
    if (!bytes)
      fail(node, fmt::format("{}: expected a size such as 4GB, 512MiB or 1000000, got \"{}\"", what,
                             node.Scalar()));
    return *bytes;
  }

  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

ParamSpec int_spec(const char* name, double min, double max) {
  return {name, ParamType::integer, {}, min, max, {}, ""};
}
ParamSpec choice_spec(const char* name, std::vector<std::string> choices) {
  return {name, ParamType::choice, {}, 0, 0, std::move(choices), ""};
}
ParamSpec bool_spec(const char* name) { return {name, ParamType::boolean, {}, 0, 0, {}, ""}; }

void read_performance(const Reader& r, const YAML::Node& node, ChainFile& file) {
  r.expect_map(node, "performance");
  r.check_keys(node, kPerformanceKeys, "performance");
  Context& c = file.context;
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const YAML::Node& v = entry.second;
    if (key == "device")
      c.device = *parse_device(r.setting(v, choice_spec("device", {"auto", "cpu", "opencl", "cuda"}), "performance").as_string());
    else if (key == "quality")
      c.quality = *parse_quality_preset(r.setting(v, choice_spec("quality", {"ultra", "high", "balanced", "fast", "draft"}), "performance").as_string());
    else if (key == "threads")
      c.threads = static_cast<int>(r.setting(v, int_spec("threads", 0, 1024), "performance").as_int());
    else if (key == "tile_size")
      c.tile_size = static_cast<int>(r.setting(v, int_spec("tile_size", 16, 65536), "performance").as_int());
    else if (key == "parallel_images")
      c.parallel_images = static_cast<int>(r.setting(v, int_spec("parallel_images", 0, 1024), "performance").as_int());
    else if (key == "max_memory")
      c.max_memory = r.byte_size(v, "performance.max_memory");
    else if (key == "max_file_size")
      c.limits.max_file_bytes = r.byte_size(v, "performance.max_file_size");
    else if (key == "max_pixels")
      c.limits.max_input_pixels = static_cast<std::uint64_t>(
          r.setting(v, int_spec("max_pixels", 0, 1e15), "performance").as_int());
  }
}

void read_output(const Reader& r, const YAML::Node& node, ChainFile& file) {
  r.expect_map(node, "output");
  r.check_keys(node, kOutputKeys, "output");
  SaveOptions& o = file.output;
  for (const auto& entry : node) {
    const auto key = entry.first.as<std::string>();
    const YAML::Node& v = entry.second;
    const std::string s = "output";
    if (key == "format") {
      o.format = *parse_format(r.setting(v, choice_spec("format", {"jpeg", "jpg", "png", "webp", "tiff", "tif"}), s).as_string());
      file.output_format_set = true;
    } else if (key == "quality") o.quality = static_cast<int>(r.setting(v, int_spec("quality", 1, 100), s).as_int());
    else if (key == "progressive") o.progressive = r.setting(v, bool_spec("progressive"), s).as_bool();
    else if (key == "metadata") o.keep_metadata = r.setting(v, choice_spec("metadata", {"strip", "keep"}), s).as_string() == "keep";
    else if (key == "compression") o.compression = static_cast<int>(r.setting(v, int_spec("compression", 0, 9), s).as_int());
    else if (key == "indexed") o.allow_indexed = r.setting(v, bool_spec("indexed"), s).as_bool();
    else if (key == "lossless") o.lossless = r.setting(v, bool_spec("lossless"), s).as_bool();
    else if (key == "near_lossless") o.near_lossless = static_cast<int>(r.setting(v, int_spec("near_lossless", 0, 100), s).as_int());
    else if (key == "alpha_quality") o.alpha_quality = static_cast<int>(r.setting(v, int_spec("alpha_quality", 0, 100), s).as_int());
    else if (key == "method") o.method = static_cast<int>(r.setting(v, int_spec("method", 0, 6), s).as_int());
    else if (key == "target_size") o.target_size = r.byte_size(v, "output.target_size");
    else if (key == "tiff_compression") o.tiff_compression = r.setting(v, choice_spec("tiff_compression", {"none", "deflate", "lzw", "jpeg"}), s).as_string();
    else if (key == "fsync") o.fsync = r.setting(v, bool_spec("fsync"), s).as_bool();
    else if (key == "path") file.output_path = r.scalar(v, "output.path");
    else if (key == "background") {
      ParamSpec spec{"background", ParamType::colour, {}, 0, 0, {}, ""};
      Colour c = r.setting(v, spec, s).as_colour();
      o.background[0] = c.r;
      o.background[1] = c.g;
      o.background[2] = c.b;
    }
  }
}

void read_step(const Reader& r, const YAML::Node& item, std::size_t index, Chain& chain) {
  const std::string where = fmt::format("chain[{}]", index);
  YAML::Node name_node, params_node;
  if (item.IsScalar()) {
    name_node = item;
  } else if (item.IsMap() && item.size() == 1) {
    name_node = item.begin()->first;
    params_node = item.begin()->second;
  } else {
    r.fail(item, fmt::format("{}: expected an operation such as '- resize: {{width: 800}}' or '- grayscale'", where));
  }
  const std::string op = name_node.as<std::string>();
  const OpDescriptor* descriptor = Registry::global().find(op);
  if (!descriptor) {
    try {
      Registry::global().at(op);  // builds the message with the suggestion
    } catch (const Error& e) {
      r.fail(name_node, fmt::format("{}: {}", where, e.what()));
    }
  }
  std::map<std::string, Value, std::less<>> given;
  if (params_node && !params_node.IsNull()) {
    if (!params_node.IsMap())
      r.fail(params_node, fmt::format("{}: parameters must be a mapping, e.g. {{width: 800}}", op));
    std::vector<std::string> allowed;
    for (const auto& spec : descriptor->params) allowed.push_back(spec.name);
    for (const auto& entry : params_node) {
      const auto key = entry.first.as<std::string>();
      const ParamSpec* spec = descriptor->find_param(key);
      if (!spec) {
        std::string message = fmt::format("{}: unknown parameter '{}'", op, key);
        if (auto near = closest_name(key, allowed)) message += fmt::format(" (did you mean '{}'?)", *near);
        r.fail(entry.first, message + (allowed.empty() ? std::string("; it takes no parameters")
                                                       : fmt::format("; allowed: {}", fmt::join(allowed, ", "))));
      }
      given[key] = r.setting(entry.second, *spec, op);
    }
  }
  try {
    chain.then(*descriptor, validate_params(*descriptor, given));
  } catch (const Error& e) {
    r.fail(name_node, e.what());  // checks across parameters, at the step
  }
}

}  // namespace

ChainFile parse_chain(std::string_view yaml_text, const std::string& name) {
  Reader r(name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCategory::config, fmt::format("{}:{}:{}: invalid YAML: {}", name, e.mark.line + 1,
                                                   e.mark.column + 1, e.msg));
  }
  ChainFile file;
  file.source = name;
  if (!root || root.IsNull()) throw Error(ErrorCategory::config, fmt::format("{}: the file is empty; it needs at least a 'chain:' list", name));
  r.expect_map(root, "chain file");
  r.check_keys(root, kTopKeys, "chain file");
  if (root["performance"]) read_performance(r, root["performance"], file);
  if (root["output"]) read_output(r, root["output"], file);
  if (root["on_error"])
    file.on_error = r.setting(root["on_error"], choice_spec("on_error", {"stop", "continue"}), "chain file")
                                .as_string() == "continue" ? OnError::continue_ : OnError::stop;
  const YAML::Node chain = root["chain"];
  if (!chain) throw Error(ErrorCategory::config, fmt::format("{}: missing 'chain:' (the list of operations)", name));
  if (!chain.IsSequence() && !chain.IsNull()) r.fail(chain, "chain: expected a list of operations");
  std::size_t index = 0;
  for (const auto& item : chain) read_step(r, item, index++, file.chain);
  return file;
}

ChainFile load_chain_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::config, fmt::format("{}: cannot read the chain file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_chain(text.str(), path.string());
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0 || !std::isfinite(number)) return std::nullopt;
  std::string unit(end, text.data() + text.size());
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static const std::pair<const char*, double> units[] = {
      {"", 1},          {"B", 1},           {"K", 1e3},          {"KB", 1e3},
      {"M", 1e6},       {"MB", 1e6},        {"G", 1e9},          {"GB", 1e9},
      {"T", 1e12},      {"TB", 1e12},       {"KI", 1024.0},      {"KIB", 1024.0},
      {"MI", 1048576.0}, {"MIB", 1048576.0}, {"GI", 1073741824.0}, {"GIB", 1073741824.0},
      {"TI", 1099511627776.0}, {"TIB", 1099511627776.0}};
  for (const auto& [name, factor] : units)
    if (unit == name) {
      double bytes = number * factor;
      if (bytes > 1.8e19) return std::nullopt;
      return static_cast<std::uint64_t>(std::llround(bytes));
    }
  return std::nullopt;
}

void apply_environment(ChainFile& file, const std::function<const char*(const char*)>& getenv_fn) {
  auto get = [&](const char* name) -> const char* {
    return getenv_fn ? getenv_fn(name) : std::getenv(name);
  };
  auto bad = [](const char* name, const char* value, const std::string& expected) {
    return Error(ErrorCategory::config, fmt::format("{}={}: expected {}", name, value, expected));
  };
  auto integer = [&](const char* name, long long min, long long max) -> std::optional<long long> {
    const char* v = get(name);
    if (!v || !*v) return std::nullopt;
    long long out = 0;
    auto [p, ec] = std::from_chars(v, v + std::strlen(v), out);
    if (ec != std::errc() || *p || out < min || out > max)
      throw bad(name, v, fmt::format("an integer {}..{}", min, max));
    return out;
  };
  auto bytes = [&](const char* name) -> std::optional<std::uint64_t> {
    const char* v = get(name);
    if (!v || !*v) return std::nullopt;
    auto out = parse_byte_size(v);
    if (!out) throw bad(name, v, "a size such as 4GB, 512MiB or 1000000");
    return out;
  };
  Context& c = file.context;
  if (auto v = integer("IMGPIPE_THREADS", 0, 1024)) c.threads = static_cast<int>(*v);
  if (auto v = integer("IMGPIPE_TILE_SIZE", 16, 65536)) c.tile_size = static_cast<int>(*v);
  if (auto v = integer("IMGPIPE_PARALLEL_IMAGES", 0, 1024)) c.parallel_images = static_cast<int>(*v);
  if (auto v = integer("IMGPIPE_MAX_PIXELS", 0, 1'000'000'000'000'000LL)) c.limits.max_input_pixels = static_cast<std::uint64_t>(*v);
  if (auto v = bytes("IMGPIPE_MAX_MEMORY")) c.max_memory = *v;
  if (auto v = bytes("IMGPIPE_MAX_FILE_SIZE")) c.limits.max_file_bytes = *v;
  if (const char* v = get("IMGPIPE_DEVICE"); v && *v) {
    auto d = parse_device(v);
    if (!d) throw bad("IMGPIPE_DEVICE", v, "one of auto, cpu, opencl, cuda");
    c.device = *d;
  }
  if (const char* v = get("IMGPIPE_PRESET"); v && *v) {
    auto q = parse_quality_preset(v);
    if (!q) throw bad("IMGPIPE_PRESET", v, "one of ultra, high, balanced, fast, draft");
    c.quality = *q;
  }
  if (const char* v = get("IMGPIPE_FORMAT"); v && *v) {
    auto f = parse_format(v);
    if (!f) throw bad("IMGPIPE_FORMAT", v, "one of jpeg, png, webp, tiff");
    file.output.format = *f;
    file.output_format_set = true;
  }
  if (auto v = integer("IMGPIPE_QUALITY", 1, 100)) file.output.quality = static_cast<int>(*v);
  if (const char* v = get("IMGPIPE_ON_ERROR"); v && *v) {
    std::string s = v;
    if (s != "stop" && s != "continue") throw bad("IMGPIPE_ON_ERROR", v, "stop or continue");
    file.on_error = s == "continue" ? OnError::continue_ : OnError::stop;
  }
}

}  // namespace imgpipe
