#pragma once
// `imgpipe serve`: the HTTP service (docs/serve.md). Every request goes through the job runner
// (imgpipe::Job) and is admitted by a concurrency limit and the memory governor.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <imgpipe/chain.hpp>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

namespace imgpipe::cli {

// A setting given as a flag or variable, applied on top of every chain file's as `run` applies
// its flags: `key` is its place in a chain file ("performance.max_pixels").
struct ServeSetting {
  std::string key, value, origin;
};

struct ServeOptions {
  std::filesystem::path chains;  // the folder of *.yaml / *.yml chain files
  std::string host = "127.0.0.1";
  int port = 8080;
  FileAccess access;                           // what the folder's chains may read
  std::vector<std::filesystem::path> allowed;  // what inline chains may read (--allow-path)
  bool allow_inline = false;
  std::vector<ServeSetting> settings;
  std::uint64_t max_memory = 0;  // the whole service's budget, analysis cache included
  int max_concurrent = 0;        // requests processed at once; 0 = cores
  std::uint64_t max_body = 100ull << 20;
  std::chrono::milliseconds timeout{60'000};        // per request, from its arrival
  std::chrono::milliseconds queue_timeout{10'000};  // waiting for a slot or for memory, then 503
  std::chrono::milliseconds shutdown_timeout{8'000};
  std::uint64_t analysis_cache = 256ull << 20;  // bytes, within max_memory; 0 = off
  std::optional<std::filesystem::path> cache_dir;
  std::uint64_t cache_max_bytes = 0;
  bool quiet = false, verbose = false;
};

// Loads and checks every chain (Error(config) naming file:line:col), binds, then serves until
// `stop` is requested: it then stops accepting, lets the requests in flight finish within
// shutdown_timeout (after which, or on `abort`, they are cancelled at their next step) and
// returns 0. Built as the plugin kServePlugin (beside libimgpipe), whose kServeSymbol is this
// function, so that only `imgpipe serve` loads cpp-httplib and OpenSSL.
int serve(const ServeOptions& options, std::stop_token stop, std::stop_token abort);

using ServeFunction = int (*)(const ServeOptions&, std::stop_token, std::stop_token);
inline constexpr const char* kServePlugin = "libimgpipe_serve.so";
inline constexpr const char* kServeSymbol = "imgpipe_serve";

}  // namespace imgpipe::cli
