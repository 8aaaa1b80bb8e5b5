#pragma once
// Process-wide allocator settings: the program's to choose, never the library's.

#include <malloc.h>

namespace imgpipe::cli {

// Keeps freed blocks below `mmap_bytes` in glibc's heap for the next allocation instead of
// giving them back to the kernel. By default glibc maps image-sized blocks afresh and trims
// freed heap back to the kernel, so every new image or tile buffer is faulted in page by page
// again: a fifth of the CPU of a streamed blur and a sixth of a batch's (docs/performance.md).
// Blocks of `mmap_bytes` and more are still mapped (the large-page allocator advises those
// for huge pages), and up to 64 MB of free heap is kept per arena.
inline void keep_freed_memory(int mmap_bytes) {
  mallopt(M_MMAP_THRESHOLD, mmap_bytes);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace imgpipe::cli
