#pragma once
// The libvips adapter, a module of its own below io: starting libvips, RAII references to its
// objects and its error buffer as text. (The C++ binding would add a second copy of every
// operation's argument handling for the few calls we make.)

#include <vips/vips.h>

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe::detail {

// Starts libvips once per process. Thread-safe. Disables libvips's operation cache, which
// would otherwise keep decoded images alive between calls. Throws Error(unsupported), its
// message beginning with `context` when given ("<context>: ..."), when libvips cannot be
// loaded (vips_loadable).
void ensure_vips(std::string_view context = {});

// Whether libvips can be used in this process: always where libimgpipe links it; where it is
// loaded on first use (IMGPIPE_LAZY_VIPS, vips/lazy_vips.cpp), whether loading it worked. The
// environment variable IMGPIPE_VIPS_LIBRARY names another file to load instead (a libvips
// built without GPL parts, say), or "none": JPEG, PNG and WebP then work without it. `why`
// gets the reason when it cannot be used.
bool vips_loadable(std::string* why = nullptr);

// Owns one reference to a libvips object (VipsImage, VipsSource).
template <class T>
class GRef {
 public:
  GRef() = default;
  explicit GRef(T* object) : object_(object) {}
  GRef(const GRef&) = delete;
  GRef& operator=(const GRef&) = delete;
  GRef(GRef&& other) noexcept : object_(other.object_) { other.object_ = nullptr; }
  GRef& operator=(GRef&& other) noexcept {
    if (this != &other) {
      reset();
      object_ = other.object_;
      other.object_ = nullptr;
    }
    return *this;
  }
  ~GRef() { reset(); }

  T* get() const noexcept { return object_; }
  T** out() noexcept {
    reset();
    return &object_;
  }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  void reset() noexcept {
    if (object_) g_object_unref(object_);
    object_ = nullptr;
  }

 private:
  T* object_ = nullptr;
};

using VipsRef = GRef<VipsImage>;
using VipsSourceRef = GRef<VipsSource>;

// The blob `field` of an image (EXIF, ICC), or nothing when it has none.
std::vector<std::uint8_t> get_blob(VipsImage* image, const char* field);

// Computes an 8- or 16-bit image into a new cv::Mat of its size and bands, libvips writing
// straight into the Mat's buffer (no second copy). An empty Mat when libvips fails; its error
// buffer says why.
cv::Mat compute_pixels(VipsImage* image);

// The text of libvips's error buffer (trimmed, lines joined), then clears it; `fallback`
// when the buffer is empty (some decoders only log a warning before failing).
std::string take_vips_error(const char* fallback = "unknown libvips error");

}  // namespace imgpipe::detail
