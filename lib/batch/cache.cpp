// The result cache: finished outputs on disk, keyed by everything that determines them.
//
// Layout: <dir>/<first two hex digits of the key>/<key>.entry. An entry is one line of JSON
// ({"version":1,"outputs":[{"variant":..,"size":N,"xxh3":"<16 hex>"},..]}), a newline, and
// the outputs' bytes one after another. Entries are written whole with write_file_atomic, so
// processes sharing the folder only ever see complete entries; the per-output hashes catch
// everything else (a disk error, a hand-edited file), and a damaged entry is a miss.

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <imgpipe/batch.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/version.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>

namespace imgpipe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kEntryVersion = 2;  // 2: the header holds the entry's key
constexpr std::string_view kEntrySuffix = ".entry";
constexpr std::size_t kKeyDigits = 32;
// Eviction goes below the cap by this fraction so that the next few puts do not each pay
// for a directory scan.
constexpr double kEvictTarget = 0.9;

bool is_lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_key(std::string_view key) {
  return key.size() == kKeyDigits && is_lower_hex(key);
}

// Keys come from ResultCache::key(); anything else would name a path outside the layout.
void check_key(const std::string& key) {
  if (!is_key(key))
    throw Error(ErrorCategory::internal,
                fmt::format("result cache: '{}' is not a cache key (expected {} lowercase hex digits)", key,
                            kKeyDigits));
}

fs::path entry_path(const fs::path& dir, const std::string& key) {
  return dir / key.substr(0, 2) / (key + std::string(kEntrySuffix));
}

std::string hash64_hex(std::span<const std::uint8_t> bytes) {
  return fmt::format("{:016x}", XXH3_64bits(bytes.data(), bytes.size()));
}

// ---- Reading an entry ---------------------------------------------------------------------

// The whole file through one descriptor: once open, the bytes stay readable even when
// another process evicts or replaces the entry meanwhile.
struct OpenEntry {
  int fd = -1;
  std::vector<std::uint8_t> bytes;
  struct stat status {};
  ~OpenEntry() {
    if (fd >= 0) ::close(fd);
  }
};

// False when the file is absent or cannot be read whole: either way a miss.
bool read_entry(const fs::path& path, OpenEntry& entry) {
  entry.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (entry.fd < 0) return false;
  if (::fstat(entry.fd, &entry.status) != 0 || !S_ISREG(entry.status.st_mode)) return false;
  entry.bytes.resize(static_cast<std::size_t>(entry.status.st_size));
  std::size_t done = 0;
  while (done < entry.bytes.size()) {
    ssize_t got = ::read(entry.fd, entry.bytes.data() + done, entry.bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    done += static_cast<std::size_t>(got);
  }
  return true;
}

// The outputs an entry holds, or nullopt when its header or bytes do not check out — among
// them an entry whose header names another key (a whole, valid entry copied over this one).
std::optional<std::vector<CachedOutput>> parse_entry(std::span<const std::uint8_t> bytes,
                                                     const std::string& key) {
  const auto newline = std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'});
  if (newline == bytes.end()) return std::nullopt;
  const json header = json::parse(bytes.begin(), newline, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || header.value("version", json()) != kEntryVersion) return std::nullopt;
  if (header.value("key", json()) != key) return std::nullopt;
  const auto outputs_it = header.find("outputs");
  if (outputs_it == header.end() || !outputs_it->is_array()) return std::nullopt;

  std::span<const std::uint8_t> payload(newline + 1, bytes.end());
  std::vector<CachedOutput> outputs;
  for (const json& item : *outputs_it) {
    if (!item.is_object()) return std::nullopt;
    const auto variant = item.find("variant"), size = item.find("size"), hash = item.find("xxh3");
    if (variant == item.end() || !variant->is_string() || size == item.end() || !size->is_number_unsigned() ||
        hash == item.end() || !hash->is_string())
      return std::nullopt;
    const auto length = size->get<std::uint64_t>();
    if (length > payload.size()) return std::nullopt;
    const auto part = payload.first(static_cast<std::size_t>(length));
    if (hash64_hex(part) != hash->get<std::string>()) return std::nullopt;
    outputs.push_back(CachedOutput{variant->get<std::string>(), {part.begin(), part.end()}});
    payload = payload.subspan(part.size());
  }
  if (!payload.empty()) return std::nullopt;  // bytes no header accounts for
  return outputs;
}

// Removes a damaged entry, unless another process has replaced it with a new file since we
// opened it: that one is probably whole.
void remove_if_same_file(const fs::path& path, const struct stat& opened) {
  struct stat now {};
  if (::stat(path.c_str(), &now) == 0 && now.st_dev == opened.st_dev && now.st_ino == opened.st_ino)
    ::unlink(path.c_str());
}

// ---- Writing an entry ---------------------------------------------------------------------

std::vector<std::uint8_t> serialise_entry(const std::string& key, const std::vector<CachedOutput>& outputs) {
  json items = json::array();
  std::size_t payload_size = 0;
  for (const auto& output : outputs) {
    items.push_back(
        {{"variant", output.variant}, {"size", output.bytes.size()}, {"xxh3", hash64_hex(output.bytes)}});
    payload_size += output.bytes.size();
  }
  // dump() without indentation escapes control characters, so the header is one line.
  std::string header;
  try {
    header = json{{"version", kEntryVersion}, {"key", key}, {"outputs", std::move(items)}}.dump() + '\n';
  } catch (const json::exception&) {
    throw Error(ErrorCategory::config, "result cache: a variant name is not valid UTF-8");
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(header.size() + payload_size);
  bytes.insert(bytes.end(), header.begin(), header.end());
  for (const auto& output : outputs) bytes.insert(bytes.end(), output.bytes.begin(), output.bytes.end());
  return bytes;
}

// ---- Size accounting ----------------------------------------------------------------------

struct EntryFile {
  fs::path path;
  fs::file_time_type used;  // mtime: written or last hit
  std::uint64_t size = 0;
};

// Every entry in the folder. Only files of the cache's own layout count: temporary files of
// write_file_atomic (names starting with '.') and anything else someone put there are
// neither counted nor deleted. Files vanishing during the scan (other processes evict too)
// are skipped.
std::vector<EntryFile> scan_entries(const fs::path& dir) {
  std::vector<EntryFile> entries;
  std::error_code ec;
  for (fs::directory_iterator shards(dir, ec), end; !ec && shards != end; shards.increment(ec)) {
    const std::string shard = shards->path().filename().string();
    if (shard.size() != 2 || !is_lower_hex(shard) || !shards->is_directory(ec)) continue;
    std::error_code shard_ec;
    for (fs::directory_iterator files(shards->path(), shard_ec); !shard_ec && files != end;
         files.increment(shard_ec)) {
      const std::string name = files->path().filename().string();
      if (name.size() != kKeyDigits + kEntrySuffix.size() || !name.ends_with(kEntrySuffix) ||
          !is_key(std::string_view(name).substr(0, kKeyDigits)) || !name.starts_with(shard))
        continue;
      std::error_code file_ec;
      const auto size = files->file_size(file_ec);
      if (file_ec) continue;
      const auto used = files->last_write_time(file_ec);
      if (file_ec) continue;
      entries.push_back(EntryFile{files->path(), used, size});
    }
  }
  return entries;
}

// Removes least recently used entries until at most `target` bytes remain; gives what remains.
std::uint64_t evict_oldest(std::vector<EntryFile> entries, std::uint64_t total, std::uint64_t target) {
  std::sort(entries.begin(), entries.end(), [](const EntryFile& a, const EntryFile& b) {
    return a.used != b.used ? a.used < b.used : a.path < b.path;
  });
  for (const auto& entry : entries) {
    if (total <= target) break;
    // A reader holding the file open keeps its bytes; a file already gone was evicted by
    // another process. Either way its size no longer counts.
    std::error_code ec;
    fs::remove(entry.path, ec);
    total -= entry.size;
  }
  return total;
}

// Bytes in each cache folder as this process last knew them, shared by every ResultCache
// on that folder (the batch puts from several threads). Set by a scan at the first put and
// kept up to date by our own puts. Other processes' entries only show in a scan, so the
// folder is rescanned when the total passes the cap and also once this process has written
// a tenth of the cap since the last scan: otherwise a process that mostly replaces entries
// others wrote would never notice the folder outgrowing its cap.
class FolderUsage {
 public:
  static FolderUsage& instance() {
    static FolderUsage usage;
    return usage;
  }

  // Counts a put of `written` bytes that replaced `replaced` bytes. A folder not scanned yet
  // is counted whole by its first scan, this put included.
  void add(const fs::path& dir, std::uint64_t written, std::uint64_t replaced) {
    std::lock_guard lock(mutex_);
    auto it = folders_.find(folder_key(dir));
    if (it == folders_.end()) return;
    Usage& usage = it->second;
    usage.total = usage.total + written > replaced ? usage.total + written - replaced : 0;
    usage.written_since_scan += written;
  }

  void evict_if_needed(const fs::path& dir, std::uint64_t max_bytes) {
    std::lock_guard lock(mutex_);
    const std::string key = folder_key(dir);
    auto it = folders_.find(key);
    if (it != folders_.end() && it->second.total <= max_bytes &&
        it->second.written_since_scan < max_bytes / kRescanFraction)
      return;
    auto entries = scan_entries(dir);
    std::uint64_t total = 0;
    for (const auto& entry : entries) total += entry.size;
    if (total > max_bytes)
      total = evict_oldest(std::move(entries), total,
                           static_cast<std::uint64_t>(static_cast<double>(max_bytes) * kEvictTarget));
    folders_[key] = Usage{total, 0};
  }

 private:
  static constexpr std::uint64_t kRescanFraction = 10;

  struct Usage {
    std::uint64_t total = 0;
    std::uint64_t written_since_scan = 0;
  };

  static std::string folder_key(const fs::path& dir) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(dir, ec);
    return (ec ? dir : absolute).lexically_normal().string();
  }

  std::mutex mutex_;
  std::map<std::string, Usage> folders_;
};

std::uint64_t existing_size(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

void hash_field(XXH3_state_t* state, std::span<const std::uint8_t> bytes) {
  // The length first, as 8 little-endian bytes on every machine: fields cannot shift into
  // each other ("ab" + "c" differs from "a" + "bc").
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(bytes.size()) >> (8 * i));
  XXH3_128bits_update(state, length, sizeof length);
  XXH3_128bits_update(state, bytes.data(), bytes.size());
}

void hash_field(XXH3_state_t* state, std::string_view text) {
  hash_field(state, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

ResultCache::ResultCache(std::filesystem::path dir, std::uint64_t max_bytes)
    : dir_(std::move(dir)), max_bytes_(max_bytes) {
  if (dir_.empty()) throw Error(ErrorCategory::config, "result cache: the cache folder is empty");
}

std::filesystem::path ResultCache::default_dir(const std::function<const char*(const char*)>& getenv) {
  auto lookup = [&](const char* name) -> std::string {
    const char* value = getenv ? getenv(name) : std::getenv(name);
    return value ? value : "";
  };
  // The XDG base directory specification says to ignore a relative XDG_CACHE_HOME.
  const fs::path xdg = lookup("XDG_CACHE_HOME");
  if (!xdg.empty() && xdg.is_absolute()) return xdg / "imgpipe";
  // A HOME that is not a folder (nobody's /nonexistent) is no place for a cache: making
  // /nonexistent/.cache as root would create what the name says must not exist.
  const fs::path home = lookup("HOME");
  std::error_code ec;
  if (!home.empty() && home.is_absolute() && fs::is_directory(home, ec)) return home / ".cache" / "imgpipe";
  throw Error(ErrorCategory::config,
              "result cache: neither XDG_CACHE_HOME (absolute) nor HOME (an existing folder) is set, so "
              "there is no default cache folder; pass --cache DIR");
}

std::string ResultCache::key(std::string_view input_digest, std::string_view chain_canonical,
                             std::string_view output_settings) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK)
    throw Error(ErrorCategory::internal, "result cache: cannot start an XXH3 hash");
  hash_field(state.get(), std::string_view(version()));
  hash_field(state.get(), chain_canonical);
  hash_field(state.get(), output_settings);
  hash_field(state.get(), input_digest);
  XXH128_canonical_t digest;
  XXH128_canonicalFromHash(&digest, XXH3_128bits_digest(state.get()));
  std::string hex;
  for (unsigned char byte : digest.digest) hex += fmt::format("{:02x}", byte);
  return hex;
}

std::optional<std::vector<CachedOutput>> ResultCache::get(const std::string& key) const {
  check_key(key);
  const fs::path path = entry_path(dir_, key);
  OpenEntry entry;
  if (!read_entry(path, entry)) return std::nullopt;
  auto outputs = parse_entry(entry.bytes, key);
  if (!outputs) {
    remove_if_same_file(path, entry.status);
    return std::nullopt;
  }
  // A hit makes the entry the most recently used. Failing to (a read-only cache) only
  // weakens the eviction order.
  ::futimens(entry.fd, nullptr);
  return outputs;
}

// An unwritable cache throws Error(io) naming the file in the cache folder rather than
// failing silently: the caller decides whether that ends the batch or only the caching.
void ResultCache::put(const std::string& key, const std::vector<CachedOutput>& outputs) {
  check_key(key);
  const fs::path path = entry_path(dir_, key);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec)
    throw Error(ErrorCategory::io, fmt::format("result cache {}: cannot create {}: {}", dir_.string(),
                                               path.parent_path().string(), ec.message()));
  const auto bytes = serialise_entry(key, outputs);
  const auto replaced = existing_size(path);
  write_file_atomic(path, bytes);
  FolderUsage::instance().add(dir_, bytes.size(), replaced);
  evict_if_needed();
}

void ResultCache::evict_if_needed() {
  FolderUsage::instance().evict_if_needed(dir_, max_bytes_);
}

std::string canonical_output_settings(const SaveOptions& options, QualityPreset preset) {
  // Everything that changes the encoded bytes; fsync only changes durability. nlohmann::json
  // keeps object keys sorted, so the text is stable.
  const json settings = {
      {"format", to_string(options.format)},
      {"quality", options.quality},
      {"progressive", options.progressive},
      {"keep_metadata", options.keep_metadata},
      {"compression", options.compression},
      {"allow_indexed", options.allow_indexed},
      {"lossless", options.lossless},
      {"near_lossless", options.near_lossless},
      {"alpha_quality", options.alpha_quality},
      {"method", options.method},
      {"target_size", options.target_size},
      {"tiff_compression", options.tiff_compression},
      {"background", {options.background[0], options.background[1], options.background[2]}},
      {"preset", to_string(preset)},
  };
  return settings.dump();
}

}  // namespace imgpipe
