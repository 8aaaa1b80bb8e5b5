// The result cache: keys that change with everything that determines the outputs, entries
// that come back byte for byte, damaged entries that are misses, least-recently-used
// eviction, and a folder shared by several processes.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

// The reference hashes below come from xxHash's one-shot functions, compiled into the test.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <imgpipe/batch.hpp>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Not inlined: with a constant length GCC follows xxHash's branches for other lengths and
// warns (-Warray-bounds) about reads that never happen.
[[gnu::noinline]] std::uint64_t reference_hash64(const std::vector<std::uint8_t>& bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}
[[gnu::noinline]] XXH128_hash_t reference_hash128(const std::vector<std::uint8_t>& bytes) {
  return XXH3_128bits(bytes.data(), bytes.size());
}

std::vector<std::uint8_t> bytes_of(std::string_view text) {
  return {text.begin(), text.end()};
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed) {
  std::vector<std::uint8_t> bytes(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return bytes;
}

// The documented key: XXH3-128 over the version, the chain, the settings and the input, each
// preceded by its length as 8 little-endian bytes; the canonical (big-endian) digest in hex.
std::string reference_key(std::span<const std::uint8_t> input, std::string_view chain,
                          std::string_view settings, std::string_view library = version()) {
  std::vector<std::uint8_t> message;
  auto field = [&](const void* data, std::size_t size) {
    for (int i = 0; i < 8; ++i) message.push_back(static_cast<std::uint8_t>(std::uint64_t{size} >> (8 * i)));
    const auto* begin = static_cast<const std::uint8_t*>(data);
    message.insert(message.end(), begin, begin + size);
  };
  field(library.data(), library.size());
  field(chain.data(), chain.size());
  field(settings.data(), settings.size());
  field(input.data(), input.size());
  XXH128_canonical_t digest;
  XXH128_canonicalFromHash(&digest, reference_hash128(message));
  std::string hex;
  for (unsigned char byte : digest.digest) {
    static constexpr char kDigits[] = "0123456789abcdef";
    hex += kDigits[byte >> 4];
    hex += kDigits[byte & 15];
  }
  return hex;
}

std::string key_of(int n) {
  return ResultCache::key(content_digest(pattern(100, static_cast<std::uint32_t>(n))), "chain", "settings");
}

fs::path entry_file(const fs::path& dir, const std::string& key) {
  return dir / key.substr(0, 2) / (key + ".entry");
}

bool same_outputs(const std::vector<CachedOutput>& a, const std::vector<CachedOutput>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].variant != b[i].variant || a[i].bytes != b[i].bytes) return false;
  return true;
}

// One output of `size` bytes: every entry made from it has the same file size.
std::vector<CachedOutput> single(std::size_t size, std::uint32_t seed) {
  return {CachedOutput{"v", pattern(size, seed)}};
}

void set_age(const fs::path& path, std::chrono::seconds age) {
  fs::last_write_time(path, fs::file_time_type::clock::now() - age);
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// ---- Keys ---------------------------------------------------------------------------------

TEST(ResultCacheKey, IsXxh3Of128BitsOverLengthPrefixedFields) {
  const auto input = pattern(5000, 3);
  // The input enters as its digest: XXH3-128 of its bytes, high half first, in hex.
  const std::string digest = content_digest(input);
  const XXH128_hash_t expected = reference_hash128(input);
  EXPECT_EQ(digest, fmt::format("{:016x}{:016x}", expected.high64, expected.low64));
  const auto digest_bytes = std::span(reinterpret_cast<const std::uint8_t*>(digest.data()), digest.size());
  const std::string key = ResultCache::key(digest, "resize width=100", R"({"format":"png"})");
  EXPECT_EQ(key.size(), 32u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
  EXPECT_EQ(key, reference_key(digest_bytes, "resize width=100", R"({"format":"png"})"));
  EXPECT_EQ(ResultCache::key({}, "", ""), reference_key({}, "", ""));
  // The library version is part of the key: the same input, chain and settings under another
  // version would be another key, so an upgraded library never reuses older outputs.
  EXPECT_NE(key, reference_key(digest_bytes, "resize width=100", R"({"format":"png"})", "0.0.0-other"));
}

TEST(ResultCacheKey, ChangesWithEveryField) {
  auto input = pattern(1000, 1);
  const std::string digest = content_digest(input);
  const std::string base = ResultCache::key(digest, "chain", "settings");
  EXPECT_EQ(ResultCache::key(content_digest(input), "chain", "settings"), base);

  auto flipped = input;
  flipped[517] ^= 1;
  const std::set<std::string> keys{
      base,
      ResultCache::key(content_digest(flipped), "chain", "settings"),
      ResultCache::key(content_digest(std::span(input).first(999)), "chain", "settings"),
      ResultCache::key(digest, "chain ", "settings"),
      ResultCache::key(digest, "chaim", "settings"),
      ResultCache::key(digest, "chain", "settingz"),
      ResultCache::key(digest, "chain", ""),
  };
  EXPECT_EQ(keys.size(), 7u);
}

// A file is hashed in blocks (ImageFile::digest) to the same digest as its bytes in memory.
TEST(ResultCacheKey, FileDigestEqualsTheDigestOfItsBytes) {
  const auto dir = fs::temp_directory_path() / fmt::format("imgpipe-digest-{}", ::getpid());
  fs::create_directories(dir);
  // Over two read blocks (1 MiB each), not a multiple of the block.
  const auto bytes = pattern((std::size_t{5} << 19) + 17, 9);
  write_bytes(dir / "long.bin", bytes);
  const ImageFile file(dir / "long.bin");
  EXPECT_EQ(file.digest(), content_digest(bytes));
  fs::remove_all(dir);
}

// ---- Canonical output settings -----------------------------------------------------------

TEST(CanonicalOutputSettings, HoldsEveryFieldThatChangesTheBytes) {
  SaveOptions options;
  options.format = Format::webp;
  options.quality = 72;
  options.progressive = true;
  options.keep_metadata = true;
  options.compression = 3;
  options.allow_indexed = false;
  options.lossless = true;
  options.near_lossless = 60;
  options.alpha_quality = 40;
  options.method = 5;
  options.target_size = 12345;
  options.tiff_compression = "lzw";
  options.background[0] = 1;
  options.background[1] = 2;
  options.background[2] = 3;
  const json settings = json::parse(canonical_output_settings(options, QualityPreset::high));
  const json expected = {
      {"format", "webp"},        {"quality", 72},
      {"progressive", true},     {"keep_metadata", true},
      {"compression", 3},        {"allow_indexed", false},
      {"lossless", true},        {"near_lossless", 60},
      {"alpha_quality", 40},     {"method", 5},
      {"target_size", 12345},    {"tiff_compression", "lzw"},
      {"background", {1, 2, 3}}, {"preset", "high"},
  };
  EXPECT_EQ(settings, expected) << settings.dump();
}

TEST(CanonicalOutputSettings, DiffersForEachFieldChange) {
  const std::vector<std::function<void(SaveOptions&, QualityPreset&)>> changes{
      [](SaveOptions& o, QualityPreset&) { o.format = Format::jpeg; },
      [](SaveOptions& o, QualityPreset&) { o.quality = 90; },
      [](SaveOptions& o, QualityPreset&) { o.progressive = true; },
      [](SaveOptions& o, QualityPreset&) { o.keep_metadata = true; },
      [](SaveOptions& o, QualityPreset&) { o.compression = 9; },
      [](SaveOptions& o, QualityPreset&) { o.allow_indexed = false; },
      [](SaveOptions& o, QualityPreset&) { o.lossless = true; },
      [](SaveOptions& o, QualityPreset&) { o.near_lossless = 50; },
      [](SaveOptions& o, QualityPreset&) { o.alpha_quality = 50; },
      [](SaveOptions& o, QualityPreset&) { o.method = 4; },
      [](SaveOptions& o, QualityPreset&) { o.target_size = 1000; },
      [](SaveOptions& o, QualityPreset&) { o.tiff_compression = "none"; },
      [](SaveOptions& o, QualityPreset&) { o.background[0] = 0; },
      [](SaveOptions& o, QualityPreset&) { o.background[1] = 0; },
      [](SaveOptions& o, QualityPreset&) { o.background[2] = 0; },
      [](SaveOptions&, QualityPreset& p) { p = QualityPreset::draft; },
  };
  const std::string base = canonical_output_settings(SaveOptions{}, QualityPreset::balanced);
  EXPECT_EQ(canonical_output_settings(SaveOptions{}, QualityPreset::balanced), base);
  std::set<std::string> seen{base};
  for (const auto& change : changes) {
    SaveOptions options;
    QualityPreset preset = QualityPreset::balanced;
    change(options, preset);
    seen.insert(canonical_output_settings(options, preset));
  }
  EXPECT_EQ(seen.size(), changes.size() + 1);

  SaveOptions synced;
  synced.fsync = true;  // durability only: the same bytes
  EXPECT_EQ(canonical_output_settings(synced, QualityPreset::balanced), base);
}

// ---- Entries ------------------------------------------------------------------------------

TEST(ResultCache, RoundTripsOutputsByteForByte) {
  test::TempDir dir;
  ResultCache cache(dir / "cache", ResultCache::kDefaultMaxBytes);
  const std::vector<CachedOutput> outputs{
      {"", pattern(3000, 1)},
      {"warm", pattern(70001, 2)},
      {"empty", {}},
      {"with\nnewline \"quoted\" ünïcode", bytes_of("\n{\"version\":1}\n")},
  };
  const std::string key = key_of(1);
  cache.put(key, outputs);
  const auto got = cache.get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(same_outputs(*got, outputs));

  // No outputs at all is an entry too (a chain whose every variant was filtered away).
  cache.put(key_of(2), {});
  const auto none = cache.get(key_of(2));
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty());

  // A put replaces the entry whole.
  cache.put(key, single(10, 9));
  const auto replaced = cache.get(key);
  ASSERT_TRUE(replaced.has_value());
  EXPECT_TRUE(same_outputs(*replaced, single(10, 9)));
}

TEST(ResultCache, EntryIsAJsonLineFollowedByTheBytes) {
  test::TempDir dir;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  const auto first = pattern(1234, 5), second = bytes_of("second");
  const std::string key = key_of(3);
  cache.put(key, {{"a", first}, {"", second}});

  const auto file = test::read_file(entry_file(dir.path(), key));
  const auto newline = std::find(file.begin(), file.end(), std::uint8_t{'\n'});
  ASSERT_NE(newline, file.end());
  const json header = json::parse(std::string(file.begin(), newline));
  auto hex64 = [](const std::vector<std::uint8_t>& bytes) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(reference_hash64(bytes)));
    return std::string(text);
  };
  const json expected = {{"version", 2},
                         {"key", key},
                         {"outputs",
                          {{{"variant", "a"}, {"size", 1234}, {"xxh3", hex64(first)}},
                           {{"variant", ""}, {"size", 6}, {"xxh3", hex64(second)}}}}};
  EXPECT_EQ(header, expected) << header.dump();
  std::vector<std::uint8_t> payload(newline + 1, file.end());
  auto joined = first;
  joined.insert(joined.end(), second.begin(), second.end());
  EXPECT_EQ(payload, joined);
}

TEST(ResultCache, MissingEntryOrFolderIsAMiss) {
  test::TempDir dir;
  ResultCache absent(dir / "not" / "there", ResultCache::kDefaultMaxBytes);
  EXPECT_FALSE(absent.get(key_of(1)).has_value());
  EXPECT_FALSE(fs::exists(dir / "not")) << "a get must not create the folder";

  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  cache.put(key_of(1), single(10, 1));
  EXPECT_FALSE(cache.get(key_of(2)).has_value());
}

TEST(ResultCache, DamagedEntryIsAMissAndIsRemoved) {
  test::TempDir dir;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  const std::string key = key_of(4);
  const std::vector<CachedOutput> outputs{{"a", pattern(500, 1)}, {"b", pattern(800, 2)}};
  const fs::path file = entry_file(dir.path(), key);

  const std::map<std::string, std::function<void(std::vector<std::uint8_t>&)>> damages{
      {"a payload byte flipped", [](auto& bytes) { bytes[bytes.size() - 300] ^= 0x10; }},
      {"truncated by one byte", [](auto& bytes) { bytes.pop_back(); }},
      {"truncated inside the header", [](auto& bytes) { bytes.resize(20); }},
      {"a byte appended", [](auto& bytes) { bytes.push_back(0); }},
      {"header not JSON", [](auto& bytes) { bytes[0] = 'x'; }},
      {"no newline",
       [](auto& bytes) { std::replace(bytes.begin(), bytes.end(), std::uint8_t{'\n'}, std::uint8_t{' '}); }},
      {"empty file", [](auto& bytes) { bytes.clear(); }},
  };
  for (const auto& [what, damage] : damages) {
    SCOPED_TRACE(what);
    cache.put(key, outputs);
    ASSERT_TRUE(cache.get(key).has_value());
    auto bytes = test::read_file(file);
    damage(bytes);
    write_bytes(file, bytes);
    EXPECT_FALSE(cache.get(key).has_value());
    EXPECT_FALSE(fs::exists(file));
  }

  // A header from a future version, or one whose sizes or hashes disagree, is no hit either.
  cache.put(key, outputs);
  auto bytes = test::read_file(file);
  const auto newline = std::find(bytes.begin(), bytes.end(), std::uint8_t{'\n'});
  json header = json::parse(std::string(bytes.begin(), newline));
  const std::vector<std::uint8_t> payload(newline + 1, bytes.end());
  auto write_with = [&](const json& changed) {
    auto text = changed.dump() + '\n';
    std::vector<std::uint8_t> entry(text.begin(), text.end());
    entry.insert(entry.end(), payload.begin(), payload.end());
    write_bytes(file, entry);
  };
  write_with(header);
  EXPECT_TRUE(cache.get(key).has_value()) << "rewriting the same header must still be a hit";
  for (auto change : std::vector<std::function<void(json&)>>{
           [](json& h) { h["version"] = 3; },
           [](json& h) { h.erase("key"); },
           [](json& h) {
             h["outputs"][0]["size"] = 501;
             h["outputs"][1]["size"] = 799;
           },
           [](json& h) { h["outputs"][1]["xxh3"] = "0000000000000000"; },
           [](json& h) { h["outputs"][0]["size"] = -1; },
           [](json& h) { h["outputs"] = "none"; },
       }) {
    json changed = header;
    change(changed);
    write_with(changed);
    EXPECT_FALSE(cache.get(key).has_value()) << changed.dump();
    EXPECT_FALSE(fs::exists(file));
  }
}

TEST(ResultCache, AWholeEntryOfAnotherKeyInItsPlaceIsAMissAndIsRemoved) {
  test::TempDir dir;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  const std::string mine = key_of(5), other = key_of(6);
  cache.put(mine, single(300, 1));
  cache.put(other, single(300, 2));
  // Another image's valid entry copied over this key's file: every checksum holds.
  fs::copy_file(entry_file(dir.path(), other), entry_file(dir.path(), mine),
                fs::copy_options::overwrite_existing);
  EXPECT_FALSE(cache.get(mine).has_value());
  EXPECT_FALSE(fs::exists(entry_file(dir.path(), mine)));
  EXPECT_TRUE(cache.get(other).has_value());
}

TEST(ResultCache, RejectsWhatIsNotAKey) {
  test::TempDir dir;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  for (const std::string bad :
       {"", "../../etc/passwd", "0123456789ABCDEF0123456789abcdef", "0123456789abcdef0123456789abcde"}) {
    EXPECT_THROW(cache.get(bad), Error) << bad;
    EXPECT_THROW(cache.put(bad, {}), Error) << bad;
  }
}

TEST(ResultCache, VariantNamesMustBeUtf8) {
  test::TempDir dir;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  test::config_error([&] { cache.put(key_of(1), {{"bad\xff", bytes_of("x")}}); });
  EXPECT_FALSE(cache.get(key_of(1)).has_value());
}

TEST(ResultCache, UnwritableFolderIsAnIoErrorNamingIt) {
  test::TempDir dir;
  test::write_text(dir / "file", "not a folder");
  ResultCache cache(dir / "file" / "cache", ResultCache::kDefaultMaxBytes);
  try {
    cache.put(key_of(1), single(10, 1));
    FAIL() << "expected Error(io)";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::io);
    EXPECT_NE(std::string(e.what()).find((dir / "file" / "cache").string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(cache.get(key_of(1)).has_value());
}

// ---- Eviction -----------------------------------------------------------------------------

TEST(ResultCache, EvictsLeastRecentlyUsedEntries) {
  test::TempDir dir;
  // Every entry made by single(1000, _) has the same size; measure it once.
  std::uint64_t entry_size = 0;
  {
    test::TempDir probe_dir;
    ResultCache probe(probe_dir.path(), ResultCache::kDefaultMaxBytes);
    probe.put(key_of(0), single(1000, 0));
    entry_size = fs::file_size(entry_file(probe_dir.path(), key_of(0)));
  }
  // Room for four and a half entries; eviction goes down to 90% of that.
  ResultCache cache(dir.path(), entry_size * 9 / 2);
  const std::string a = key_of(1), b = key_of(2), c = key_of(3), d = key_of(4), e = key_of(5), f = key_of(6);
  for (const auto& key : {a, b, c, d}) cache.put(key, single(1000, 1));
  for (const auto& key : {a, b, c, d}) EXPECT_TRUE(fs::exists(entry_file(dir.path(), key)));

  set_age(entry_file(dir.path(), a), std::chrono::seconds(400));
  set_age(entry_file(dir.path(), b), std::chrono::seconds(300));
  set_age(entry_file(dir.path(), c), std::chrono::seconds(200));
  set_age(entry_file(dir.path(), d), std::chrono::seconds(100));
  ASSERT_TRUE(cache.get(a).has_value());  // now the most recently used

  // Five entries exceed the cap: only b, now the oldest, has to go to reach 90%.
  cache.put(e, single(1000, 1));
  EXPECT_FALSE(fs::exists(entry_file(dir.path(), b)));
  for (const auto& key : {a, c, d, e}) EXPECT_TRUE(fs::exists(entry_file(dir.path(), key))) << key;

  // An entry nearly twice the size pushes out the two oldest, c then d.
  cache.put(f, single(2000 - 100, 1));
  for (const auto& key : {b, c, d}) EXPECT_FALSE(fs::exists(entry_file(dir.path(), key))) << key;
  for (const auto& key : {a, e, f}) EXPECT_TRUE(fs::exists(entry_file(dir.path(), key))) << key;
}

TEST(ResultCache, SmallerCapOnAFullerFolderEvictsOnItsFirstPut) {
  test::TempDir dir;
  ResultCache roomy(dir.path(), ResultCache::kDefaultMaxBytes);
  for (int i = 0; i < 6; ++i) roomy.put(key_of(i), single(1000, 1));
  const auto entry_size = fs::file_size(entry_file(dir.path(), key_of(0)));
  for (int i = 0; i < 6; ++i) set_age(entry_file(dir.path(), key_of(i)), std::chrono::seconds(600 - 10 * i));

  // Room for 2.5 entries, 90% of it is 2.25: only the put entry and the newest old one stay.
  ResultCache tight(dir.path(), entry_size * 5 / 2);
  tight.put(key_of(6), single(1000, 1));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(fs::exists(entry_file(dir.path(), key_of(i)))) << i;
  EXPECT_TRUE(fs::exists(entry_file(dir.path(), key_of(5))));
  EXPECT_TRUE(fs::exists(entry_file(dir.path(), key_of(6))));
}

std::uint64_t entries_size(const fs::path& dir) {
  std::uint64_t total = 0;
  for (const auto& file : fs::recursive_directory_iterator(dir))
    if (file.is_regular_file()) total += file.file_size();
  return total;
}

TEST(ResultCache, NoticesEntriesOthersWrote) {
  test::TempDir dir, elsewhere;
  ResultCache cache(dir.path(), ResultCache::kDefaultMaxBytes);
  cache.put(key_of(0), single(1000, 1));
  const auto entry_size = fs::file_size(entry_file(dir.path(), key_of(0)));

  // Another process fills the folder far past this cache's cap behind its back.
  ResultCache other(elsewhere.path(), ResultCache::kDefaultMaxBytes);
  for (int i = 1; i <= 30; ++i) other.put(key_of(i), single(1000, 1));
  fs::copy(elsewhere.path(), dir.path(), fs::copy_options::recursive);
  for (int i = 1; i <= 30; ++i) set_age(entry_file(dir.path(), key_of(i)), std::chrono::seconds(100));
  ASSERT_EQ(entries_size(dir.path()), 31 * entry_size);

  // Replacing an entry does not grow this process's count, but writing a tenth of the cap
  // since the last scan makes it look again.
  ResultCache tight(dir.path(), 10 * entry_size);
  tight.put(key_of(0), single(1000, 1));
  EXPECT_LE(entries_size(dir.path()), 9 * entry_size);
  EXPECT_TRUE(fs::exists(entry_file(dir.path(), key_of(0))));
}

TEST(ResultCache, EvictionLeavesOtherFilesAloneAndDoesNotCountThem) {
  test::TempDir dir;
  ResultCache cache(dir.path(), 20000);
  cache.put(key_of(1), single(1000, 1));
  const std::string shard = key_of(1).substr(0, 2);
  const std::vector<fs::path> others{
      dir / "notes.txt",
      dir.path() / shard /
          (".0123456789abcdef0123456789abcdef.entry.imgpipe-AbC123"),  // a writer's temporary
      dir.path() / shard / "readme.entry",
      dir / "zz" / "0123456789abcdef0123456789abcdef.entry",  // not a shard folder
  };
  fs::create_directories(dir / "zz");
  for (const auto& path : others) write_bytes(path, pattern(50000, 7));
  for (int i = 2; i < 8; ++i) cache.put(key_of(i), single(1000, 1));
  for (int i = 1; i < 8; ++i) EXPECT_TRUE(fs::exists(entry_file(dir.path(), key_of(i)))) << i;
  for (const auto& path : others) EXPECT_TRUE(fs::exists(path)) << path;
}

// ---- Several processes --------------------------------------------------------------------

constexpr int kKeys = 20, kRounds = 50, kChildren = 4;

std::vector<CachedOutput> outputs_for(int n) {
  const auto seed = static_cast<std::uint32_t>(n);
  return {
      {"", pattern(200 + 97 * static_cast<std::size_t>(n), seed)},
      {"thumb", n % 3 == 0 ? std::vector<std::uint8_t>{}
                           : pattern(1000 + 13 * static_cast<std::size_t>(n), seed + 100)},
      {"large", pattern(4000 + 111 * static_cast<std::size_t>(n), seed + 200)},
  };
}

// Gets and puts every key round after round. A hit with other bytes than the key's own is a
// failure (exit 2); any exception exit 3. Writes to `report` its hits and its misses after
// the first round, when it had put every key itself: those were evicted.
int child_main(const fs::path& dir, std::uint64_t max_bytes, const fs::path& report) {
  try {
    ResultCache cache(dir, max_bytes);
    std::vector<std::vector<CachedOutput>> expected;
    for (int n = 0; n < kKeys; ++n) expected.push_back(outputs_for(n));
    int hits = 0, evicted = 0;
    for (int round = 0; round < kRounds; ++round)
      for (int n = 0; n < kKeys; ++n) {
        if (auto got = cache.get(key_of(n))) {
          if (!same_outputs(*got, expected[static_cast<std::size_t>(n)])) return 2;
          ++hits;
        } else if (round > 0) {
          ++evicted;
        }
        cache.put(key_of(n), expected[static_cast<std::size_t>(n)]);
      }
    std::ofstream(report) << hits << ' ' << evicted;
    return 0;
  } catch (...) {
    return 3;
  }
}

TEST(ResultCache, ProcessesShareAFolder) {
  test::TempDir dir;
  const fs::path cache_dir = dir / "cache";
  std::vector<pid_t> children;
  for (int child = 0; child < kChildren; ++child) {
    // The last process has room for about two entries and so evicts all the time.
    const std::uint64_t cap = child == kChildren - 1 ? 20000 : ResultCache::kDefaultMaxBytes;
    const fs::path report = dir / ("hits-" + std::to_string(child));
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) ::_exit(child_main(cache_dir, cap, report));
    children.push_back(pid);
  }
  int hits = 0, evicted = 0;
  for (std::size_t child = 0; child < children.size(); ++child) {
    int status = 0;
    ASSERT_EQ(::waitpid(children[child], &status, 0), children[child]);
    ASSERT_TRUE(WIFEXITED(status)) << "child " << child << " status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0) << "child " << child << " (2 = a wrong hit, 3 = an exception)";
    std::ifstream report(dir / ("hits-" + std::to_string(child)));
    int child_hits = 0, child_evicted = 0;
    report >> child_hits >> child_evicted;
    hits += child_hits;
    evicted += child_evicted;
  }
  // Every hit was checked byte for byte by the child that got it; there must have been some,
  // and evictions while the others read.
  EXPECT_GT(hits, 0);
  EXPECT_GT(evicted, 0);
  std::cout << hits << " verified hits and " << evicted << " evicted entries in "
            << kChildren * kRounds * kKeys << " gets\n";

  ResultCache cache(cache_dir, ResultCache::kDefaultMaxBytes);
  for (int n = 0; n < kKeys; ++n) {
    const auto got = cache.get(key_of(n));
    EXPECT_TRUE(!got || same_outputs(*got, outputs_for(n))) << n;
  }
  for (const auto& file : fs::recursive_directory_iterator(cache_dir)) {
    EXPECT_NE(file.path().filename().string()[0], '.') << "temporary file left: " << file.path();
  }
}

// ---- Default folder -----------------------------------------------------------------------

std::function<const char*(const char*)> environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const char* name) -> const char* {
    auto it = values.find(name);
    return it == values.end() ? nullptr : it->second.c_str();
  };
}

TEST(ResultCacheDefaultDir, FollowsXdgThenHome) {
  const test::TempDir home;  // HOME counts only when it is an existing folder
  const std::string me = home.path().string();
  EXPECT_EQ(ResultCache::default_dir(environment({{"XDG_CACHE_HOME", "/var/cache/me"}, {"HOME", me}})),
            fs::path("/var/cache/me/imgpipe"));
  EXPECT_EQ(ResultCache::default_dir(environment({{"HOME", me}})), home.path() / ".cache" / "imgpipe");
  EXPECT_EQ(ResultCache::default_dir(environment({{"XDG_CACHE_HOME", ""}, {"HOME", me}})),
            home.path() / ".cache" / "imgpipe");
  // The XDG specification says a relative path is to be ignored.
  EXPECT_EQ(ResultCache::default_dir(environment({{"XDG_CACHE_HOME", "relative"}, {"HOME", me}})),
            home.path() / ".cache" / "imgpipe");
}

TEST(ResultCacheDefaultDir, AHomeThatDoesNotExistIsNoPlaceForACache) {
  // As for the user nobody, whose HOME is /nonexistent: no folder may be made there.
  const std::string message = test::config_error([] {
    ResultCache::default_dir(environment({{"HOME", "/nonexistent"}}));
  });
  EXPECT_NE(message.find("--cache"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists("/nonexistent"));
}

TEST(ResultCacheDefaultDir, NeitherSetAsksForAFolder) {
  const std::string message = test::config_error([] {
    ResultCache::default_dir(environment({{"XDG_CACHE_HOME", ""}, {"HOME", ""}}));
  });
  EXPECT_NE(message.find("--cache"), std::string::npos) << message;
  test::config_error([] { ResultCache::default_dir(environment({})); });
}

}  // namespace
