// AnalysisCache: a mutex-guarded LRU list with a key index (analysis_cache.hpp).

#include <fmt/format.h>
#include <xxhash.h>

#include <array>
#include <imgpipe/analysis_cache.hpp>

namespace imgpipe {

std::string pixel_digest(const cv::Mat& pixels) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  const std::array<std::int32_t, 3> shape{pixels.cols, pixels.rows, pixels.type()};
  XXH3_128bits_update(state, shape.data(), sizeof shape);
  const std::size_t row_bytes = pixels.cols * pixels.elemSize();
  for (int y = 0; y < pixels.rows; ++y) XXH3_128bits_update(state, pixels.ptr(y), row_bytes);
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return fmt::format("{:016x}{:016x}", hash.high64, hash.low64);  // as content_digest() writes it
}

std::shared_ptr<const void> AnalysisCache::find(const std::string& key, std::type_index type) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end() || it->second->type != type) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void AnalysisCache::put(const std::string& key, std::shared_ptr<const void> value, std::type_index type,
                        std::uint64_t bytes) {
  if (bytes > max_bytes_) return;
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) erase(it->second);
  lru_.push_front(Entry{key, std::move(value), type, bytes});
  index_.emplace(key, lru_.begin());
  bytes_ += bytes;
  while (bytes_ > max_bytes_) erase(std::prev(lru_.end()));
}

void AnalysisCache::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

std::uint64_t AnalysisCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t AnalysisCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

std::uint64_t AnalysisCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t AnalysisCache::entries() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace imgpipe
