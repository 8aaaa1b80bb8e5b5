// Reference documentation generated from the descriptors: `imgpipe ops` and
// docs/operations.md come from here, so they cannot drift from the code.

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <imgpipe/operation.hpp>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "value_json.hpp"

namespace imgpipe {

namespace {

std::vector<const OpDescriptor*> or_all(const std::vector<const OpDescriptor*>& ops) {
  if (!ops.empty()) return ops;
  std::vector<const OpDescriptor*> all;
  for (const auto& [name, descriptor] : Registry::global().all()) all.push_back(&descriptor);
  return all;
}

std::string default_text(const ParamSpec& p) {
  return p.default_value.is_set() ? p.default_value.to_text() : "unset";
}

// A value as a YAML flow scalar that the chain loader reads back as the same value: text
// plain where YAML allows it and no reader could take it for a number or a boolean, quoted
// otherwise ("#f80", "2x2", "© imgpipe").
std::string yaml_scalar(const Value& value) {
  if (!value.is_string()) return value.to_text();
  const std::string& text = value.as_string();
  static const std::set<std::string, std::less<>> yaml_words = {"y",   "n",    "yes",   "no",  "on",
                                                                "off", "true", "false", "null"};
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto plain_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  if (!text.empty() && std::isalpha(static_cast<unsigned char>(text[0])) &&
      std::all_of(text.begin(), text.end(), plain_char) && !yaml_words.contains(lower))
    return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

// One example as a step of a chain file, its parameters in the descriptor's order:
// "- resize: {width: 1200, height: 800}", "- auto_orient".
std::string example_step(const OpDescriptor& d, const std::map<std::string, Value, std::less<>>& example) {
  if (example.empty()) return "- " + d.name;
  std::vector<std::string> entries;
  for (const auto& spec : d.params)
    if (auto it = example.find(spec.name); it != example.end())
      entries.push_back(spec.name + ": " + yaml_scalar(it->second));
  for (const auto& [name, value] : example)  // not a parameter: left for validation to refuse
    if (!d.find_param(name)) entries.push_back(name + ": " + yaml_scalar(value));
  return fmt::format("- {}: {{{}}}", d.name, fmt::join(entries, ", "));
}

constexpr QualityPreset kPresets[] = {QualityPreset::ultra, QualityPreset::high, QualityPreset::balanced,
                                      QualityPreset::fast, QualityPreset::draft};

// {"ultra": "...", ...}; null for an operation the preset does not change.
nlohmann::json presets_json(const OpDescriptor& d) {
  if (d.presets.empty()) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  for (const QualityPreset q : kPresets) j[std::string(to_string(q))] = d.presets.at(q);
  return j;
}

// The table's rows; the operations the presets leave alone are named after it.
std::string presets_table(const std::vector<const OpDescriptor*>& selected) {
  std::ostringstream out;
  std::vector<std::string> unchanged;
  out << "| operation |";
  for (const QualityPreset q : kPresets) out << " " << to_string(q) << " |";
  out << "\n|---|---|---|---|---|---|\n";
  for (const OpDescriptor* d : selected) {
    if (d->presets.empty()) {
      unchanged.push_back(d->name);
      continue;
    }
    out << "| " << d->name << " |";
    for (const QualityPreset q : kPresets)
      out << " " << (d->presets.at(q).empty() ? "—" : d->presets.at(q)) << " |";
    out << "\n";
  }
  if (!unchanged.empty())
    out << fmt::format("\nNo effect (the same output at every preset): {}.\n", fmt::join(unchanged, ", "));
  return out.str();
}

}  // namespace

std::string describe_presets_markdown(const std::vector<const OpDescriptor*>& ops) {
  return presets_table(or_all(ops));
}

std::string describe_ops_text(const std::vector<const OpDescriptor*>& ops) {
  std::ostringstream out;
  const auto selected = or_all(ops);
  for (const OpDescriptor* d : selected) {
    out << fmt::format("{} ({}, {}): {}\n", d->name, d->family, to_string(d->footprint), d->summary);
    if (selected.size() > 1 && ops.empty()) continue;
    for (const auto& p : d->params)
      out << fmt::format("  {:<14} {:<40} default {}\n      {}\n", p.name, p.expected(), default_text(p),
                         p.doc);
    if (!d->presets.empty()) {
      out << "presets:\n";
      for (const QualityPreset q : kPresets)
        out << fmt::format("  {:<9} {}\n", to_string(q), d->presets.at(q).empty() ? "—" : d->presets.at(q));
    }
    out << "examples:\n";
    for (const auto& example : d->examples_or_defaults()) out << "  " << example_step(*d, example) << "\n";
  }
  if (ops.empty()) out << "\n'imgpipe ops NAME' shows an operation's parameters.\n";
  return out.str();
}

std::string describe_ops_json(const std::vector<const OpDescriptor*>& ops) {
  nlohmann::json all = nlohmann::json::array();
  for (const OpDescriptor* d : or_all(ops)) {
    nlohmann::json params = nlohmann::json::array();
    for (const auto& p : d->params) {
      nlohmann::json j = {{"name", p.name},
                          {"type", to_string(p.type)},
                          {"default", detail::to_json(p.default_value)},
                          {"doc", p.doc}};
      if (p.min != p.max) {
        j["min"] = p.min;
        j["max"] = p.max;
      }
      if (!p.choices.empty()) j["choices"] = p.choices;
      params.push_back(std::move(j));
    }
    nlohmann::json examples = nlohmann::json::array();
    for (const auto& example : d->examples_or_defaults()) {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& [name, value] : example) j[name] = detail::to_json(value);
      examples.push_back(std::move(j));
    }
    all.push_back({{"name", d->name},
                   {"family", d->family},
                   {"footprint", to_string(d->footprint)},
                   {"summary", d->summary},
                   {"params", params},
                   {"examples", examples},
                   {"presets", presets_json(*d)}});
  }
  return all.dump(2) + "\n";
}

std::string describe_ops_markdown(const std::vector<const OpDescriptor*>& ops) {
  std::ostringstream out;
  const auto selected = or_all(ops);
  if (ops.empty())
    out << "# Operations\n\n"
           "Generated by `imgpipe ops --markdown` from the operation registry; a test fails when this\n"
           "file is out of date. Regenerate it with `build/tools/imgpipe/imgpipe ops --markdown > "
           "docs/operations.md`.\n\n"
           "Footprints: *point* operations are fused into one pass; *neighbourhood* ones read a halo around\n"
           "each pixel; *geometry* ones move pixels; *global* ones need the whole image.\n\n"
           "| operation | family | footprint | summary |\n|---|---|---|---|\n";
  if (ops.empty())
    for (const OpDescriptor* d : selected)
      out << fmt::format("| [{0}](#{0}) | {1} | {2} | {3} |\n", d->name, d->family, to_string(d->footprint),
                         d->summary);
  if (ops.empty())
    out << "\n## Quality presets\n\n"
           "What each quality preset (`performance: {quality: …}`, `--preset`) sets for each operation; "
           "`imgpipe ops\n--presets` prints this table. docs/quality.md has the measured time and quality "
           "of each preset.\n\n"
        << presets_table(selected);
  for (const OpDescriptor* d : selected) {
    out << fmt::format("\n## {}\n\n{}\n\n", d->name, d->summary);
    if (d->params.empty()) {
      out << "No parameters.\n";
    } else {
      out << "| parameter | accepts | default | description |\n|---|---|---|---|\n";
      for (const auto& p : d->params)
        out << fmt::format("| `{}` | {} | `{}` | {} |\n", p.name, p.expected(), default_text(p), p.doc);
    }
    out << "\nExamples, each a step of a chain file:\n\n```yaml\n";
    for (const auto& example : d->examples_or_defaults()) out << example_step(*d, example) << "\n";
    out << "```\n";
  }
  return out.str();
}

}  // namespace imgpipe
