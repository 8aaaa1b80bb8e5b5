#include <fmt/format.h>

#include <array>
#include <cmath>
#include <imgpipe/context.hpp>
#include <imgpipe/version.hpp>
#include <utility>

namespace imgpipe {

namespace {
constexpr std::array<std::pair<QualityPreset, std::string_view>, 5> kPresets{{
    {QualityPreset::ultra, "ultra"},
    {QualityPreset::high, "high"},
    {QualityPreset::balanced, "balanced"},
    {QualityPreset::fast, "fast"},
    {QualityPreset::draft, "draft"},
}};
constexpr std::array<std::pair<Device, std::string_view>, 4> kDevices{{
    {Device::automatic, "auto"},
    {Device::cpu, "cpu"},
    {Device::opencl, "opencl"},
    {Device::cuda, "cuda"},
}};

template <typename Table, typename Key>
auto name_of(const Table& table, Key key) {
  for (const auto& [k, name] : table)
    if (k == key) return name;
  return table.front().second;
}

template <typename Table>
auto key_of(const Table& table, std::string_view text)
    -> std::optional<typename Table::value_type::first_type> {
  for (const auto& [k, name] : table)
    if (name == text) return k;
  return std::nullopt;
}
}  // namespace

std::string_view to_string(QualityPreset preset) noexcept {
  return name_of(kPresets, preset);
}
std::string_view to_string(Device device) noexcept {
  return name_of(kDevices, device);
}
std::optional<QualityPreset> parse_quality_preset(std::string_view text) noexcept {
  return key_of(kPresets, text);
}
std::optional<Device> parse_device(std::string_view text) noexcept {
  return key_of(kDevices, text);
}

std::optional<double> AnalysisReport::value(std::string_view name) const {
  for (const auto& [key, v] : values)
    if (key == name) return v;
  return std::nullopt;
}

std::string AnalysisReport::describe() const {
  std::string line = fmt::format("step {}: {}: {}", step, operation, strategy);
  if (strategy != "direct") line += fmt::format(" {}x{}", analysed_width, analysed_height);
  if (!summary.empty()) line += ", " + summary;
  const char* separator = "; ";
  for (const auto& [key, v] : values) {
    line += v == std::round(v) ? fmt::format("{}{} {}", separator, key, v)
                               : fmt::format("{}{} {:.2f}", separator, key, v);
    separator = ", ";
  }
  return line;
}

const char* version() noexcept {
  return IMGPIPE_VERSION_STRING;
}

}  // namespace imgpipe
