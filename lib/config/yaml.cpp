// YAML chain files → ChainFile, with every error naming file:line:column and what is allowed.
//
// The settings of `performance:`, `output:` and `on_error:` are one table: the file, the
// IMGPIPE_* variables and the CLI's flags all go through it, so a setting has one type, one
// range and one wording of its errors wherever it is given.

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <imgpipe/config.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <limits>
#include <set>
#include <sstream>

#include "../plan/planner.hpp"

namespace imgpipe {

namespace {

struct Setting {
  std::string section;  // "performance", "output", or "" at the top level
  ParamSpec spec;       // type and range; byte sizes are text parsed by parse_byte_size
  const char* env;      // the IMGPIPE_* variable that overrides it, or nullptr
  void (*apply)(ChainFile&, const Value&);
  bool byte_size = false;

  std::string key() const { return section.empty() ? spec.name : section + "." + spec.name; }
};

ParamSpec int_spec(const char* name, double min, double max) {
  return {name, ParamType::integer, {}, min, max, {}, ""};
}
ParamSpec choice_spec(const char* name, std::vector<std::string> choices) {
  return {name, ParamType::choice, {}, 0, 0, std::move(choices), ""};
}
ParamSpec typed_spec(const char* name, ParamType type) {
  return {name, type, {}, 0, 0, {}, ""};
}

int to_int(const Value& v) {
  return static_cast<int>(v.as_int());
}
std::uint64_t to_bytes(const Value& v) {
  return static_cast<std::uint64_t>(v.as_int());
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> table = [] {
    using T = ParamType;
    const std::vector<std::string> presets = {"ultra", "high", "balanced", "fast", "draft"};
    std::vector<Setting> s = {
        {"performance", choice_spec("device", {"auto", "cpu", "opencl", "cuda"}), "IMGPIPE_DEVICE",
         [](ChainFile& f, const Value& v) {
           f.context.device = *parse_device(v.as_string());
           require_device(f.context.device);  // refused before any image is opened
         }},
        {"performance", int_spec("threads", 0, 1024), "IMGPIPE_THREADS",
         [](ChainFile& f, const Value& v) { f.context.threads = to_int(v); }},
        {"performance", typed_spec("max_memory", T::text), "IMGPIPE_MAX_MEMORY",
         [](ChainFile& f, const Value& v) { f.context.max_memory = to_bytes(v); }, true},
        {"performance", int_spec("max_pixels", 0, 1e15), "IMGPIPE_MAX_PIXELS",
         [](ChainFile& f, const Value& v) { f.context.limits.max_input_pixels = to_bytes(v); }},
        {"performance", typed_spec("formats", T::text), "IMGPIPE_FORMATS",
         [](ChainFile& f, const Value& v) { f.context.limits.formats = parse_input_formats(v.as_string()); }},
        {"performance", typed_spec("max_file_size", T::text), "IMGPIPE_MAX_FILE_SIZE",
         [](ChainFile& f, const Value& v) { f.context.limits.max_file_bytes = to_bytes(v); }, true},
        {"performance", typed_spec("max_metadata_size", T::text), "IMGPIPE_MAX_METADATA_SIZE",
         [](ChainFile& f, const Value& v) { f.context.limits.max_metadata_bytes = to_bytes(v); }, true},
        {"performance", int_spec("max_metadata_segments", 0, 1e9), "IMGPIPE_MAX_METADATA_SEGMENTS",
         [](ChainFile& f, const Value& v) {
           f.context.limits.max_metadata_segments = static_cast<std::uint64_t>(to_int(v));
         }},
        {"performance", int_spec("tile_size", 16, 65536), "IMGPIPE_TILE_SIZE",
         [](ChainFile& f, const Value& v) { f.context.tile_size = to_int(v); }},
        {"performance", int_spec("parallel_images", 0, 1024), "IMGPIPE_PARALLEL_IMAGES",
         [](ChainFile& f, const Value& v) { f.context.parallel_images = to_int(v); }},
        {"performance", choice_spec("quality", presets), "IMGPIPE_PRESET",
         [](ChainFile& f, const Value& v) { f.context.quality = *parse_quality_preset(v.as_string()); }},
        // The planner's thresholds on the long side, in pixels (PlanThresholds).
        {"performance", int_spec("analysis_direct_below", 0, 1e6), "IMGPIPE_ANALYSIS_DIRECT_BELOW",
         [](ChainFile& f, const Value& v) { f.context.plan.direct_below = to_int(v); }},
        {"performance", int_spec("analysis_pyramid_above", 0, 1e6), "IMGPIPE_ANALYSIS_PYRAMID_ABOVE",
         [](ChainFile& f, const Value& v) { f.context.plan.pyramid_above = to_int(v); }},
        {"output", choice_spec("format", {"jpeg", "jpg", "png", "webp", "tiff", "tif", "svg"}),
         "IMGPIPE_FORMAT",
         [](ChainFile& f, const Value& v) {
           f.output.format = *parse_format(v.as_string());
           f.output_format_set = true;
         }},
        {"output", int_spec("quality", 1, 100), "IMGPIPE_QUALITY",
         [](ChainFile& f, const Value& v) { f.output.quality = to_int(v); }},
        {"output", typed_spec("progressive", T::boolean), nullptr,
         [](ChainFile& f, const Value& v) { f.output.progressive = v.as_bool(); }},
        {"output", choice_spec("metadata", {"strip", "keep"}), nullptr,
         [](ChainFile& f, const Value& v) { f.output.keep_metadata = v.as_string() == "keep"; }},
        {"output", int_spec("compression", 0, 9), nullptr,
         [](ChainFile& f, const Value& v) { f.output.compression = to_int(v); }},
        {"output", typed_spec("indexed", T::boolean), nullptr,
         [](ChainFile& f, const Value& v) { f.output.allow_indexed = v.as_bool(); }},
        {"output", typed_spec("lossless", T::boolean), nullptr,
         [](ChainFile& f, const Value& v) { f.output.lossless = v.as_bool(); }},
        {"output", int_spec("near_lossless", 0, 100), nullptr,
         [](ChainFile& f, const Value& v) { f.output.near_lossless = to_int(v); }},
        {"output", int_spec("alpha_quality", 0, 100), nullptr,
         [](ChainFile& f, const Value& v) { f.output.alpha_quality = to_int(v); }},
        {"output", int_spec("method", 0, 6), nullptr,
         [](ChainFile& f, const Value& v) { f.output.method = to_int(v); }},
        {"output", typed_spec("target_size", T::text), nullptr,
         [](ChainFile& f, const Value& v) { f.output.target_size = to_bytes(v); }, true},
        {"output", choice_spec("tiff_compression", {"none", "deflate", "lzw", "jpeg"}), nullptr,
         [](ChainFile& f, const Value& v) { f.output.tiff_compression = v.as_string(); }},
        {"output", typed_spec("background", T::colour), nullptr,
         [](ChainFile& f, const Value& v) {
           const Colour c = v.as_colour();
           f.output.background[0] = c.r;
           f.output.background[1] = c.g;
           f.output.background[2] = c.b;
         }},
        {"output", typed_spec("path", T::text), nullptr,
         [](ChainFile& f, const Value& v) { f.output_path = v.as_string(); }},
        {"output", typed_spec("fsync", T::boolean), nullptr,
         [](ChainFile& f, const Value& v) { f.output.fsync = v.as_bool(); }},
        {"", choice_spec("on_error", {"stop", "continue"}), "IMGPIPE_ON_ERROR",
         [](ChainFile& f, const Value& v) {
           f.on_error = v.as_string() == "continue" ? OnError::continue_ : OnError::stop;
         }},
    };
    return s;
  }();
  return table;
}

std::vector<std::string> keys_of(const std::string& section) {
  std::vector<std::string> keys;
  for (const auto& s : settings())
    if (s.section == section) keys.push_back(s.spec.name);
  return keys;
}

const Setting* find_setting(std::string_view section, std::string_view name) {
  for (const auto& s : settings())
    if (s.section == section && s.spec.name == name) return &s;
  return nullptr;
}

// A setting's value from text (a scalar, a variable, a flag); the reason it is refused otherwise.
std::variant<Value, std::string> setting_value(const Setting& setting, const Value& given) {
  if (!setting.byte_size) return setting.spec.check(given);
  const auto bytes = given.is_string() ? parse_byte_size(given.as_string()) : std::nullopt;
  if (!bytes || *bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return fmt::format("expected a size such as 4GB, 512MiB or 1000000, got {}", given.to_text());
  return Value(static_cast<std::int64_t>(*bytes));
}

class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message,
                         ErrorCategory category = ErrorCategory::config) const {
    // yaml-cpp leaves the mark at -1 for nodes it made up; the start is the best place then.
    const int line = mark.is_null() ? 1 : mark.line + 1, column = mark.is_null() ? 1 : mark.column + 1;
    throw Error(category, fmt::format("{}:{}:{}: {}", name_, line, column, message));
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail(node.Mark(), message);
  }

  void expect_map(const YAML::Node& node, const std::string& what) const {
    if (!node.IsMap()) fail(node, fmt::format("{}: expected a mapping of keys to values", what));
  }

  struct Entry {
    std::string key;
    YAML::Node key_node, value;
  };

  // The entries of a mapping, each key a name and given once.
  std::vector<Entry> entries(const YAML::Node& map, const std::string& what) const {
    std::vector<Entry> out;
    std::set<std::string> seen;
    for (const auto& entry : map) {
      if (!entry.first.IsScalar()) fail(entry.first, fmt::format("{}: expected a name as the key", what));
      const std::string key = entry.first.Scalar();
      if (!seen.insert(key).second) fail(entry.first, fmt::format("{}: '{}' is given twice", what, key));
      out.push_back({key, entry.first, entry.second});
    }
    return out;
  }

  // Every key must be one of `allowed`; says which and suggests the closest.
  void check_keys(const std::vector<Entry>& all, const std::vector<std::string>& allowed,
                  const std::string& what) const {
    for (const auto& entry : all) {
      if (std::find(allowed.begin(), allowed.end(), entry.key) != allowed.end()) continue;
      std::string message = fmt::format("{}: unknown key '{}'", what, entry.key);
      if (auto near = closest_name(entry.key, allowed))
        message += fmt::format(" (did you mean '{}'?)", *near);
      fail(entry.key_node, message + fmt::format("; allowed: {}", fmt::join(allowed, ", ")));
    }
  }

  // A YAML value as the natural Value for a type. Quoted scalars stay text: "85" is not 85.
  Value value(const YAML::Node& node, ParamType type, const std::string& what) const {
    if (type == ParamType::colour && node.IsSequence()) return colour_list(node, what);
    if (type == ParamType::text && node.IsSequence()) {  // [jpeg, png] as "jpeg, png"
      std::string joined;
      for (const auto& item : node) {
        if (!item.IsScalar()) fail(item, fmt::format("{}: expected a list of words", what));
        joined += (joined.empty() ? "" : ", ") + item.Scalar();
      }
      return Value(joined);
    }
    if (!node.IsScalar()) fail(node, fmt::format("{}: expected a single value", what));
    if (node.Tag() == "!") return Value(node.Scalar());
    return value_from_text(node.Scalar(), type);
  }

  void apply(const YAML::Node& node, const Setting& setting, ChainFile& file) const {
    const std::string what = setting.key();
    auto checked = setting_value(setting, value(node, setting.spec.type, what));
    if (auto* why = std::get_if<std::string>(&checked)) fail(node, fmt::format("{}: {}", what, *why));
    try {
      setting.apply(file, std::get<Value>(checked));
    } catch (const Error& e) {  // a value the setting itself refuses (a device this process cannot use)
      fail(node.Mark(), e.what(), e.category());
    }
  }

  // An empty section (`output:` and nothing under it) sets nothing, as `- grayscale:` does.
  void read_section(const YAML::Node& node, const std::string& section, ChainFile& file) const {
    if (node.IsNull()) return;
    expect_map(node, section);
    const auto all = entries(node, section);
    check_keys(all, keys_of(section), section);
    for (const auto& entry : all) apply(entry.value, *find_setting(section, entry.key), file);
  }

  void read_step(const YAML::Node& item, std::size_t index, Chain& chain) const;

 private:
  Value colour_list(const YAML::Node& node, const std::string& what) const {
    if (node.size() != 3 && node.size() != 4)
      fail(node, fmt::format("{}: expected [r, g, b] or [r, g, b, a] with values 0..255", what));
    std::uint8_t c[4] = {0, 0, 0, 255};
    for (std::size_t i = 0; i < node.size(); ++i) {
      const Value v = node[i].IsScalar() ? value_from_text(node[i].Scalar(), ParamType::integer) : Value();
      if (!v.is_int() || v.as_int() < 0 || v.as_int() > 255)
        fail(node[i], fmt::format("{}: expected a channel value 0..255, got {}", what, v.to_text()));
      c[i] = static_cast<std::uint8_t>(v.as_int());
    }
    return Value(Colour{c[0], c[1], c[2], c[3]});
  }

  std::string name_;
};

void Reader::read_step(const YAML::Node& item, std::size_t index, Chain& chain) const {
  const std::string where = fmt::format("chain[{}]", index);
  YAML::Node name_node, params_node;
  if (item.IsScalar()) {
    name_node = item;
  } else if (item.IsMap() && item.size() == 1 && item.begin()->first.IsScalar()) {
    name_node = item.begin()->first;
    params_node = item.begin()->second;
  } else {
    fail(item, fmt::format("{}: expected one operation such as '- resize: {{width: 800}}' or '- grayscale'",
                           where));
  }
  const std::string op = name_node.Scalar();
  const OpDescriptor* descriptor = Registry::global().find(op);
  try {
    if (!descriptor) Registry::global().at(op);  // throws with the suggestion and the list
  } catch (const Error& e) {
    fail(name_node, fmt::format("{}: {}", where, e.what()));
  }
  std::map<std::string, Value, std::less<>> given;
  Device device = Device::automatic;
  if (params_node && !params_node.IsNull()) {
    if (!params_node.IsMap())
      fail(params_node, fmt::format("{}: parameters must be a mapping, e.g. {{width: 800}}", op));
    for (const auto& entry : entries(params_node, op)) {
      if (entry.key == "device") {  // where the step runs, beside its parameters (Step::device)
        const auto parsed = entry.value.IsScalar() ? parse_device(entry.value.Scalar()) : std::nullopt;
        if (!parsed) fail(entry.value, fmt::format("{}.device: expected one of auto, cpu, opencl, cuda", op));
        device = *parsed;
        continue;
      }
      const ParamSpec* spec = descriptor->find_param(entry.key);
      if (!spec) {
        // validate_params words the unknown-parameter error; here it gets its position.
        try {
          validate_params(*descriptor, {{entry.key, Value()}});
        } catch (const Error& e) {
          fail(entry.key_node, e.what());
        }
      }
      const std::string what = op + "." + entry.key;
      auto checked = spec->check(value(entry.value, spec->type, what));
      if (auto* why = std::get_if<std::string>(&checked))
        fail(entry.value, fmt::format("{}: {}", what, *why));
      if (given.count(spec->name))  // a name and its other spelling: "color" and "colour"
        fail(entry.key_node, fmt::format("{}: parameter '{}' given twice", op, spec->name));
      given[spec->name] = std::get<Value>(checked);
    }
  }
  try {
    chain.then(*descriptor, validate_params(*descriptor, given), device);
  } catch (const Error& e) {
    fail(name_node, e.what());  // checks across parameters, at the step
  }
}

ChainFile parse_root(const Reader& r, const YAML::Node& root, const std::string& name,
                     const FileAccess& access) {
  if (!root || root.IsNull())
    r.fail(YAML::Mark::null_mark(), "the file is empty; it needs at least a 'chain:' list of operations");
  r.expect_map(root, "chain file");
  ChainFile file;
  file.source = name;
  file.chain = Chain(access);
  const std::vector<std::string> top = {"performance", "chain", "output", "on_error"};
  const auto all = r.entries(root, "chain file");
  r.check_keys(all, top, "chain file");
  for (const auto& entry : all) {
    if (entry.key == "performance" || entry.key == "output")
      r.read_section(entry.value, entry.key, file);
    else if (entry.key == "on_error")
      r.apply(entry.value, *find_setting("", entry.key), file);
  }
  const YAML::Node chain = root["chain"];
  if (!chain) r.fail(root, "missing 'chain:', the list of operations to run");
  if (!chain.IsSequence() && !chain.IsNull())
    r.fail(chain, "chain: expected a list of operations such as '- resize: {width: 800}'");
  std::size_t index = 0;
  for (const auto& item : chain) r.read_step(item, index++, file.chain);
  return file;
}

}  // namespace

ChainFile parse_chain(std::string_view yaml_text, const std::string& name, const FileAccess& access) {
  const Reader r(name);
  try {
    return parse_root(r, YAML::Load(std::string(yaml_text)), name, access);
  } catch (const YAML::DeepRecursion& e) {
    r.fail(e.mark, fmt::format("invalid YAML: nested more than {} levels deep", e.depth()));
  } catch (const YAML::Exception& e) {
    r.fail(e.mark, "invalid YAML: " + e.msg);
  }
}

ChainFile load_chain_file(const std::filesystem::path& path, const FileAccess& access) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(ErrorCategory::config, fmt::format("{}: is a directory, not a chain file", path.string()));
  // A regular file of at most 4 MB (a chain is a few hundred bytes): never a device or a pipe.
  const auto bytes = read_referenced_file(path, "chain file", std::uint64_t{4} << 20);
  // Files the steps name resolve against the chain file's folder (an absolute base, so that
  // the resolution does not change with the working folder later).
  FileAccess relative_to_file = access;
  if (relative_to_file.base.empty()) relative_to_file.base = std::filesystem::absolute(path).parent_path();
  return parse_chain(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
                     path.string(), relative_to_file);
}

std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || number < 0 || !std::isfinite(number)) return std::nullopt;
  std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  static const std::pair<std::string_view, double> units[] = {
      {"", 1},        {"B", 1},        {"K", 1e3},     {"KB", 1e3},     {"M", 1e6},     {"MB", 1e6},
      {"G", 1e9},     {"GB", 1e9},     {"T", 1e12},    {"TB", 1e12},    {"KI", 0x1p10}, {"KIB", 0x1p10},
      {"MI", 0x1p20}, {"MIB", 0x1p20}, {"GI", 0x1p30}, {"GIB", 0x1p30}, {"TI", 0x1p40}, {"TIB", 0x1p40}};
  auto same = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::toupper(static_cast<unsigned char>(x)) == y;
           });
  };
  for (const auto& [name, factor] : units)
    if (same(unit, name)) {
      const double bytes = std::round(number * factor);
      // 2^64 is the first double past the largest 64-bit value.
      if (bytes >= 0x1p64) return std::nullopt;
      return static_cast<std::uint64_t>(bytes);
    }
  return std::nullopt;
}

void apply_setting(ChainFile& file, std::string_view key, std::string_view text, std::string_view origin) {
  const auto dot = key.find('.');
  const std::string_view section = dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
  const Setting* setting = find_setting(section, dot == std::string_view::npos ? key : key.substr(dot + 1));
  if (!setting) throw Error(ErrorCategory::internal, fmt::format("{}: no setting '{}'", origin, key));
  auto checked = setting_value(*setting, value_from_text(text, setting->spec.type));
  if (auto* why = std::get_if<std::string>(&checked))
    throw Error(ErrorCategory::config, fmt::format("{}: {}", origin, *why));
  try {
    setting->apply(file, std::get<Value>(checked));
  } catch (const Error& e) {  // a value the setting itself refuses (a device this build lacks)
    throw Error(e.category(), fmt::format("{}: {}", origin, e.what()));
  }
}

void apply_environment(ChainFile& file, const std::function<const char*(const char*)>& getenv_fn) {
  for (const auto& setting : settings()) {
    if (!setting.env) continue;
    const char* value = getenv_fn ? getenv_fn(setting.env) : std::getenv(setting.env);
    if (value && *value) apply_setting(file, setting.key(), value, setting.env);
  }
}

}  // namespace imgpipe
