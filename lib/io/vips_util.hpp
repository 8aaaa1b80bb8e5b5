#pragma once
// Small RAII helpers around the libvips C API (the C++ binding would add a second copy of
// every operation's argument handling for the few calls we make).

#include <cstdint>
#include <filesystem>
#include <string>

#include <vips/vips.h>

namespace imgpipe {
struct SaveOptions;
struct Limits;
}

namespace imgpipe::detail {

// The TIFF compression SaveOptions names; Error(config) for an unknown one, Error(unsupported)
// for JPEG compression of 16-bit pixels.
VipsForeignTiffCompression tiff_compression(const SaveOptions& options, bool sixteen_bit);

// Starts libvips once per process. Thread-safe. Disables libvips's operation cache, which
// would otherwise keep decoded images alive between calls.
void ensure_vips();

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

// The text of libvips's error buffer (trimmed, lines joined), then clears it; `fallback`
// when the buffer is empty (some decoders only log a warning before failing).
std::string take_vips_error(const char* fallback = "unknown libvips error");

// The checks load() makes of an input file before opening it (exists, not a folder, not empty,
// within Limits::max_file_bytes); its size. Errors name the file as `name`.
std::uint64_t check_image_file(const std::filesystem::path& path, const std::string& name, const Limits& limits);

// Whatever was decoded as 8- or 16-bit sRGB or grey, alpha kept (ICC and CMYK through the
// embedded or built-in profile, other colour spaces converted), as lazy libvips operations.
VipsRef to_srgb(VipsRef image, const std::string& name);

}  // namespace imgpipe::detail
