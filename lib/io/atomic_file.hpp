#pragma once
// The one atomic write target: every output file imgpipe writes — encoded in memory or
// streamed — goes through it.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace imgpipe::detail {

// XXH3-128 (32 hex digits, as content_digest()) of what an open file holds from its start, read
// in blocks with pread: the file is hashed without being held. `total` gets the bytes read;
// reading stops once it passes `limit`.
std::string descriptor_digest(int fd, const std::filesystem::path& path, std::uint64_t limit,
                              std::uint64_t& total);

// Whether a file name is one of AtomicFile's temporary files: ".<name>.imgpipe-XXXXXX".
bool is_temporary_file_name(std::string_view name) noexcept;

// A temporary file beside `target` (".<name>.imgpipe-XXXXXX"), renamed over the target by
// commit() only when complete; removed if never committed, so a failure never leaves a
// partial output under the target's name. Live temporaries are known to
// remove_temporary_files() (io.hpp), for a process that exits on a signal.
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
