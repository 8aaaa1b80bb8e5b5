#pragma once
/// \file
/// Typed operation parameters. Every operation declares its parameters as ParamSpecs; the
/// specs are the single source for validation, YAML parsing, `imgpipe ops` and the docs.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace imgpipe {

/// An 8-bit sRGB colour with alpha.
struct Colour {
  /// Red, green, blue and alpha, 0..255; alpha 255 is opaque.
  ///@{
  std::uint8_t r = 0, g = 0, b = 0, a = 255;
  ///@}
  /// Equal when all four components are.
  bool operator==(const Colour&) const = default;
};

/// Parses "#rgb", "#rrggbb", "#rrggbbaa", "rgb(r,g,b)", "rgba(r,g,b,a)" (a 0..1) or a CSS
/// basic colour name ("white", "black", "transparent", ...). nullopt when it is none of them.
std::optional<Colour> parse_colour(std::string_view text) noexcept;
/// The colour as `"#rrggbbaa"`, lowercase.
std::string to_hex(const Colour& colour);

/// `path` is text that names a file the step reads (a palette file, a watermark image, a mask,
/// a model); `choices` then lists words that are not paths ("alpha", "none"). The chain checks
/// every path against its FileAccess before the step is built (include/imgpipe/chain.hpp).
enum class ParamType { boolean, integer, number, text, choice, colour, path };
/// The type's name: "boolean", "integer", "number", "text", "choice", "colour", "path".
std::string_view to_string(ParamType type) noexcept;

class Value;

/// Text (a YAML scalar, an environment variable, a command-line flag) as the natural Value for
/// a type: numbers for numeric types, YAML's words (true/yes/on, false/no/off) for booleans,
/// text otherwise. The parameter's own check then says whether it fits.
Value value_from_text(std::string_view text, ParamType type);

/// A parameter value as given (from C++ or YAML) or as stored after validation.
class Value {
 public:
  Value() = default;  ///< unset
  /// A value holding `v`: integers are held as std::int64_t, text as std::string.
  ///@{
  Value(bool v) : v_(v) {}
  Value(int v) : v_(std::int64_t{v}) {}
  Value(std::int64_t v) : v_(v) {}
  Value(double v) : v_(v) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(std::string v) : v_(std::move(v)) {}
  Value(Colour v) : v_(v) {}
  ///@}

  /// Whether it holds a value (a default-constructed Value does not).
  bool is_set() const noexcept { return !std::holds_alternative<std::monostate>(v_); }
  /// Whether it holds a boolean.
  bool is_bool() const noexcept { return std::holds_alternative<bool>(v_); }
  /// Whether it holds an integer.
  bool is_int() const noexcept { return std::holds_alternative<std::int64_t>(v_); }
  /// Whether it holds a number: an integer or a floating-point value.
  bool is_number() const noexcept { return is_int() || std::holds_alternative<double>(v_); }
  /// Whether it holds text.
  bool is_string() const noexcept { return std::holds_alternative<std::string>(v_); }
  /// Whether it holds a colour.
  bool is_colour() const noexcept { return std::holds_alternative<Colour>(v_); }

  /// The value held, which must be of that type (else std::bad_variant_access is thrown);
  /// as_number() takes an integer too.
  ///@{
  bool as_bool() const { return std::get<bool>(v_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(v_); }
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  Colour as_colour() const { return std::get<Colour>(v_); }
  ///@}

  /// How the value reads in messages, docs and canonical chains: 12, 1.5, true, "inside",
  /// "#ff0000ff"; "unset" when unset.
  std::string to_text() const;
  /// Equal when both hold the same type and value, or both are unset.
  bool operator==(const Value&) const = default;

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, Colour> v_;
};

/// One parameter an operation declares: its name, type, default, range and description.
struct ParamSpec {
  std::string name;                    ///< the name chains use: "width", "fit"
  ParamType type = ParamType::number;  ///< what values it takes
  Value default_value;                 ///< unset = optional parameter with no default
  /// Inclusive range for integer and number; ignored when min == max.
  ///@{
  double min = 0, max = 0;
  ///@}
  /// For choice, the choices; for path, the words that are not paths; for integer, the words
  /// that stand for 0 ("auto": `k: auto` is `k: 0`).
  std::vector<std::string> choices;
  std::string doc;  ///< what it does, for `imgpipe ops` and docs/operations.md

  /// Converts and checks a value given for this parameter. Integers are accepted for numbers;
  /// colours may be given as text. Returns the value to store, or the reason it is refused
  /// ("expected integer 1..65535, got 0").
  std::variant<Value, std::string> check(const Value& given) const;
  /// "integer 1..65535", "one of inside, cover, fill, exact", "colour (#rrggbb[aa] or a name)"
  std::string expected() const;
  /// A path parameter's value that names a file (not unset, empty or one of its words).
  bool names_file(const Value& value) const;
};

/// Validated parameters of one step: every declared parameter is present (possibly unset).
class Params {
 public:
  /// No parameters.
  Params() = default;
  /// The given values by parameter name, as validate_params() makes them.
  explicit Params(std::map<std::string, Value, std::less<>> values) : values_(std::move(values)) {}

  /// The value of parameter `name`; Error(internal) when there is no such parameter.
  const Value& get(std::string_view name) const;
  /// Whether parameter `name` is set.
  bool has(std::string_view name) const { return get(name).is_set(); }
  /// The value of parameter `name` as its type (get() and Value's `as_` accessors).
  ///@{
  bool boolean(std::string_view name) const { return get(name).as_bool(); }
  std::int64_t integer(std::string_view name) const { return get(name).as_int(); }
  double number(std::string_view name) const { return get(name).as_number(); }
  const std::string& text(std::string_view name) const { return get(name).as_string(); }
  Colour colour(std::string_view name) const { return get(name).as_colour(); }
  ///@}
  /// The value of an optional parameter; nullopt when it is unset.
  ///@{
  std::optional<std::int64_t> optional_integer(std::string_view name) const;
  std::optional<double> optional_number(std::string_view name) const;
  ///@}

  /// Every parameter's value, by name.
  const std::map<std::string, Value, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, Value, std::less<>> values_;
};

/// Levenshtein-closest candidate within a sensible distance, for "did you mean" hints.
std::optional<std::string> closest_name(std::string_view given, const std::vector<std::string>& candidates);

/// Names are spelled the American way (color, center, gray); each British spelling (colour,
/// centre, grey) is an alias wherever an operation, parameter or choice is named. This gives
/// the name with every British spelling replaced, for lookups that missed.
std::string american_spelling(std::string_view name);

}  // namespace imgpipe
