// libvips loaded on first use. Debian builds libvips against ~100 shared libraries (librsvg,
// cairo, pango, poppler's, HDF5, OpenEXR, libcurl …); linked, they cost every process ~25 ms
// of dynamic loading before main(), half of a small job's whole run. libimgpipe reads JPEG and
// writes JPEG, PNG and WebP itself, so a process that stays with those never needs libvips:
// it links only lazy_vips.S's trampolines, and the first call to a libvips function loads the
// library (IMGPIPE_VIPS_SONAME, found at configure time) and fills every trampoline's slot.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

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

// Nothing is left to return to when libvips cannot be loaded: the caller's libvips function
// has no way to fail in its signature. An installation without libvips is broken; say so.
[[noreturn]] void fail(const char* what, const char* detail) {
  std::fprintf(stderr,
               "imgpipe: %s: %s (libvips is needed for every format but JPEG input and JPEG, PNG and "
               "WebP output, for ICC and CMYK conversion, streaming and text)\n",
               what, detail ? detail : "unknown error");
  std::abort();
}

}  // namespace

void imgpipe_vips_resolve() {
  static std::once_flag once;
  std::call_once(once, [] {
    void* library = dlopen(IMGPIPE_VIPS_SONAME, RTLD_NOW | RTLD_GLOBAL);
    if (!library) fail("cannot load " IMGPIPE_VIPS_SONAME, dlerror());
    void* resolved[std::size(kNames)];
    for (std::size_t i = 0; i < std::size(kNames); ++i) {
      resolved[i] = dlsym(library, kNames[i]);
      if (!resolved[i]) fail(kNames[i], dlerror());
    }
    // Slots are written only here, once, before any caller jumps through them (call_once
    // orders the writes before every other caller's return from it).
    for (std::size_t i = 0; i < std::size(kNames); ++i) imgpipe_vips_slots[i] = resolved[i];
  });
}
