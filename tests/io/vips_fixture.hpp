#pragma once
// Test fixtures made and inspected with the libvips C API directly, independently of
// imgpipe's own loader and encoders: images written with chosen metadata (orientation, ICC,
// CMYK), reference decodes, and byte-level readers for the PNG, TIFF, JPEG and EXIF fields
// the tests check.

#include <vips/vips.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace imgpipe::test::vipsfx {

struct Unref {
  void operator()(VipsImage* image) const {
    if (image) g_object_unref(image);
  }
};
using VipsPtr = std::unique_ptr<VipsImage, Unref>;

inline void start() {
  static const bool ok = VIPS_INIT("imgpipe-tests") == 0;
  if (!ok) throw std::runtime_error("libvips failed to start");
}

[[noreturn]] inline void fail(const std::string& what) {
  std::string text = what + ": " + vips_error_buffer();
  vips_error_clear();
  throw std::runtime_error(text);
}

inline VipsPtr check(VipsImage* image, const std::string& what) {
  if (!image) fail(what);
  return VipsPtr(image);
}

// A libvips image holding a copy of the Mat (RGB(A) or grey(+alpha), 8 or 16 bit).
inline VipsPtr from_mat(const cv::Mat& mat) {
  start();
  const cv::Mat continuous = mat.isContinuous() ? mat : mat.clone();
  const bool sixteen = mat.depth() == CV_16U;
  VipsPtr image = check(vips_image_new_from_memory_copy(
                            continuous.data, continuous.total() * continuous.elemSize(), mat.cols, mat.rows,
                            mat.channels(), sixteen ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR),
                        "new_from_memory_copy");
  const bool colour = mat.channels() >= 3;
  image->Type = colour ? (sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB)
                       : (sixteen ? VIPS_INTERPRETATION_GREY16 : VIPS_INTERPRETATION_B_W);
  return image;
}

// The samples exactly as libvips holds them (no colour conversion, no rotation).
inline cv::Mat to_mat(VipsImage* image) {
  std::size_t size = 0;
  void* data = vips_image_write_to_memory(image, &size);
  if (!data) fail("write_to_memory");
  const VipsBandFormat format = vips_image_get_format(image);
  if (format != VIPS_FORMAT_UCHAR && format != VIPS_FORMAT_USHORT) {
    g_free(data);
    throw std::runtime_error("to_mat: only 8- and 16-bit images");
  }
  const int depth = format == VIPS_FORMAT_USHORT ? CV_16U : CV_8U;
  cv::Mat out = cv::Mat(vips_image_get_height(image), vips_image_get_width(image),
                        CV_MAKETYPE(depth, vips_image_get_bands(image)), data)
                    .clone();
  g_free(data);
  return out;
}

inline VipsPtr read(const std::filesystem::path& path) {
  start();
  return check(vips_image_new_from_file(path.c_str(), nullptr), "read " + path.string());
}

inline VipsPtr read_buffer(const std::vector<std::uint8_t>& bytes) {
  start();
  return check(vips_image_new_from_buffer(bytes.data(), bytes.size(), "", nullptr), "read buffer");
}

// Saves by the path's suffix, which may carry libvips save options ("out.jpg[Q=95]").
inline void write(VipsImage* image, const std::filesystem::path& path) {
  if (vips_image_write_to_file(image, path.c_str(), nullptr) != 0) fail("write " + path.string());
}

inline void write(const cv::Mat& mat, const std::filesystem::path& path) {
  write(from_mat(mat).get(), path);
}

inline VipsPtr icc_transform(VipsImage* image, const char* profile, int depth = 8) {
  VipsImage* out = nullptr;
  if (vips_icc_transform(image, &out, profile, "embedded", TRUE, "depth", depth, nullptr) != 0)
    fail(std::string("icc_transform to ") + profile);
  return VipsPtr(out);
}

inline std::vector<std::uint8_t> blob(VipsImage* image, const char* field) {
  if (!vips_image_get_typeof(image, field)) return {};
  const void* data = nullptr;
  std::size_t size = 0;
  if (vips_image_get_blob(image, field, &data, &size) != 0) fail(std::string("get ") + field);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  return {bytes, bytes + size};
}

// libvips's built-in Display P3 profile, as it embeds it in an image converted to "p3".
inline std::vector<std::uint8_t> p3_profile() {
  VipsPtr converted = icc_transform(from_mat(cv::Mat(4, 4, CV_8UC3, cv::Scalar(10, 120, 200))).get(), "p3");
  return blob(converted.get(), VIPS_META_ICC_NAME);
}

// A minimal EXIF block ("Exif\0\0" + little-endian TIFF, IFD0 only) with an orientation
// tag and, when given, a Make tag, built by hand from the EXIF 2.3 layout.
inline std::vector<std::uint8_t> make_exif(int orientation, const std::string& make = "") {
  std::vector<std::uint8_t> out = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0};
  auto put16 = [&](std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
  };
  auto put32 = [&](std::uint32_t v) {
    put16(v & 0xffff);
    put16(v >> 16);
  };
  const std::uint32_t entries = make.empty() ? 1 : 2;
  const std::uint32_t data_offset = 8 + 2 + 12 * entries + 4;  // relative to the TIFF header
  put16(entries);
  if (!make.empty()) {  // tags in ascending order: Make (0x010f) before Orientation (0x0112)
    put16(0x010f);
    put16(2);  // ASCII
    put32(static_cast<std::uint32_t>(make.size() + 1));
    put32(data_offset);
  }
  put16(0x0112);
  put16(3);  // SHORT
  put32(1);
  put16(static_cast<std::uint32_t>(orientation));
  put16(0);
  put32(0);  // no next IFD
  for (char c : make) out.push_back(static_cast<std::uint8_t>(c));
  if (!make.empty()) out.push_back(0);
  return out;
}

// Writes a Mat with libvips, tagged with an EXIF orientation (field and EXIF block both,
// so every saver that writes EXIF writes the tag).
inline void write_oriented(const cv::Mat& stored, int orientation, const std::filesystem::path& path) {
  VipsPtr image = from_mat(stored);
  const auto exif = make_exif(orientation);
  vips_image_set_blob_copy(image.get(), VIPS_META_EXIF_NAME, exif.data(), exif.size());
  vips_image_set_int(image.get(), VIPS_META_ORIENTATION, orientation);
  write(image.get(), path);
}

// ---- byte-level readers, written from the format specifications ----

inline std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

struct PngHeader {
  std::uint32_t width = 0, height = 0;
  int bit_depth = 0;
  int colour_type = -1;  // 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA
};

// IHDR is the first chunk: 8-byte signature, length, "IHDR", width, height, depth, type.
inline PngHeader png_header(const std::vector<std::uint8_t>& png) {
  PngHeader h;
  if (png.size() < 33 || std::memcmp(png.data() + 12, "IHDR", 4) != 0) return h;
  h.width = be32(png.data() + 16);
  h.height = be32(png.data() + 20);
  h.bit_depth = png[24];
  h.colour_type = png[25];
  return h;
}

inline bool png_has_chunk(const std::vector<std::uint8_t>& png, const char* type) {
  for (std::size_t at = 8; at + 12 <= png.size();) {
    const std::uint32_t length = be32(png.data() + at);
    if (std::memcmp(png.data() + at + 4, type, 4) == 0) return true;
    at += 12 + static_cast<std::size_t>(length);
  }
  return false;
}

// Reads an unsigned value of IFD0 in a TIFF structure (a TIFF file, or an EXIF block with
// or without its "Exif\0\0" prefix). Only SHORT and LONG values stored inline.
inline std::optional<std::uint32_t> tiff_tag(const std::vector<std::uint8_t>& data, std::uint16_t tag) {
  std::size_t base = data.size() >= 6 && std::memcmp(data.data(), "Exif\0\0", 6) == 0 ? 6 : 0;
  if (data.size() < base + 8) return std::nullopt;
  const bool little = data[base] == 'I';
  auto u16 = [&](std::size_t at) -> std::uint32_t {
    return little ? data[at] | std::uint32_t{data[at + 1]} << 8 : std::uint32_t{data[at]} << 8 | data[at + 1];
  };
  auto u32 = [&](std::size_t at) {
    return little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2);
  };
  const std::size_t ifd = base + u32(base + 4);
  if (ifd + 2 > data.size()) return std::nullopt;
  for (std::uint32_t i = 0, n = u16(ifd); i < n; ++i) {
    const std::size_t entry = ifd + 2 + i * 12;
    if (entry + 12 > data.size()) return std::nullopt;
    if (u16(entry) != tag) continue;
    const std::uint32_t type = u16(entry + 2);
    if (type == 3) return u16(entry + 8);
    if (type == 4) return u32(entry + 8);
    return std::nullopt;
  }
  return std::nullopt;
}

inline bool contains(const std::vector<std::uint8_t>& bytes, const std::string& needle) {
  return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end(),
                     [](std::uint8_t b, char c) { return b == static_cast<std::uint8_t>(c); }) != bytes.end();
}

}  // namespace imgpipe::test::vipsfx
