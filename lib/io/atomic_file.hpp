#pragma once
// The one atomic write target: every output file imgpipe writes — encoded in memory or
// streamed — goes through it.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace imgpipe::detail {

// A temporary file beside `target` (".<name>.imgpipe-XXXXXX"), renamed over the target by
// commit() only when complete; removed if never committed, so a failure or a crash never
// leaves a partial output under the target's name.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();

  int fd() const { return fd_; }
  void write(std::span<const std::uint8_t> bytes);
  // Gives the file the umask's permissions, optionally flushes it to disk, renames it into
  // place and, with fsync, flushes the folder so that the rename is durable too.
  void commit(bool fsync);

 private:
  [[noreturn]] void fail(const std::string& what, int error);
  std::filesystem::path target_;
  std::string temporary_;
  int fd_ = -1;
};

}  // namespace imgpipe::detail
