#include <fmt/format.h>

#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/operation.hpp>

#include "builtin.hpp"

namespace imgpipe {

void Operation::apply_on(DeviceImage& image, const Context&) const {
  throw Error(ErrorCategory::internal,
              fmt::format("an operation without a {} path was asked to run there", to_string(image.device)));
}

std::string_view to_string(Footprint footprint) noexcept {
  switch (footprint) {
    case Footprint::point: return "point";
    case Footprint::neighbourhood: return "neighbourhood";
    case Footprint::geometry: return "geometry";
    case Footprint::global: return "global";
  }
  return "point";
}

const ParamSpec* OpDescriptor::find_param(std::string_view param) const {
  for (const auto& p : params)
    if (p.name == param) return &p;
  const std::string american = american_spelling(param);
  if (american != param)
    for (const auto& p : params)
      if (p.name == american) return &p;
  return nullptr;
}

std::vector<std::map<std::string, Value, std::less<>>> OpDescriptor::examples_or_defaults() const {
  if (examples.empty()) return {std::map<std::string, Value, std::less<>>{}};
  return examples;
}

Registry& Registry::global() {
  static Registry registry = [] {
    Registry r;
    ops::register_builtin(r);
    return r;
  }();
  return registry;
}

void Registry::add(OpDescriptor descriptor) {
  if (ops_.count(descriptor.name))
    throw Error(ErrorCategory::config, fmt::format("operation '{}' is already registered", descriptor.name));
  std::string name = descriptor.name;
  ops_.emplace(std::move(name), std::move(descriptor));
}

const OpDescriptor* Registry::find(std::string_view name) const {
  auto it = ops_.find(name);
  if (it == ops_.end()) it = ops_.find(american_spelling(name));
  return it == ops_.end() ? nullptr : &it->second;
}

const OpDescriptor& Registry::at(std::string_view name) const {
  if (const auto* d = find(name)) return *d;
  std::string message = fmt::format("unknown operation '{}'", name);
  if (auto near = closest_name(name, names())) message += fmt::format(" (did you mean '{}'?)", *near);
  message += fmt::format("; available: {}", fmt::join(names(), ", "));
  throw Error(ErrorCategory::config, message);
}

std::vector<std::string> Registry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : ops_) out.push_back(name);
  return out;
}

Params validate_params(const OpDescriptor& descriptor,
                       const std::map<std::string, Value, std::less<>>& given) {
  std::map<std::string, Value, std::less<>> values;
  std::vector<std::string> allowed;
  for (const auto& spec : descriptor.params) allowed.push_back(spec.name);
  for (const auto& [name, value] : given) {
    const ParamSpec* spec = descriptor.find_param(name);
    if (!spec) {
      std::string message = fmt::format("{}: unknown parameter '{}'", descriptor.name, name);
      if (auto near = closest_name(name, allowed)) message += fmt::format(" (did you mean '{}'?)", *near);
      message += allowed.empty() ? "; it takes no parameters"
                                 : fmt::format("; allowed: {}", fmt::join(allowed, ", "));
      throw Error(ErrorCategory::config, message);
    }
    auto checked = spec->check(value);
    if (auto* why = std::get_if<std::string>(&checked))
      throw Error(ErrorCategory::config, fmt::format("{}.{}: {}", descriptor.name, name, *why));
    if (values.count(spec->name))  // "color" and its alias "colour" both given
      throw Error(ErrorCategory::config, fmt::format("{}: parameter '{}' given twice (also as '{}')",
                                                     descriptor.name, spec->name, name));
    values[spec->name] = std::get<Value>(checked);
  }
  for (const auto& spec : descriptor.params)
    if (!values.count(spec.name)) values[spec.name] = spec.default_value;
  Params params(std::move(values));
  if (descriptor.check) {
    std::string why = descriptor.check(params);
    if (!why.empty()) throw Error(ErrorCategory::config, fmt::format("{}: {}", descriptor.name, why));
  }
  return params;
}

}  // namespace imgpipe
