#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>

#include "encoders.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

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

}  // namespace detail

using detail::current_umask;

namespace {


[[noreturn]] void fail_io(const std::filesystem::path& path, const std::string& what) {
  throw Error(ErrorCategory::io, fmt::format("{}: {}", path.string(), what));
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                       bool fsync) {
  const auto directory = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // The temporary name adds 16 characters to the target's; cut the copied part so that a
  // target name near NAME_MAX (255) still leaves room.
  const std::string name = path.filename().string().substr(0, 200);
  std::string temp = (directory / fmt::format(".{}.imgpipe-XXXXXX", name)).string();
  int fd = mkstemp(temp.data());
  if (fd < 0)
    fail_io(path, fmt::format("cannot create a file in {}: {}", directory.string(), std::strerror(errno)));
  auto abandon = [&](const std::string& what) {
    int saved = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    fail_io(path, fmt::format("{}: {}", what, std::strerror(saved)));
  };
  const std::uint8_t* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::write(fd, data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      abandon("write failed");
    }
    data += written;
    left -= static_cast<std::size_t>(written);
  }
  if (::fchmod(fd, 0666 & ~current_umask()) != 0) abandon("cannot set permissions");
  if (fsync && ::fsync(fd) != 0) abandon("fsync failed");
  if (::close(fd) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    fail_io(path, fmt::format("close failed: {}", std::strerror(saved)));
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    fail_io(path, fmt::format("cannot rename into place: {}", std::strerror(saved)));
  }
  // The rename is durable only once the directory entry is on disk as well.
  if (fsync) {
    int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
  }
}

}  // namespace imgpipe
