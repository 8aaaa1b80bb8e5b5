#pragma once
// A parameter value as a JSON value (true, 12, 1.5, "inside", "#ff0000ff"; null when unset),
// for machine-readable descriptions and canonical chains.
#include <imgpipe/params.hpp>
#include <nlohmann/json.hpp>

namespace imgpipe::detail {

inline nlohmann::json to_json(const Value& v) {
  if (!v.is_set()) return nullptr;
  if (v.is_bool()) return v.as_bool();
  if (v.is_int()) return v.as_int();
  if (v.is_number()) return v.as_number();
  if (v.is_colour()) return to_hex(v.as_colour());
  return v.as_string();
}

}  // namespace imgpipe::detail
