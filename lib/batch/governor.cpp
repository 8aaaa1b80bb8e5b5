// MemoryGovernor: admission by estimated working set (batch.hpp).

#include <imgpipe/batch.hpp>

namespace imgpipe {

bool MemoryGovernor::admit(std::uint64_t bytes, const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  while (!fits(bytes)) {
    if (stop.stop_requested()) return false;
    released_.wait_for(lock, std::chrono::milliseconds(50));
  }
  used_ += bytes;
  ++in_flight_;
  return true;
}

bool MemoryGovernor::try_admit(std::uint64_t bytes, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (!released_.wait_for(lock, wait, [&] { return fits(bytes); })) return false;
  used_ += bytes;
  ++in_flight_;
  return true;
}

void MemoryGovernor::release(std::uint64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    used_ -= bytes;
    --in_flight_;
  }
  released_.notify_all();
}

std::uint64_t MemoryGovernor::used() const {
  std::lock_guard lock(mutex_);
  return used_;
}

int MemoryGovernor::in_flight() const {
  std::lock_guard lock(mutex_);
  return in_flight_;
}

}  // namespace imgpipe
