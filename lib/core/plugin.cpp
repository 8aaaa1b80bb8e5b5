#include "plugin.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>

namespace imgpipe::detail {

namespace {
const int kAnchor = 0;  // an object inside libimgpipe, for dladdr
}  // namespace

void* Plugin::symbol(const char* name) {
  if (!handle) return nullptr;
  void* address = dlsym(handle, name);
  if (!address) problem = fmt::format("{} has no {}", path, name);
  return address;
}

Plugin load_plugin(const char* file_name) {
  std::filesystem::path folder;
  if (const char* env = std::getenv("IMGPIPE_PLUGIN_DIR"); env && *env) {
    folder = env;
  } else {
    Dl_info info{};
    if (dladdr(&kAnchor, &info) && info.dli_fname)
      folder = std::filesystem::path(info.dli_fname).parent_path();
  }
  Plugin plugin;
  plugin.path = (folder / file_name).string();
  plugin.handle = dlopen(plugin.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!plugin.handle) plugin.problem = fmt::format("cannot load {}", dlerror());  // dlerror() names the file
  return plugin;
}

}  // namespace imgpipe::detail
