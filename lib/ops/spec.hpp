#pragma once
// Short constructors for parameter specs, so each descriptor reads as one line a parameter.

#include <imgpipe/params.hpp>
#include <string>
#include <utility>
#include <vector>

namespace imgpipe::ops::spec {

inline ParamSpec integer(std::string name, Value fallback, double min, double max, std::string doc) {
  return {std::move(name), ParamType::integer, std::move(fallback), min, max, {}, std::move(doc)};
}
// An integer whose 0 means "choose from the image", also written `auto` (stored as 0).
inline ParamSpec integer_or_auto(std::string name, Value fallback, double min, double max, std::string doc) {
  return {std::move(name), ParamType::integer, std::move(fallback), min, max, {"auto"}, std::move(doc)};
}
inline ParamSpec number(std::string name, Value fallback, double min, double max, std::string doc) {
  return {std::move(name), ParamType::number, std::move(fallback), min, max, {}, std::move(doc)};
}
inline ParamSpec boolean(std::string name, bool fallback, std::string doc) {
  return {std::move(name), ParamType::boolean, Value(fallback), 0, 0, {}, std::move(doc)};
}
inline ParamSpec choice(std::string name, std::string fallback, std::vector<std::string> choices,
                        std::string doc) {
  return {std::move(name),    ParamType::choice, Value(std::move(fallback)), 0, 0,
          std::move(choices), std::move(doc)};
}
inline ParamSpec colour(std::string name, Value fallback, std::string doc) {
  if (fallback.is_string()) fallback = Value(*parse_colour(fallback.as_string()));
  return {std::move(name), ParamType::colour, std::move(fallback), 0, 0, {}, std::move(doc)};
}
inline ParamSpec text(std::string name, Value fallback, std::string doc) {
  return {std::move(name), ParamType::text, std::move(fallback), 0, 0, {}, std::move(doc)};
}

// A file the step reads; `words` are values that are not paths (checked by the chain's
// FileAccess only when the value is none of them).
inline ParamSpec path(std::string name, Value fallback, std::string doc,
                      std::vector<std::string> words = {}) {
  return {std::move(name), ParamType::path, std::move(fallback), 0, 0, std::move(words), std::move(doc)};
}

}  // namespace imgpipe::ops::spec
