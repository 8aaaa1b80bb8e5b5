#pragma once
// Small RAII helpers around the libvips C API (the C++ binding would add a second copy of
// every operation's argument handling for the few calls we make).

#include <string>

#include <vips/vips.h>

namespace imgpipe::detail {

// Starts libvips once per process. Thread-safe. Disables libvips's operation cache, which
// would otherwise keep decoded images alive between calls.
void ensure_vips();

// Owns one reference to a VipsImage.
class VipsRef {
 public:
  VipsRef() = default;
  explicit VipsRef(VipsImage* image) : image_(image) {}
  VipsRef(const VipsRef&) = delete;
  VipsRef& operator=(const VipsRef&) = delete;
  VipsRef(VipsRef&& other) noexcept : image_(other.image_) { other.image_ = nullptr; }
  VipsRef& operator=(VipsRef&& other) noexcept {
    if (this != &other) {
      reset();
      image_ = other.image_;
      other.image_ = nullptr;
    }
    return *this;
  }
  ~VipsRef() { reset(); }

  VipsImage* get() const noexcept { return image_; }
  VipsImage** out() noexcept {
    reset();
    return &image_;
  }
  explicit operator bool() const noexcept { return image_ != nullptr; }
  void reset() noexcept {
    if (image_) g_object_unref(image_);
    image_ = nullptr;
  }

 private:
  VipsImage* image_ = nullptr;
};

// The text of libvips's error buffer (trimmed, lines joined), then clears it.
std::string take_vips_error();

}  // namespace imgpipe::detail
