#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "atomic_file.hpp"
#include "encoders.hpp"

namespace imgpipe {

namespace detail {

// The process umask without changing it (umask() would race with other threads).
mode_t current_umask() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
  return 022;
}

constexpr std::string_view kMark = ".imgpipe-";  // then mkstemp's six characters

// The temporaries of this process not yet renamed or removed. Never destroyed: a thread may
// still clean up while the process exits.
struct LiveTemporaries {
  std::mutex mutex;
  std::set<std::string> paths;
};

LiveTemporaries& live_temporaries() {
  static auto* live = new LiveTemporaries;
  return *live;
}

}  // namespace detail

namespace detail {

bool is_temporary_file_name(std::string_view name) noexcept {
  const std::size_t suffix = kMark.size() + 6;
  return name.size() > suffix + 1 && name.front() == '.' &&
         name.substr(name.size() - suffix, kMark.size()) == kMark;
}

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  const auto directory = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  // The temporary name adds 16 characters to the target's; cut the copied part so that a
  // target name near NAME_MAX (255) still leaves room.
  const std::string name = target_.filename().string().substr(0, 200);
  temporary_ = (directory / fmt::format(".{}{}XXXXXX", name, kMark)).string();
  auto& live = live_temporaries();
  std::lock_guard lock(live.mutex);
  fd_ = mkstemp(temporary_.data());
  if (fd_ < 0) {
    const int error = errno;
    temporary_.clear();
    fail(fmt::format("cannot create a file in {}", directory.string()), error);
  }
  live.paths.insert(temporary_);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!temporary_.empty()) {
    auto& live = live_temporaries();
    std::lock_guard lock(live.mutex);
    live.paths.erase(temporary_);
    ::unlink(temporary_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int error) {
  throw Error(ErrorCategory::io, fmt::format("{}: {}: {}", target_.string(), what, std::strerror(error)));
}

void AtomicFile::write(std::span<const std::uint8_t> bytes) {
  const std::uint8_t* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = ::write(fd_, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("write failed", errno);
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
}

void AtomicFile::commit(bool fsync) {
  if (::fchmod(fd_, 0666 & ~current_umask()) != 0) fail("cannot set permissions", errno);
  if (fsync && ::fsync(fd_) != 0) fail("fsync failed", errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail("close failed", errno);
  {
    auto& live = live_temporaries();
    std::lock_guard lock(live.mutex);
    if (std::rename(temporary_.c_str(), target_.c_str()) != 0) fail("cannot rename into place", errno);
    live.paths.erase(temporary_);
  }
  temporary_.clear();
  if (fsync) {
    const auto directory = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
}

}  // namespace detail

void remove_temporary_files() noexcept {
  auto& live = detail::live_temporaries();
  live.mutex.lock();  // kept: no write of this process renames its file into place after this
  for (const auto& path : live.paths) ::unlink(path.c_str());
  live.paths.clear();
}

namespace {

[[noreturn]] void over_limit(const std::filesystem::path& path, std::string_view what,
                             std::uint64_t max_bytes) {
  throw Error(ErrorCategory::limit, fmt::format("{} {}: over the limit of {} bytes for a {}", what,
                                                path.string(), max_bytes, what));
}

std::string hex_of(const XXH128_hash_t& h) {
  return fmt::format("{:016x}{:016x}", h.high64, h.low64);
}

// Opens without following a FIFO's wait (O_NONBLOCK) and checks with fstat: what is checked is
// what is read.
int open_referenced(const std::filesystem::path& path, std::string_view what, std::uint64_t max_bytes,
                    std::uint64_t& size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    throw Error(errno == ENOENT ? ErrorCategory::config : ErrorCategory::io,
                fmt::format("{} {}: cannot open: {}", what, path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error(
        ErrorCategory::config,
        fmt::format("{} {}: not a regular file (a folder, device, pipe or socket)", what, path.string()));
  }
  size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    ::close(fd);
    throw Error(ErrorCategory::limit, fmt::format("{} {}: {} bytes is over the limit of {} bytes for a {}",
                                                  what, path.string(), size, max_bytes, what));
  }
  return fd;
}

}  // namespace

std::vector<std::uint8_t> read_referenced_file(const std::filesystem::path& path, std::string_view what,
                                               std::uint64_t max_bytes) {
  std::uint64_t size = 0;
  const int fd = open_referenced(path, what, max_bytes, size);
  // One byte more than the size says: a file that grew past the limit meanwhile is refused too.
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(std::min(size, max_bytes) + 1));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw Error(ErrorCategory::io,
                  fmt::format("{} {}: read failed: {}", what, path.string(), std::strerror(error)));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (done > max_bytes) over_limit(path, what, max_bytes);
  bytes.resize(done);
  return bytes;
}

std::string content_digest(std::span<const std::uint8_t> bytes) {
  return hex_of(XXH3_128bits(bytes.data(), bytes.size()));
}

std::string file_digest(const std::filesystem::path& path, std::string_view what, std::uint64_t max_bytes) {
  std::uint64_t size = 0, total = 0;
  const int fd = open_referenced(path, what, max_bytes, size);
  std::string digest;
  try {
    digest = detail::descriptor_digest(fd, path, max_bytes, total);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (total > max_bytes) over_limit(path, what, max_bytes);
  return digest;
}

namespace detail {

std::string descriptor_digest(int fd, const std::filesystem::path& path, std::uint64_t limit,
                              std::uint64_t& total) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(), &XXH3_freeState);
  if (!state || XXH3_128bits_reset(state.get()) != XXH_OK)
    throw Error(ErrorCategory::internal, "cannot start an XXH3 hash");
  std::vector<std::uint8_t> block(std::size_t{1} << 20);
  total = 0;
  while (total <= limit) {
    const ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(ErrorCategory::io, fmt::format("{}: read failed: {}", path.string(), std::strerror(errno)));
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    XXH3_128bits_update(state.get(), block.data(), static_cast<std::size_t>(n));
  }
  return hex_of(XXH3_128bits_digest(state.get()));
}

}  // namespace detail

void remove_stale_temporary_files(const std::filesystem::path& folder, std::chrono::seconds older_than) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - older_than;
  for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (detail::is_temporary_file_name(it->path().filename().string()) && it->is_regular_file(ec) &&
        it->last_write_time(ec) < cutoff)
      fs::remove(it->path(), ec);
  }
}

void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes, bool fsync) {
  detail::AtomicFile file(path);
  file.write(bytes);
  file.commit(fsync);
}

}  // namespace imgpipe
