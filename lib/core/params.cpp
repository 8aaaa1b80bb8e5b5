#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <imgpipe/error.hpp>
#include <imgpipe/params.hpp>
#include <optional>
#include <string_view>

namespace imgpipe {

namespace {

struct NamedColour {
  std::string_view name;
  Colour colour;
};
constexpr std::array<NamedColour, 17> kNamedColours{{
    {"black", {0, 0, 0, 255}},
    {"white", {255, 255, 255, 255}},
    {"red", {255, 0, 0, 255}},
    {"green", {0, 128, 0, 255}},
    {"lime", {0, 255, 0, 255}},
    {"blue", {0, 0, 255, 255}},
    {"yellow", {255, 255, 0, 255}},
    {"cyan", {0, 255, 255, 255}},
    {"magenta", {255, 0, 255, 255}},
    {"gray", {128, 128, 128, 255}},
    {"grey", {128, 128, 128, 255}},
    {"silver", {192, 192, 192, 255}},
    {"maroon", {128, 0, 0, 255}},
    {"navy", {0, 0, 128, 255}},
    {"orange", {255, 165, 0, 255}},
    {"purple", {128, 0, 128, 255}},
    {"transparent", {0, 0, 0, 0}},
}};

int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::optional<Colour> parse_hex(std::string_view hex) noexcept {
  std::array<int, 8> d{};
  if (hex.size() != 3 && hex.size() != 4 && hex.size() != 6 && hex.size() != 8) return std::nullopt;
  for (std::size_t i = 0; i < hex.size(); ++i)
    if ((d[i] = hex_digit(hex[i])) < 0) return std::nullopt;
  auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(d[i] * 16 + d[i + 1]); };
  auto nibble = [&](std::size_t i) { return static_cast<std::uint8_t>(d[i] * 17); };
  if (hex.size() <= 4)
    return Colour{nibble(0), nibble(1), nibble(2), hex.size() == 4 ? nibble(3) : std::uint8_t{255}};
  return Colour{byte(0), byte(2), byte(4), hex.size() == 8 ? byte(6) : std::uint8_t{255}};
}

// "rgb(1, 2, 3)" / "rgba(1, 2, 3, 0.5)"
std::optional<Colour> parse_functional(std::string_view text) noexcept {
  bool with_alpha = text.starts_with("rgba(");
  if (!with_alpha && !text.starts_with("rgb(")) return std::nullopt;
  if (!text.ends_with(")")) return std::nullopt;
  std::string_view body = text.substr(with_alpha ? 5 : 4);
  body.remove_suffix(1);
  std::array<double, 4> v{0, 0, 0, 1};
  std::size_t n = 0;
  while (!body.empty()) {
    while (!body.empty() && (body.front() == ' ' || body.front() == ',')) body.remove_prefix(1);
    if (body.empty()) break;
    if (n == 4) return std::nullopt;
    auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), v[n]);
    if (ec != std::errc()) return std::nullopt;
    body.remove_prefix(static_cast<std::size_t>(ptr - body.data()));
    ++n;
  }
  if (n != (with_alpha ? 4u : 3u)) return std::nullopt;
  for (int i = 0; i < 3; ++i)
    if (v[i] < 0 || v[i] > 255) return std::nullopt;
  if (v[3] < 0 || v[3] > 1) return std::nullopt;
  auto u8 = [](double x) { return static_cast<std::uint8_t>(std::lround(x)); };
  return Colour{u8(v[0]), u8(v[1]), u8(v[2]), u8(v[3] * 255)};
}

std::string format_number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

}  // namespace

std::optional<Colour> parse_colour(std::string_view text) noexcept {
  if (text.starts_with("#")) return parse_hex(text.substr(1));
  if (auto c = parse_functional(text)) return c;
  for (const auto& named : kNamedColours)
    if (named.name == text) return named.colour;
  return std::nullopt;
}

std::string to_hex(const Colour& c) {
  return fmt::format("#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a);
}

std::string_view to_string(ParamType type) noexcept {
  switch (type) {
    case ParamType::boolean: return "boolean";
    case ParamType::integer: return "integer";
    case ParamType::number: return "number";
    case ParamType::text: return "text";
    case ParamType::choice: return "choice";
    case ParamType::colour: return "colour";
    case ParamType::path: return "path";
  }
  return "text";
}

std::string Value::to_text() const {
  if (!is_set()) return "unset";
  if (is_bool()) return as_bool() ? "true" : "false";
  if (is_int()) return fmt::format("{}", as_int());
  if (is_number()) return format_number(as_number());
  if (is_colour()) return fmt::format("\"{}\"", to_hex(as_colour()));
  return fmt::format("\"{}\"", as_string());
}

std::string ParamSpec::expected() const {
  bool ranged = min != max;
  switch (type) {
    case ParamType::boolean: return "true or false";
    case ParamType::integer: {
      std::string text =
          ranged ? fmt::format("integer {}..{}", format_number(min), format_number(max)) : "integer";
      return choices.empty() ? text : fmt::format("{} or {} (0)", text, fmt::join(choices, ", "));
    }
    case ParamType::number:
      return ranged ? fmt::format("number {}..{}", format_number(min), format_number(max)) : "number";
    case ParamType::text: return "text";
    case ParamType::choice: return fmt::format("one of {}", fmt::join(choices, ", "));
    case ParamType::colour: return "colour (#rgb, #rrggbb, #rrggbbaa, rgb(), rgba() or a name)";
    case ParamType::path:
      return choices.empty() ? "the path of a file"
                             : fmt::format("the path of a file or one of {}", fmt::join(choices, ", "));
  }
  return "value";
}

bool ParamSpec::names_file(const Value& value) const {
  return type == ParamType::path && value.is_string() && !value.as_string().empty() &&
         std::find(choices.begin(), choices.end(), value.as_string()) == choices.end();
}

namespace {

// The offset of the first byte that is not part of well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF), or nullopt.
std::optional<std::size_t> invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the second byte's range
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > n || s[i + 1] < low || s[i + 1] > high) return i;
    for (std::size_t k = 2; k < length; ++k)
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return i;
    i += length;
  }
  return std::nullopt;
}

}  // namespace

std::variant<Value, std::string> ParamSpec::check(const Value& given) const {
  if (given.is_string())
    if (auto at = invalid_utf8(given.as_string()))
      return fmt::format("expected UTF-8 text; byte {} (0x{:02x}) is not", *at + 1,
                         static_cast<unsigned char>(given.as_string()[*at]));
  auto refuse = [&] { return fmt::format("expected {}, got {}", expected(), given.to_text()); };
  bool ranged = min != max;
  switch (type) {
    case ParamType::boolean:
      if (!given.is_bool()) return refuse();
      return given;
    case ParamType::integer:
      if (given.is_string() && std::find(choices.begin(), choices.end(), given.as_string()) != choices.end())
        return Value(std::int64_t{0});
      if (!given.is_int()) return refuse();
      if (ranged && (static_cast<double>(given.as_int()) < min || static_cast<double>(given.as_int()) > max))
        return refuse();
      return given;
    case ParamType::number: {
      if (!given.is_number()) return refuse();
      double v = given.as_number();
      if (!std::isfinite(v) || (ranged && (v < min || v > max))) return refuse();
      return Value(v);
    }
    case ParamType::text:
      if (!given.is_string()) return refuse();
      return given;
    case ParamType::path:
      if (!given.is_string() || given.as_string().find('\0') != std::string::npos) return refuse();
      return given;
    case ParamType::choice: {
      if (!given.is_string()) return refuse();
      auto chosen = [&](const std::string& text) {
        return std::find(choices.begin(), choices.end(), text) != choices.end();
      };
      if (chosen(given.as_string())) return given;
      if (std::string american = american_spelling(given.as_string()); chosen(american))
        return Value(std::move(american));  // "centre" is "center"
      std::string message = refuse();
      if (auto near = closest_name(given.as_string(), choices))
        message += fmt::format(" (did you mean \"{}\"?)", *near);
      return message;
    }
    case ParamType::colour:
      if (given.is_colour()) return given;
      if (given.is_string())
        if (auto c = parse_colour(given.as_string())) return Value(*c);
      return refuse();
  }
  return refuse();
}

const Value& Params::get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw Error(ErrorCategory::internal, fmt::format("no parameter named '{}'", name));
  return it->second;
}

std::optional<std::int64_t> Params::optional_integer(std::string_view name) const {
  const Value& v = get(name);
  return v.is_set() ? std::optional(v.as_int()) : std::nullopt;
}

std::optional<double> Params::optional_number(std::string_view name) const {
  const Value& v = get(name);
  return v.is_set() ? std::optional(v.as_number()) : std::nullopt;
}

std::string american_spelling(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
      {"colour", "color"}, {"centre", "center"}, {"grey", "gray"}};
  std::string out(name);
  for (const auto& [british, american] : kWords)
    for (auto at = out.find(british); at != std::string::npos; at = out.find(british, at + american.size()))
      out.replace(at, british.size(), american);
  return out;
}

std::optional<std::string> closest_name(std::string_view given, const std::vector<std::string>& candidates) {
  auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        std::size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, given.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = distance(given, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

Value value_from_text(std::string_view text, ParamType type) {
  if (type == ParamType::boolean) {
    std::string lower(text);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "yes" || lower == "on") return Value(true);
    if (lower == "false" || lower == "no" || lower == "off") return Value(false);
  }
  if (type == ParamType::integer || type == ParamType::number) {
    const char* first = text.data();
    const char* last = first + text.size();
    std::int64_t i = 0;
    if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc() && p == last) return Value(i);
    double d = 0;
    if (auto [p, ec] = std::from_chars(first, last, d); ec == std::errc() && p == last) return Value(d);
  }
  return Value(std::string(text));
}

}  // namespace imgpipe
