#pragma once
// Process-wide allocator settings: the program's to choose, never the library's.

#include <malloc.h>

#include <algorithm>

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

// At most one glibc arena per core instead of eight. Each thread that first allocates gets an
// arena of its own while there are fewer than the limit, and an arena starts empty: in a
// server whose pool hands requests to a dozen threads, every thread's first requests faulted
// their buffers in afresh (30-40 ms against 9-15 ms for a 1024 px effects chain), and each
// arena kept its own freed buffers (a 7-palette service: 994 MB peak RSS against 353 MB with
// two arenas). Image work allocates a few large blocks per step, so threads sharing arenas
// wait on their locks rarely.
inline void limit_arenas(unsigned cores) {
  mallopt(M_ARENA_MAX, static_cast<int>(std::max(1u, cores)));
}

}  // namespace imgpipe::cli
