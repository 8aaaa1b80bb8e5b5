// libvips loaded on first use. Debian builds libvips against ~100 shared libraries (librsvg,
// cairo, pango, poppler's, HDF5, OpenEXR, libcurl …); linked, they cost every process ~25 ms
// of dynamic loading before main(), half of a small job's whole run. libimgpipe reads and
// writes JPEG, PNG and WebP itself, so a process that stays with those never needs libvips:
// it links only lazy_vips.S's trampolines, and the first call to a libvips function loads the
// library (IMGPIPE_VIPS_SONAME, found at configure time, or IMGPIPE_VIPS_LIBRARY) and fills
// every trampoline's slot.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "vips.hpp"

extern "C" {
// lazy_vips.S: one slot per function of lazy_vips_symbols.inc, in its order.
__attribute__((visibility("hidden"))) extern void* imgpipe_vips_slots[];
__attribute__((visibility("hidden"))) void imgpipe_vips_resolve();
}

namespace {

#define IMGPIPE_LAZY_VIPS(name) #name,
constexpr const char* kNames[] = {
#include "lazy_vips_symbols.inc"
};
#undef IMGPIPE_LAZY_VIPS

struct Loaded {
  bool ok = false;
  std::string error;  // why not
};

// Loads libvips and fills every slot, once per process (a function-local static: the slots
// are written before any caller returns from here).
const Loaded& load_once() {
  static const Loaded loaded = [] {
    Loaded result;
    const char* chosen = std::getenv("IMGPIPE_VIPS_LIBRARY");
    const std::string file = chosen && *chosen ? chosen : IMGPIPE_VIPS_SONAME;
    if (file == "none") {
      result.error = "IMGPIPE_VIPS_LIBRARY=none";
      return result;
    }
    void* library = dlopen(file.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!library) {
      const char* error = dlerror();
      result.error = error ? error : "cannot load " + file;
      return result;
    }
    void* resolved[std::size(kNames)];
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      resolved[i] = dlsym(library, kNames[i]);
      if (!resolved[i]) {
        result.error = file + " has no " + kNames[i];
        return result;
      }
    }
    for (std::size_t i = 0; i < std::size(kNames); ++i) imgpipe_vips_slots[i] = resolved[i];
    result.ok = true;
    return result;
  }();
  return loaded;
}

}  // namespace

// Called by a trampoline whose slot is not filled yet. Every libimgpipe path into libvips
// asks ensure_vips() first, which reports a libvips that cannot be loaded as an Error; a call
// that got here without it has nothing to return to (its libvips function has no way to fail
// in its signature), so the process stops with the reason.
void imgpipe_vips_resolve() {
  const Loaded& loaded = load_once();
  if (loaded.ok) return;
  std::fprintf(stderr, "imgpipe: libvips cannot be loaded: %s\n", loaded.error.c_str());
  std::abort();
}

namespace imgpipe::detail {

bool vips_loadable(std::string* why) {
  const Loaded& loaded = load_once();
  if (!loaded.ok && why) *why = loaded.error;
  return loaded.ok;
}

}  // namespace imgpipe::detail
