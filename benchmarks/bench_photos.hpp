#pragma once
// The benchmark photos (benchmarks/PHOTOS.md), shared by the Google Benchmark programs.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace imgpipe::bench {

// A benchmark photo: in $IMGPIPE_BENCH_PHOTOS, else in the folder CMake was given
// (build/bench-photos by default). Exits with a message when it is missing.
inline std::string bench_photo(const char* name) {
  const char* folder = std::getenv("IMGPIPE_BENCH_PHOTOS");
  const std::string path = std::string(folder && *folder ? folder : IMGPIPE_BENCH_PHOTOS) + "/" + name;
  if (!std::filesystem::exists(path)) {
    std::fprintf(stderr, "no %s: benchmarks/fetch_photos.sh fetches the photos (benchmarks/PHOTOS.md)\n",
                 path.c_str());
    std::exit(2);
  }
  return path;
}

}  // namespace imgpipe::bench
