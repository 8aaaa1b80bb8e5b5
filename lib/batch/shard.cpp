// Sharding: which worker of a distributed batch this is, and which inputs are its own.

#include <fmt/format.h>
#include <xxhash.h>

#include <charconv>
#include <cstdlib>
#include <imgpipe/batch.hpp>
#include <string>

namespace imgpipe {

namespace {

using Getenv = std::function<const char*(const char*)>;

// The variable's value; an empty one counts as unset, as `export NAME=` in a job script means.
std::optional<std::string> variable(const Getenv& getenv, const char* name) {
  const char* value = getenv ? getenv(name) : std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

// A whole decimal number and nothing else (no '+', spaces or fraction) that fits in an int.
// Negative numbers parse, so that the range check can say what was received.
std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

[[noreturn]] void refuse(const std::string& message) {
  throw Error(ErrorCategory::config, message);
}

// A number from the environment; a malformed one is refused naming the variable.
std::optional<int> number(const Getenv& getenv, const char* name, const std::string& origin) {
  auto text = variable(getenv, name);
  if (!text) return std::nullopt;
  auto value = parse_int(*text);
  if (!value) refuse(fmt::format("{}: {}=\"{}\" is not a whole number", origin, name, *text));
  return value;
}

Shard checked(int index, int count, const std::string& origin, const std::string& received) {
  if (count < 1 || index < 0 || index >= count)
    refuse(fmt::format("{}: expected a shard index from 0 to count - 1 and a count of at least 1, got {}",
                       origin, received));
  return Shard{index, count, origin};
}

Shard from_flag(const std::string& flag) {
  const std::string origin = "--shard";
  auto slash = flag.find('/');
  std::optional<int> index, count;
  if (slash != std::string::npos) {
    index = parse_int(std::string_view(flag).substr(0, slash));
    count = parse_int(std::string_view(flag).substr(slash + 1));
  }
  if (!index || !count || *count < 1 || *index < 0 || *index >= *count)
    refuse(fmt::format(
        "--shard \"{}\": expected I/N with whole numbers 0 <= I < N (0/4, 1/4, 2/4 and 3/4 for four "
        "workers)",
        flag));
  return Shard{*index, *count, origin};
}

std::optional<Shard> from_cloud_run(const Getenv& getenv) {
  const std::string origin = "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT";
  auto index = number(getenv, "CLOUD_RUN_TASK_INDEX", origin);
  auto count = number(getenv, "CLOUD_RUN_TASK_COUNT", origin);
  if (!index && !count) return std::nullopt;
  if (!index || !count) refuse(fmt::format("{}: Cloud Run Jobs set both; only one is set", origin));
  return checked(*index, *count, origin,
                 fmt::format("CLOUD_RUN_TASK_INDEX={} and CLOUD_RUN_TASK_COUNT={}", *index, *count));
}

std::optional<Shard> from_kubernetes(std::optional<int> count, const Getenv& getenv) {
  auto index = number(getenv, "JOB_COMPLETION_INDEX", "JOB_COMPLETION_INDEX");
  if (!index) return std::nullopt;
  std::string origin = "JOB_COMPLETION_INDEX";
  if (!count) {
    origin = "JOB_COMPLETION_INDEX/IMGPIPE_SHARD_COUNT";
    count = number(getenv, "IMGPIPE_SHARD_COUNT", origin);
  }
  if (!count)
    refuse(
        fmt::format("JOB_COMPLETION_INDEX={} is set, but Kubernetes Indexed Jobs do not say how many workers "
                    "there are: set IMGPIPE_SHARD_COUNT to the job's completions, or pass --shard I/N",
                    *index));
  return checked(*index, *count, origin, fmt::format("index {} of {}", *index, *count));
}

// "1, 5, 9" or "1, 5, ..., 97".
std::string describe_ids(long long min, long long step, long long count) {
  auto id = [&](long long k) { return std::to_string(min + k * step); };
  if (count <= 4) {
    std::string ids = id(0);
    for (long long k = 1; k < count; ++k) ids += ", " + id(k);
    return ids;
  }
  return fmt::format("{}, {}, ..., {}", id(0), id(1), id(count - 1));
}

// Slurm array ids run MIN, MIN + STEP, ... (COUNT of them); the k-th id is shard k.
std::optional<Shard> from_slurm(const Getenv& getenv) {
  const std::string origin = "SLURM_ARRAY_TASK_ID";
  auto id = number(getenv, "SLURM_ARRAY_TASK_ID", origin);
  if (!id) return std::nullopt;
  auto min = number(getenv, "SLURM_ARRAY_TASK_MIN", origin);
  auto count = number(getenv, "SLURM_ARRAY_TASK_COUNT", origin);
  auto step = number(getenv, "SLURM_ARRAY_TASK_STEP", origin).value_or(1);
  if (!min || !count)
    refuse(fmt::format(
        "SLURM_ARRAY_TASK_ID={} is set without SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT, so "
        "the id cannot be mapped to a shard; pass --shard I/N",
        *id));
  if (step < 1 || *count < 1)
    refuse(fmt::format("{}: SLURM_ARRAY_TASK_STEP={} and SLURM_ARRAY_TASK_COUNT={} must be at least 1",
                       origin, step, *count));
  const long long offset = static_cast<long long>(*id) - *min;
  if (offset < 0 || offset % step != 0 || offset / step >= *count)
    refuse(
        fmt::format("SLURM_ARRAY_TASK_ID={} cannot be mapped to a shard: with SLURM_ARRAY_TASK_MIN={}, "
                    "SLURM_ARRAY_TASK_STEP={} and SLURM_ARRAY_TASK_COUNT={} the ids are {}; for an array of "
                    "other ids pass --shard I/N",
                    *id, *min, step, *count, describe_ids(*min, step, *count)));
  return Shard{static_cast<int>(offset / step), *count, origin};
}

}  // namespace

std::optional<Shard> resolve_shard(const std::optional<std::string>& flag, std::optional<int> count,
                                   const Getenv& getenv) {
  if (flag) return from_flag(*flag);
  if (auto shard = from_cloud_run(getenv)) return shard;
  if (auto shard = from_kubernetes(count, getenv)) return shard;
  return from_slurm(getenv);
}

bool in_shard(const Shard& shard, const std::filesystem::path& relpath) noexcept {
  if (shard.count <= 1) return true;
  try {
    const std::string key = relpath.generic_string();
    return XXH3_64bits(key.data(), key.size()) % static_cast<std::uint64_t>(shard.count) ==
           static_cast<std::uint64_t>(shard.index);
  } catch (...) {  // only allocation can fail; no shard takes what cannot be hashed
    return false;
  }
}

}  // namespace imgpipe
