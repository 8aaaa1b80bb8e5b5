#pragma once
/// \file
/// An in-memory cache of analyses (a palette step's clustering), shared by the runs that hold
/// it through Context::analysis_cache: the same photo sent again with other palettes skips the
/// clustering. Keys are made by the analysing step from the analysed pixels' digest
/// (pixel_digest()) and every parameter the analysis depends on, so a hit gives exactly what
/// the analysis would have computed.
///
/// ```cpp
/// imgpipe::AnalysisCache cache(256 << 20);
/// context.analysis_cache = &cache;   // every run with this context shares it
/// ```

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <opencv2/core/mat.hpp>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <utility>

namespace imgpipe {

/// XXH3-128 of a matrix's size, type and pixels, row by row (any step), as 32 hex digits.
std::string pixel_digest(const cv::Mat& pixels);

/// A bounded, thread-safe map of analyses by key; the least recently used entries go when the
/// entries' sizes add up to more than max_bytes(). Values are shared: an entry evicted while a
/// run uses it stays alive until that run lets it go.
class AnalysisCache {
 public:
  /// A cache holding at most `max_bytes` of analyses (0 = holds nothing).
  explicit AnalysisCache(std::uint64_t max_bytes) : max_bytes_(max_bytes) {}
  AnalysisCache(const AnalysisCache&) = delete;
  AnalysisCache& operator=(const AnalysisCache&) = delete;

  /// The value stored under `key` as a T (it becomes the most recently used); nullptr when
  /// there is none or it is of another type. Counts a hit or a miss.
  template <class T>
  std::shared_ptr<const T> find(const std::string& key) {
    return std::static_pointer_cast<const T>(find(key, typeid(T)));
  }
  /// Stores `value`, which holds about `bytes`, under `key` (replacing any entry), then evicts
  /// the least recently used entries while over max_bytes(). A value larger than max_bytes()
  /// is not stored.
  template <class T>
  void put(const std::string& key, std::shared_ptr<const T> value, std::uint64_t bytes) {
    put(key, std::shared_ptr<const void>(std::move(value)), typeid(T), bytes);
  }

  /// Counters and size, for metrics.
  ///@{
  std::uint64_t hits() const;
  std::uint64_t misses() const;
  std::uint64_t bytes() const;
  std::size_t entries() const;
  ///@}
  /// The most the entries may hold, in bytes.
  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const void> value;
    std::type_index type;
    std::uint64_t bytes;
  };
  std::shared_ptr<const void> find(const std::string& key, std::type_index type);
  void put(const std::string& key, std::shared_ptr<const void> value, std::type_index type,
           std::uint64_t bytes);
  void erase(std::list<Entry>::iterator it);

  std::uint64_t max_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  std::uint64_t bytes_ = 0, hits_ = 0, misses_ = 0;
};

}  // namespace imgpipe
