// `imgpipe serve --chains DIR`: the flags, their IMGPIPE_* variables and the settings file,
// turned into ServeOptions. Precedence as everywhere: flag > variable > settings file > default.

#include "serve_command.hpp"

#include <dlfcn.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <map>
#include <memory>
#include <thread>

#include "process_tuning.hpp"
#include "server.hpp"
#include "signals.hpp"

namespace imgpipe::cli {

namespace fs = std::filesystem;

namespace {

struct ServeArgs {
  std::string chains, listen, max_memory, max_body = "100MB", analysis_cache = "256MB", settings_file;
  std::optional<std::string> cache;
  int max_concurrent = 0;
  double timeout = 60, queue_timeout = 10, shutdown_timeout = 8;
  bool allow_inline = false, untrusted = false;
  std::vector<std::string> allow_paths;
  // Chain-file settings applied on top of every chain: flag → its place in a chain file.
  std::map<std::string, std::optional<std::string>> chain_settings;
};

// The chain-file settings the service takes as flags: (flag, key, help).
struct ChainSetting {
  const char* flag;
  const char* key;
  const char* help;
};
constexpr ChainSetting kChainSettings[] = {
    {"--max-pixels", "performance.max_pixels", "Refuse images with more pixels (HTTP 422)"},
    {"--preset", "performance.quality", "Quality preset: ultra, high, balanced, fast, draft"},
    {"--threads", "performance.threads", "Worker threads of one request (0 = all cores)"},
    {"--formats", "performance.formats", "Input formats read, e.g. \"jpeg,png,webp\" (docs/security.md)"},
};

std::uint64_t byte_size(const std::string& text, std::string_view origin) {
  const auto bytes = parse_byte_size(text);
  if (!bytes)
    throw Error(ErrorCategory::config,
                fmt::format("{}: expected a size such as 512MB or 2GB, got \"{}\"", origin, text));
  return *bytes;
}

std::chrono::milliseconds seconds(double value) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(value * 1000));
}

// "HOST:PORT", ":PORT" or "PORT"; with neither flag nor variable, $PORT (as Cloud Run sets it:
// every address of the container) or 127.0.0.1:8080.
std::pair<std::string, int> listen_address(const std::string& given) {
  std::string text = given;
  std::string host = "127.0.0.1";
  std::string_view origin = "--listen";
  if (text.empty()) {
    const char* port = std::getenv("PORT");
    if (!port || !*port) return {host, 8080};
    text = std::string("0.0.0.0:") + port;
    origin = "PORT";
  }
  const auto colon = text.rfind(':');
  if (colon != std::string::npos) {
    host = text.substr(0, colon);
    if (host.empty()) host = "0.0.0.0";
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = colon == std::string::npos ? text : text.substr(colon + 1);
  int port = -1;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
    throw Error(
        ErrorCategory::config,
        fmt::format("{}: expected HOST:PORT such as 127.0.0.1:8080 (port 0 picks a free one), got \"{}\"",
                    origin, text));
  return {host, port};
}

// The `serve:` section of a settings file: each key is a flag's long name with '_' for '-'
// (max_memory: 2GB, allow_path: [/srv/palettes]); flags and variables given win.
void apply_settings_file(CLI::App& cmd, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    throw Error(ErrorCategory::io, fmt::format("{}: cannot read the settings file", path));
  } catch (const YAML::Exception& e) {
    throw Error(ErrorCategory::config,
                fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  const YAML::Node section = root.IsMap() ? root["serve"] : YAML::Node();
  if (!section || !section.IsMap())
    throw Error(ErrorCategory::config,
                fmt::format("{}: expected a map named serve:, such as serve: {{max_memory: 2GB}}", path));
  for (const auto& entry : section) {
    const auto where = [&](const YAML::Node& node) {
      return fmt::format("{}:{}:{}", path, node.Mark().line + 1, node.Mark().column + 1);
    };
    std::string flag = "--" + entry.first.as<std::string>();
    std::replace(flag.begin(), flag.end(), '_', '-');
    CLI::Option* option = flag == "--settings" ? nullptr : cmd.get_option_no_throw(flag);
    if (!option)
      throw Error(ErrorCategory::config, fmt::format("{}: serve has no setting {} (see imgpipe serve --help)",
                                                     where(entry.first), entry.first.as<std::string>()));
    if (option->count() > 0) continue;  // given as a flag or variable
    std::vector<std::string> values;
    if (entry.second.IsSequence())
      for (const auto& v : entry.second) values.push_back(v.as<std::string>());
    else if (entry.second.IsScalar())
      values.push_back(entry.second.as<std::string>());
    else
      throw Error(ErrorCategory::config, fmt::format("{}: expected a value or a list", where(entry.second)));
    try {
      for (const auto& v : values) option->add_result(option->get_type_size() == 0 && v == "false" ? "0" : v);
      option->run_callback();
    } catch (const CLI::Error& e) {
      throw Error(ErrorCategory::config, fmt::format("{}: {}", where(entry.second), e.what()));
    }
  }
}

// The server: linked in (a static libimgpipe), or the plugin beside libimgpipe (or in
// IMGPIPE_PLUGIN_DIR), loaded now so that no other command pays for cpp-httplib and OpenSSL.
ServeFunction load_server() {
#ifdef IMGPIPE_SERVE_BUILTIN
  return &serve;
#else
  fs::path folder;
  if (const char* env = std::getenv("IMGPIPE_PLUGIN_DIR"); env && *env) {
    folder = env;
  } else {
    Dl_info info{};
    const auto anchor = &imgpipe::version;  // a function of libimgpipe: where it was loaded from
    void* address = nullptr;
    std::memcpy(&address, &anchor, sizeof address);
    if (dladdr(address, &info) && info.dli_fname) folder = fs::path(info.dli_fname).parent_path();
  }
  const fs::path path = folder / kServePlugin;
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw Error(
        ErrorCategory::unsupported,
        fmt::format("serve needs its plugin: cannot load {}: {} (set IMGPIPE_PLUGIN_DIR to its folder)",
                    path.string(), dlerror()));
  void* symbol = dlsym(handle, kServeSymbol);
  if (!symbol)
    throw Error(ErrorCategory::unsupported, fmt::format("{} has no {}", path.string(), kServeSymbol));
  ServeFunction function = nullptr;
  std::memcpy(&function, &symbol, sizeof function);  // object to function pointer, as POSIX allows
  return function;
#endif
}

int run_serve(const ServeArgs& a, bool quiet, bool verbose) {
  ServeOptions o;
  o.chains = a.chains;
  std::tie(o.host, o.port) = listen_address(a.listen);
  o.access = file_access_from_environment();
  o.access.untrusted = o.access.untrusted || a.untrusted;
  o.allowed.assign(a.allow_paths.begin(), a.allow_paths.end());
  o.allow_inline = a.allow_inline;
  for (const auto& s : kChainSettings)
    if (const auto& value = a.chain_settings.at(s.flag)) o.settings.push_back({s.key, *value, s.flag});
  if (!a.max_memory.empty()) o.max_memory = byte_size(a.max_memory, "--max-memory");
  o.max_concurrent = a.max_concurrent;
  o.max_body = byte_size(a.max_body, "--max-body");
  o.analysis_cache = byte_size(a.analysis_cache, "--analysis-cache");
  o.timeout = seconds(a.timeout);
  o.queue_timeout = seconds(a.queue_timeout);
  o.shutdown_timeout = seconds(a.shutdown_timeout);
  if (a.cache) {
    o.cache_dir = *a.cache;
    o.cache_max_bytes = ResultCache::kDefaultMaxBytes;
  }
  o.quiet = quiet;
  o.verbose = verbose;
  // Requests allocate and free image-sized buffers all the time: kept in the heap they are not
  // faulted in anew for every request (process_tuning.hpp).
  keep_freed_memory(32 << 20);
  limit_arenas(std::thread::hardware_concurrency());
  // SIGTERM (Cloud Run's, before its SIGKILL 10 s later) or SIGINT: stop accepting and finish
  // what is in flight; a second one cancels it. Made before any thread, so every thread the
  // server starts leaves the signals to the watcher.
  SignalWatcher signals(SignalWatcher::Reaction::stop_then_abort, "requests");
  return load_server()(o, signals.stop(), signals.abort());
}

}  // namespace

void add_serve_command(CLI::App& app, std::function<int()>& run) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve the chains of a folder over HTTP: POST an image, get the result (docs/serve.md)");
  cmd->add_option("--chains", a->chains,
                  "Folder of chain files (*.yaml); each is POST /v1/chains/<file stem>")
      ->required()
      ->envname("IMGPIPE_CHAINS")
      ->type_name("DIR");
  cmd->add_option("--listen", a->listen,
                  "Address to listen on (default 127.0.0.1:8080, or 0.0.0.0:$PORT when PORT is set)")
      ->envname("IMGPIPE_LISTEN")
      ->type_name("HOST:PORT");
  cmd->add_option(
         "--max-memory", a->max_memory,
         "Memory budget of all requests together, analysis cache included (default: half the container's "
         "or machine's memory)")
      ->envname("IMGPIPE_MAX_MEMORY")
      ->type_name("SIZE");
  cmd->add_option("--max-concurrent", a->max_concurrent, "Requests processed at once (0 = one per core)")
      ->envname("IMGPIPE_MAX_CONCURRENT")
      ->check(CLI::Range(0, 4096));
  cmd->add_option("--max-body", a->max_body, "Largest request body; larger ones get 413")
      ->envname("IMGPIPE_MAX_BODY")
      ->type_name("SIZE")
      ->capture_default_str();
  cmd->add_option("--timeout", a->timeout, "Seconds a request may take from its arrival; then 504")
      ->envname("IMGPIPE_TIMEOUT")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--queue-timeout", a->queue_timeout,
                  "Seconds a request may wait for a worker or for memory; then 503 with Retry-After")
      ->envname("IMGPIPE_QUEUE_TIMEOUT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--shutdown-timeout", a->shutdown_timeout,
                  "Seconds the requests in flight get to finish after SIGTERM; then they are cancelled")
      ->envname("IMGPIPE_SHUTDOWN_TIMEOUT")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--analysis-cache", a->analysis_cache,
                  "Memory for clusterings kept by image content, so the same photo with other palettes skips "
                  "the clustering (0 = off; at most a quarter of --max-memory)")
      ->envname("IMGPIPE_ANALYSIS_CACHE")
      ->type_name("SIZE")
      ->capture_default_str();
  cmd->add_option("--cache", a->cache,
                  "Keep results in this folder, keyed by content (default: nothing written)")
      ->envname("IMGPIPE_CACHE")
      ->type_name("DIR");
  cmd->add_flag("--allow-inline-chains", a->allow_inline,
                "Accept chains in requests (POST /v1/run); they read only files under --allow-path folders");
  cmd->add_option("--allow-path", a->allow_paths, "A folder whose files inline chains may read; repeatable")
      ->type_name("DIR");
  cmd->add_flag("--untrusted", a->untrusted,
                "Treat the folder's chains as untrusted too: they read files under IMGPIPE_ALLOW_PATHS only");
  for (const auto& s : kChainSettings) cmd->add_option(s.flag, a->chain_settings[s.flag], s.help);
  cmd->add_option("--settings", a->settings_file,
                  "YAML file whose serve: section gives any of these settings (max_memory: 2GB, ...)")
      ->type_name("FILE");
  cmd->footer(
      "Examples:\n  imgpipe serve --chains chains/\n"
      "  curl --data-binary @photo.jpg localhost:8080/v1/chains/web -o out.webp\n"
      "  curl -F image=@photo.jpg -F palettes=@examples/palettes.json 'localhost:8080/v1/palette?k=8'\n"
      "  PORT=8080 imgpipe serve --chains /chains --max-memory 1GB   # Cloud Run");
  cmd->callback([a, cmd, &app, &run] {
    const bool quiet = app.get_option("--quiet")->as<bool>();
    const bool verbose = app.get_option("--verbose")->as<bool>();
    run = [a, cmd, quiet, verbose] {
      if (!a->settings_file.empty()) apply_settings_file(*cmd, a->settings_file);
      return run_serve(*a, quiet, verbose);
    };
  });
}

}  // namespace imgpipe::cli
