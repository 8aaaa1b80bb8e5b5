#include "operation_flags.hpp"

#include <algorithm>

namespace imgpipe::cli {

ChainFile command_file(std::string source, const std::string& preset) {
  ChainFile file;
  file.source = std::move(source);
  apply_environment(file);
  if (!preset.empty()) apply_setting(file, "performance.quality", preset, "--preset");
  return file;
}

OperationFlags::OperationFlags(CLI::App& command, const OpDescriptor& descriptor,
                               const std::set<std::string>& leave_out)
    : descriptor_(descriptor) {
  for (const ParamSpec& spec : descriptor.params) {
    if (leave_out.count(spec.name)) continue;
    std::string flag = "--" + spec.name;
    std::replace(flag.begin(), flag.end(), '_', '-');
    std::string help = spec.doc + " (" + spec.expected();
    if (spec.default_value.is_set() && spec.type != ParamType::boolean)
      help += "; default " + spec.default_value.to_text();
    help += ")";
    options_[spec.name] = spec.type == ParamType::boolean
                              ? command.add_flag(flag, switches_[spec.name], help)
                              : command.add_option(flag, text_[spec.name], help)->type_name(spec.expected());
  }
}

Params OperationFlags::params(const std::map<std::string, Value, std::less<>>& overrides) const {
  std::map<std::string, Value, std::less<>> given;
  for (const auto& [name, option] : options_) {
    if (option->count() == 0) continue;
    const ParamSpec* spec = descriptor_.find_param(name);
    given[name] = spec->type == ParamType::boolean ? Value(switches_.at(name))
                                                   : value_from_text(text_.at(name), spec->type);
  }
  for (const auto& [name, value] : overrides) {
    if (value.is_set())
      given[name] = value;
    else
      given.erase(name);
  }
  return validate_params(descriptor_, given);
}

}  // namespace imgpipe::cli
