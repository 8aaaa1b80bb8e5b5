// Decoding: header checks before pixels, shrink-on-load, ICC/CMYK to sRGB, EXIF orientation,
// failure on truncated or corrupt data. 8-bit grey, YCbCr and RGB JPEGs through libjpeg-turbo
// directly (jpeg_decode.hpp), PNG and still WebP through libpng and libwebp directly
// (direct_decode.hpp), everything else through libvips.

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <iterator>
#include <mutex>
#include <opencv2/core.hpp>
#include <optional>
#include <set>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../core/orientation.hpp"
#include "atomic_file.hpp"
#include "direct_decode.hpp"
#include "exif.hpp"
#include "icc.hpp"
#include "jpeg_decode.hpp"
#include "metadata.hpp"
#include "vips_io.hpp"

namespace imgpipe {

namespace fs = std::filesystem;
using detail::VipsRef;

namespace {

// Where the bytes come from: a file, or memory that outlives the decode.
struct Source {
  std::string name;
  const fs::path* path = nullptr;
  std::span<const std::uint8_t> bytes;
  // An ImageFile's descriptor: every read goes through it (the file is opened once), each
  // reader from the start of the file and one at a time.
  int descriptor = -1;
};

[[noreturn]] void fail(ErrorCategory category, const Source& source, const std::string& what) {
  throw Error(category, fmt::format("{}: {}", source.name, what));
}

VipsFailOn to_vips(FailOn fail_on) {
  switch (fail_on) {
    case FailOn::none: return VIPS_FAIL_ON_NONE;
    case FailOn::truncated: return VIPS_FAIL_ON_TRUNCATED;
    case FailOn::error: return VIPS_FAIL_ON_ERROR;
    case FailOn::warning: return VIPS_FAIL_ON_WARNING;
  }
  return VIPS_FAIL_ON_WARNING;
}

std::uint64_t check_file(const Source& source, const Limits& limits) {
  if (!source.path) {
    if (source.bytes.empty()) fail(ErrorCategory::decode, source, "no data (0 bytes)");
    if (limits.max_file_bytes && source.bytes.size() > limits.max_file_bytes)
      fail(ErrorCategory::limit, source,
           fmt::format("{} bytes is over the limit of {} bytes", source.bytes.size(), limits.max_file_bytes));
    return source.bytes.size();
  }
  return detail::check_image_file(*source.path, source.name, limits);
}

// Reads a source at any offset: its bytes, its descriptor, or its file (opened once).
class SourceReader {
 public:
  explicit SourceReader(const Source& source) : source_(source) {
    if (source.bytes.empty() && source.descriptor < 0 && source.path) {
      owned_ = ::open(source.path->c_str(), O_RDONLY | O_CLOEXEC);
      if (owned_ < 0) fail(ErrorCategory::io, source, fmt::format("cannot open: {}", std::strerror(errno)));
    }
  }
  SourceReader(const SourceReader&) = delete;
  SourceReader& operator=(const SourceReader&) = delete;
  ~SourceReader() {
    if (owned_ >= 0) ::close(owned_);
  }

  std::size_t operator()(std::uint64_t offset, std::span<std::uint8_t> out) const {
    if (!source_.bytes.empty() || (source_.descriptor < 0 && owned_ < 0)) {
      if (offset >= source_.bytes.size()) return 0;
      const auto n = std::min<std::size_t>(out.size(), source_.bytes.size() - offset);
      std::memcpy(out.data(), source_.bytes.data() + offset, n);
      return n;
    }
    const int fd = owned_ >= 0 ? owned_ : source_.descriptor;
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(ErrorCategory::io, source_, fmt::format("read failed: {}", std::strerror(errno)));
      if (n == 0) break;
      done += static_cast<std::size_t>(n);
    }
    return done;
  }

 private:
  const Source& source_;
  int owned_ = -1;
};

// The first `count` bytes of a source (fewer when it is shorter).
std::vector<std::uint8_t> read_head(const Source& source, std::size_t count) {
  std::vector<std::uint8_t> head(count);
  head.resize(SourceReader(source)(0, head));
  return head;
}

// The source a decoder gets: `source` itself, or, when its metadata is over the limits, its
// bytes without what is over them, in `kept` (and a warning). `streaming` refuses instead: the
// file is read in one pass and cannot be rewritten on the way.
Source within_metadata_limits(const Source& source, std::uint64_t size, const Limits& limits,
                              std::vector<std::string>* warnings, std::vector<std::uint8_t>& kept,
                              bool streaming = false) {
  const SourceReader reader(source);
  const detail::ReadAt read = std::cref(reader);
  const detail::MetadataScan scan =
      detail::scan_metadata(read, size, limits.max_metadata_bytes, limits.max_metadata_segments);
  if (!scan.over()) return source;
  const std::string what = scan.describe(limits.max_metadata_bytes, limits.max_metadata_segments);
  if (streaming)
    fail(ErrorCategory::limit, source,
         fmt::format("{}; a streamed input cannot leave them out: run it in memory or raise the limits",
                     what));
  kept = detail::without_dropped(read, size, scan);
  if (warnings) warnings->push_back(fmt::format("{}: {}", source.name, what));
  return Source{source.name, nullptr, kept};
}

// Reads through a libvips source, file or memory alike. A file source takes the path as it
// is: libvips's file loaders would parse a name ending in "[...]" as load options.
detail::VipsSourceRef open_source(const Source& source) {
  detail::ensure_vips(source.name);
  if (source.descriptor >= 0) {
    if (::lseek(source.descriptor, 0, SEEK_SET) != 0)
      fail(ErrorCategory::io, source, fmt::format("cannot read: {}", std::strerror(errno)));
    detail::VipsSourceRef opened(vips_source_new_from_descriptor(source.descriptor));
    if (!opened) fail(ErrorCategory::io, source, detail::take_vips_error("cannot read"));
    return opened;
  }
  detail::VipsSourceRef opened(source.path
                                   ? vips_source_new_from_file(source.path->c_str())
                                   : vips_source_new_from_memory(source.bytes.data(), source.bytes.size()));
  if (!opened) fail(ErrorCategory::io, source, detail::take_vips_error("cannot open"));
  return opened;
}

std::string format_of_loader(std::string loader);

// ---- Which formats are read ------------------------------------------------------------

// Every format name a libvips loader can have ("<name>load", "<name>load_buffer", ...).
constexpr std::string_view kKnownFormats[] = {
    "jpeg", "png",    "webp", "tiff", "gif",     "svg",  "ppm", "rad", "vips",   "fits",      "analyze",
    "mat",  "matrix", "csv",  "jp2k", "openexr", "heif", "jxl", "pdf", "magick", "openslide", "raw"};

bool allows(const Limits& limits, std::string_view format) {
  return std::any_of(limits.formats.begin(), limits.formats.end(),
                     [&](const std::string& f) { return f == format || f == "all"; });
}

// libvips blocks the loaders it marks untrusted (imgpipe asks it to at start); a format that
// is allowed gets its loaders back, for the whole process, the first time it is asked for.
void unblock_allowed_loaders(const Limits& limits) {
  detail::ensure_vips();
  static std::mutex mutex;
  static std::set<std::string> done;
  for (const auto& format : limits.formats) {
    if (allows(Limits{}, format)) continue;  // read by default: libvips trusts their loaders
    std::lock_guard lock(mutex);
    if (!done.insert(format).second) continue;
    if (format == "all") {
      vips_block_untrusted_set(FALSE);
      continue;
    }
    for (const char* suffix : {"load", "load_buffer", "load_source"}) {
      const GType type = vips_type_find("VipsOperation", (format + suffix).c_str());
      if (type) vips_operation_block_set(g_type_name(type), FALSE);
    }
  }
}

// Files whose loader is blocked are not recognised at all; their first bytes say what they
// are, so that the message can say how to allow them.
std::optional<std::string> sniff_blocked_format(const Source& source) {
  const auto bytes = read_head(source, 64);
  const std::string head(bytes.begin(), bytes.end());
  const auto starts = [&](std::string_view magic) { return head.rfind(magic, 0) == 0; };
  if (head.size() >= 2 && head[0] == 'P' && std::strchr("123456fF", head[1])) return "ppm";
  if (starts("#?RADIANCE") || starts("#?RGBE")) return "rad";
  if (starts("\x08\xf2\xa6\xb6") || starts("\xb6\xa6\xf2\x08")) return "vips";
  if (starts("SIMPLE  =")) return "fits";
  if (starts("MATLAB")) return "mat";
  if (starts("%PDF")) return "pdf";
  // The JP2 signature box is 12 bytes (ISO 15444-1 I.5.1); it starts with NULs, hence the length.
  if (starts(std::string_view("\0\0\0\x0cjP  \r\n\x87\n", 12)) || starts("\xff\x4f\xff\x51")) return "jp2k";
  if (head.find("<svg") != std::string::npos) return "svg";
  return std::nullopt;
}

struct Loader {
  std::string name;         // libvips nickname: "jpegload_source", "magickload", ...
  bool from_source = true;  // false: a loader with only file and buffer forms (ImageMagick)
};

// The loader libvips picks, or a decode error; an error too when `limits` do not allow its
// format.
Loader find_loader(const Source& source, const Limits& limits) {
  detail::ensure_vips(source.name);
  unblock_allowed_loaders(limits);
  Loader loader;
  const char* found = vips_foreign_find_load_source(open_source(source).get());
  if (!found) {
    loader.from_source = false;
    found = source.path ? vips_foreign_find_load(source.path->c_str())
                        : vips_foreign_find_load_buffer(source.bytes.data(), source.bytes.size());
  }
  const auto refuse = [&](const std::string& format) {
    fail(ErrorCategory::unsupported, source,
         fmt::format(
             "the file is {}, a format read only when allowed (allowed: {}); allow it with formats: {} "
             "in the chain file's performance section, --formats or IMGPIPE_FORMATS (docs/security.md)",
             format, fmt::join(limits.formats, ", "), format));
  };
  if (!found) {
    detail::take_vips_error();
    if (auto blocked = sniff_blocked_format(source); blocked && !allows(limits, *blocked)) refuse(*blocked);
    fail(ErrorCategory::decode, source, "not a recognised image format");
  }
  // Class names such as "VipsForeignLoadJpegSource" → nickname "jpegload_source".
  GType type = g_type_from_name(found);
  const char* nick = type ? vips_nickname_find(type) : nullptr;
  loader.name = nick ? nick : found;
  if (const std::string format = format_of_loader(loader.name); !allows(limits, format)) refuse(format);
  return loader;
}

std::string format_of_loader(std::string loader) {
  for (const char* suffix : {"_buffer", "_source", "load"}) {
    auto pos = loader.rfind(suffix);
    if (pos != std::string::npos && pos + std::strlen(suffix) == loader.size()) loader.erase(pos);
  }
  return loader;
}

// Opens lazily: libvips reads the header now and pixels only when they are asked for.
VipsRef open(const Source& source, const Loader& loader, FailOn fail_on, int jpeg_shrink, double webp_scale) {
  VipsRef image;
  const auto access = VIPS_ACCESS_SEQUENTIAL;
  const auto fail_mode = to_vips(fail_on);
  int rc = 0;
  if (!loader.from_source) {
    *image.out() = source.path ? vips_image_new_from_file(source.path->c_str(), "access", access, "fail_on",
                                                          fail_mode, nullptr)
                               : vips_image_new_from_buffer(source.bytes.data(), source.bytes.size(), "",
                                                            "access", access, "fail_on", fail_mode, nullptr);
  } else {
    // Each image gets its own source: two loaders must not share one read position.
    detail::VipsSourceRef input = open_source(source);
    if (jpeg_shrink > 1 && loader.name.starts_with("jpegload"))
      rc = vips_jpegload_source(input.get(), image.out(), "access", access, "fail_on", fail_mode, "shrink",
                                jpeg_shrink, nullptr);
    else if (webp_scale < 1.0 && loader.name.starts_with("webpload"))
      rc = vips_webpload_source(input.get(), image.out(), "access", access, "fail_on", fail_mode, "scale",
                                webp_scale, nullptr);
    else
      *image.out() =
          vips_image_new_from_source(input.get(), "", "access", access, "fail_on", fail_mode, nullptr);
  }
  if (rc != 0 || !image)
    fail(ErrorCategory::decode, source, detail::take_vips_error("cannot read the image header"));
  return image;
}

int get_int(VipsImage* image, const char* field, int fallback) {
  int value = fallback;
  if (vips_image_get_typeof(image, field) && vips_image_get_int(image, field, &value) != 0) {
    detail::take_vips_error();
    return fallback;
  }
  return value;
}

int bits_of(VipsBandFormat format) {
  return static_cast<int>(vips_format_sizeof(format)) * 8;
}

ImageInfo info_of(VipsImage* image, const Source& source, const Loader& loader, std::uint64_t file_bytes) {
  ImageInfo info;
  info.source = source.name;
  info.format = format_of_loader(loader.name);
  info.width = vips_image_get_width(image);
  info.height = vips_image_get_height(image);
  info.bands = vips_image_get_bands(image);
  info.bit_depth = bits_of(vips_image_get_format(image));
  info.interpretation = vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(image));
  info.orientation = std::clamp(get_int(image, VIPS_META_ORIENTATION, 1), 1, 8);
  info.has_alpha = vips_image_hasalpha(image);
  info.has_icc = vips_image_get_typeof(image, VIPS_META_ICC_NAME) != 0;
  info.pages = std::max(1, get_int(image, VIPS_META_N_PAGES, 1));
  info.file_bytes = file_bytes;
  return info;
}

void check_pixels(std::uint64_t width, std::uint64_t height, const Source& source, const Limits& limits) {
  const std::uint64_t pixels = width * height;
  if (limits.max_input_pixels && pixels > limits.max_input_pixels)
    fail(ErrorCategory::limit, source,
         fmt::format("{}x{} = {} pixels is over the limit of {} pixels (raise it with "
                     "--max-pixels or IMGPIPE_MAX_PIXELS)",
                     width, height, pixels, limits.max_input_pixels));
}

void check_pixels(const ImageInfo& info, const Source& source, const Limits& limits) {
  check_pixels(static_cast<std::uint64_t>(info.width), static_cast<std::uint64_t>(info.height), source,
               limits);
}

std::uint32_t big_endian(std::span<const std::uint8_t> bytes, std::size_t at, int length) {
  std::uint32_t value = 0;
  for (int i = 0; i < length; ++i) value = value << 8 | bytes[at + static_cast<std::size_t>(i)];
  return value;
}

// Width and height from a PNG's IHDR or a JPEG's SOF marker, read without the decoder.
// libpng and libjpeg read on towards the first pixel data before they report a size, so a
// file that claims an enormous size and then stops would fail as a decode error before the
// pixel limit could refuse it, and a decoder should never be handed such a header anyway.
std::optional<std::pair<std::uint64_t, std::uint64_t>> header_size(std::span<const std::uint8_t> head) {
  static constexpr std::uint8_t kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (head.size() >= 24 && std::memcmp(head.data(), kPngSignature, 8) == 0 &&
      std::memcmp(head.data() + 12, "IHDR", 4) == 0)
    return std::pair{std::uint64_t{big_endian(head, 16, 4)}, std::uint64_t{big_endian(head, 20, 4)}};
  if (head.size() < 4 || head[0] != 0xff || head[1] != 0xd8) return std::nullopt;
  // JPEG (ITU T.81 B.1.1): marker segments FF xx + 16-bit length until a start of frame
  // (C0..CF except DHT C4, JPG C8, DAC CC), which holds precision, height and width.
  for (std::size_t at = 2; at + 9 <= head.size();) {
    if (head[at] != 0xff) return std::nullopt;
    const std::uint8_t marker = head[at + 1];
    if (marker == 0xff) {  // fill byte
      ++at;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc)
      return std::pair{std::uint64_t{big_endian(head, at + 7, 2)},
                       std::uint64_t{big_endian(head, at + 5, 2)}};
    at += 2 + big_endian(head, at + 2, 2);
  }
  return std::nullopt;
}

// The pixel limit on the header as the file states it, before any decoder runs.
void check_header_pixels(const Source& source, const Limits& limits) {
  if (!limits.max_input_pixels) return;
  // Enough for the metadata segments a camera puts before a JPEG's frame header.
  constexpr std::size_t kHeadBytes = 128 * 1024;
  if (auto size = header_size(read_head(source, kHeadBytes)))
    check_pixels(size->first, size->second, source, limits);
}

// The largest JPEG DCT shrink (1, 2, 4, 8) that keeps the decoded size at least min.
// libvips's jpegload rounds the shrunk size down (101 px at 1/8 gives 12, not libjpeg's 13).
int jpeg_shrink_for(int width, int height, int min_width, int min_height) {
  int shrink = 1;
  for (int f : {2, 4, 8}) {
    int w = width / f, h = height / f;
    if (w >= min_width && h >= min_height) shrink = f;
  }
  return shrink;
}

// The upright minimum size LoadOptions asks for, in the file's stored orientation; {0, 0}
// when any size will do.
cv::Size stored_min_size(const ImageInfo& info, const LoadOptions& options) {
  if (!options.min_size) return {0, 0};
  const bool transposed = options.auto_orient && info.orientation >= 5;
  const cv::Size min_size =
      options.min_size(transposed ? cv::Size(info.height, info.width) : cv::Size(info.width, info.height));
  return transposed ? cv::Size(min_size.height, min_size.width) : min_size;
}

// The image opened again at reduced size when the options allow it (shrink-on-load: JPEG
// DCT scaling by 2, 4 or 8, WebP scaled decoding); `image` as it is otherwise.
VipsRef shrink_on_load(VipsRef image, const Source& source, const Loader& loader, const ImageInfo& info,
                       const LoadOptions& options) {
  const cv::Size least = stored_min_size(info, options);
  const int min_w = least.width, min_h = least.height;
  if (min_w <= 0 || min_h <= 0 || (min_w >= info.width && min_h >= info.height)) return image;
  if (loader.name.starts_with("jpegload")) {
    const int shrink = jpeg_shrink_for(info.width, info.height, min_w, min_h);
    if (shrink > 1) {
      image = VipsRef();  // one reader of the source at a time
      return open(source, loader, options.fail_on, shrink, 1.0);
    }
  } else if (loader.name.starts_with("webpload")) {
    // libwebp rounds the scaled size; a hair of margin keeps it at or above the minimum.
    const double scale =
        std::max(static_cast<double>(min_w) / info.width, static_cast<double>(min_h) / info.height) * 1.0001;
    if (scale < 1.0) {
      image = VipsRef();
      return open(source, loader, options.fail_on, 1, scale);
    }
  }
  return image;
}

// What load() works on: 8- or 16-bit sRGB or grey, alpha kept (lazy libvips operations).
VipsRef to_working_space(VipsRef image, const Source& source) {
  const int bands = vips_image_get_bands(image.get());
  const auto format = vips_image_get_format(image.get());
  if (format != VIPS_FORMAT_UCHAR && format != VIPS_FORMAT_USHORT &&
      vips_image_get_interpretation(image.get()) != VIPS_INTERPRETATION_scRGB)
    fail(ErrorCategory::unsupported, source,
         fmt::format("{}-bit {} samples are not supported (8- and 16-bit unsigned only)", bits_of(format),
                     vips_enum_nick(VIPS_TYPE_BAND_FORMAT, format)));
  VipsRef converted = detail::to_srgb(std::move(image), source.name);
  if (vips_image_get_bands(converted.get()) > 4 || vips_image_get_bands(converted.get()) < 1)
    fail(ErrorCategory::unsupported, source,
         fmt::format("{} bands are not supported (grey, grey+alpha, RGB or RGBA)", bands));
  return converted;
}

// The size of a source an ImageFile opened (it checked the file then).
std::uint64_t descriptor_size(const Source& source) {
  struct stat st {};
  if (::fstat(source.descriptor, &st) != 0)
    fail(ErrorCategory::io, source, fmt::format("cannot read: {}", std::strerror(errno)));
  return static_cast<std::uint64_t>(st.st_size);
}

// What an Image carries besides its pixels.
struct Metadata {
  std::vector<std::uint8_t> exif, icc;
  // Pixels per millimetre, libvips's unit; 72 dpi when the file does not say.
  double xres = 72 / 25.4, yres = 72 / 25.4;
  std::string resolution_unit;
};

Metadata metadata_of(VipsImage* image) {
  Metadata m;
  m.exif = detail::get_blob(image, VIPS_META_EXIF_NAME);
  m.icc = detail::get_blob(image, VIPS_META_ICC_NAME);
  m.xres = vips_image_get_xres(image);
  m.yres = vips_image_get_yres(image);
  const char* unit = nullptr;
  if (vips_image_get_typeof(image, "resolution-unit") &&
      !vips_image_get_string(image, "resolution-unit", &unit))
    m.resolution_unit = unit;
  return m;
}

// The Image of decoded pixels: upright when asked, with `metadata`.
Image finish(const cv::Mat& decoded, Metadata metadata, const Source& source, const ImageInfo& info,
             const LoadOptions& options) {
  Image out;
  out.pixels = options.auto_orient ? detail::apply_orientation(decoded, info.orientation) : decoded;
  out.orientation = options.auto_orient ? 1 : info.orientation;
  out.source = source.name;
  out.source_format = info.format;
  out.exif = std::move(metadata.exif);
  if (options.auto_orient) detail::set_exif_orientation(out.exif, 1);
  out.icc = std::move(metadata.icc);
  out.xres = metadata.xres;
  out.yres = metadata.yres;
  if (options.auto_orient && info.orientation >= 5) std::swap(out.xres, out.yres);
  out.resolution_unit = std::move(metadata.resolution_unit);
  return out;
}

// ---- JPEG without libvips ------------------------------------------------------------------
// 8-bit grey, YCbCr and RGB JPEGs are read by libjpeg-turbo directly (io/jpeg_decode.hpp):
// their header, their metadata as libvips reads it, and their pixels at any M/8 scale. libvips
// (loaded on first use, vips/lazy_vips.cpp) is needed only for an embedded ICC profile's
// conversion; CMYK and YCCK files go to libvips whole.

struct DirectJpeg {
  ImageInfo info;
  detail::JpegHeader header;
};

bool starts_as_jpeg(const Source& source) {
  const auto head = read_head(source, 3);
  return head.size() == 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff;
}

std::optional<DirectJpeg> direct_jpeg(const Source& source, std::uint64_t size, std::uint64_t file_bytes,
                                      const Limits& limits) {
  // A format that is not allowed goes to find_loader, which says so.
  if (!allows(limits, "jpeg") || !starts_as_jpeg(source)) return std::nullopt;
  const SourceReader reader(source);
  DirectJpeg jpeg{{}, detail::read_jpeg_header(std::cref(reader), size, source.name)};
  if (jpeg.header.channels == 0) return std::nullopt;
  ImageInfo& info = jpeg.info;
  info.source = source.name;
  info.format = "jpeg";
  info.width = jpeg.header.size.width;
  info.height = jpeg.header.size.height;
  info.bands = jpeg.header.channels;
  info.bit_depth = 8;
  info.interpretation = info.bands == 1 ? "b-w" : "srgb";
  info.orientation = detail::read_exif(jpeg.header.exif).orientation;
  info.has_alpha = false;
  info.has_icc = !jpeg.header.icc.empty();
  info.pages = 1;
  info.file_bytes = file_bytes;
  return jpeg;
}

// The resolution of an EXIF block, as libvips reads it over what the file said elsewhere
// (units: 1 none, 2 inch, 3 centimetre); false when the block has none.
bool exif_resolution(std::span<const std::uint8_t> block, Metadata& m, bool set_values = true) {
  const detail::ExifFields exif = detail::read_exif(block);
  if (exif.xres <= 0 || exif.yres <= 0 || exif.resolution_unit < 1 || exif.resolution_unit > 3) return false;
  const int unit = exif.resolution_unit;
  const double per_mm = unit == 2 ? 25.4 : unit == 3 ? 10.0 : 1.0;
  if (set_values) {
    m.xres = exif.xres / per_mm;
    m.yres = exif.yres / per_mm;
  }
  m.resolution_unit = unit == 2 ? "in" : unit == 3 ? "cm" : "";
  return true;
}

// The resolution as libvips's jpegload gives it: EXIF's when it has both, else JFIF's in dpi or
// dots per cm, else 72 dpi and no unit.
Metadata jpeg_metadata(const detail::JpegHeader& header) {
  Metadata m;
  m.exif = header.exif;
  m.icc = header.icc;
  if (!exif_resolution(header.exif, m) && (header.density_unit == 1 || header.density_unit == 2) &&
      header.x_density > 0 && header.y_density > 0) {
    const double per_mm = header.density_unit == 1 ? 25.4 : 10.0;
    m.xres = header.x_density / per_mm;
    m.yres = header.y_density / per_mm;
    m.resolution_unit = header.density_unit == 1 ? "in" : "cm";
  }
  return m;
}

// Decoded colour pixels (8- or 16-bit, continuous) converted to sRGB through their embedded
// `profile`, `metadata.icc` set to the profile they then carry: by lcms2 as libvips converts
// them (io/icc.hpp), or, for a profile lcms2 declines, by libvips's ICC transform itself,
// which has fallbacks of its own (libvips's sRGB profile for one it cannot open).
cv::Mat profile_to_srgb(const cv::Mat& pixels, std::span<const std::uint8_t> profile, const Source& source,
                        Metadata& metadata) {
  if (auto srgb = detail::icc_to_srgb(pixels, profile)) {
    metadata.icc = detail::srgb_profile();
    return std::move(*srgb);
  }
  detail::ensure_vips(source.name);
  VipsRef wrapped(vips_image_new_from_memory(
      pixels.data, pixels.total() * pixels.elemSize(), pixels.cols, pixels.rows, pixels.channels(),
      pixels.depth() == CV_16U ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR));
  if (!wrapped) fail(ErrorCategory::decode, source, detail::take_vips_error());
  vips_image_set_blob_copy(wrapped.get(), VIPS_META_ICC_NAME, profile.data(), profile.size());
  const VipsRef converted = detail::to_srgb(std::move(wrapped), source.name);
  cv::Mat srgb = detail::compute_pixels(converted.get());
  if (srgb.empty()) fail(ErrorCategory::decode, source, detail::take_vips_error());
  metadata.icc = detail::get_blob(converted.get(), VIPS_META_ICC_NAME);
  return srgb;
}

Image decode_direct_jpeg(const DirectJpeg& jpeg, const Source& source, std::uint64_t size,
                         const LoadOptions& options) {
  const ImageInfo& info = jpeg.info;
  const cv::Size least = stored_min_size(info, options);
  const int eighths =
      least.width > 0 && least.height > 0 ? detail::jpeg_scale_for({info.width, info.height}, least) : 8;
  const SourceReader reader(source);
  std::optional<cv::Mat> pixels =
      detail::decode_jpeg(std::cref(reader), size, eighths, options.fail_on, source.name);
  if (!pixels)  // read_jpeg_header said it would not decline
    fail(ErrorCategory::internal, source, "the JPEG decoder declined a file it had accepted");
  Metadata metadata = jpeg_metadata(jpeg.header);
  if (info.has_icc && pixels->channels() >= 3)
    *pixels = profile_to_srgb(*pixels, jpeg.header.icc, source, metadata);
  return finish(*pixels, std::move(metadata), source, info, options);
}

// The bytes a source holds: a file's size, or its buffer's.
std::uint64_t bytes_of(const Source& source, std::uint64_t file_bytes) {
  return source.bytes.empty() ? file_bytes : source.bytes.size();
}

// ---- PNG and WebP without libvips ----------------------------------------------------------
// Read by libpng and libwebp directly (io/direct_decode.hpp) as libvips would read them, an
// embedded profile converted as for JPEG (profile_to_srgb); an animated WebP and a damaged PNG
// read with fail_on none go to libvips whole.

struct DirectFile {
  ImageInfo info;
  detail::DirectHeader header;
  std::vector<std::uint8_t> held;  // a WebP file's bytes, when the source is a file

  // libwebp reads a WebP whole.
  std::span<const std::uint8_t> webp_bytes(const Source& source) const {
    return held.empty() ? source.bytes : std::span<const std::uint8_t>(held);
  }
};

std::optional<DirectFile> direct_file(const Source& source, std::uint64_t size, std::uint64_t file_bytes,
                                      const Limits& limits) {
  const auto head = read_head(source, 12);
  DirectFile file;
  // A format that is not allowed goes to find_loader, which says so.
  if (detail::is_png(head) && allows(limits, "png")) {
    const SourceReader reader(source);
    file.header = detail::read_png_header(std::cref(reader), size, source.name);
    file.info.format = "png";
  } else if (detail::is_webp(head) && allows(limits, "webp")) {
    if (source.bytes.empty()) {
      file.held.resize(size);
      file.held.resize(SourceReader(source)(0, file.held));
    }
    auto header = detail::read_webp_header(file.webp_bytes(source), source.name);
    if (!header) return std::nullopt;
    file.header = std::move(*header);
    file.info.format = "webp";
  } else {
    return std::nullopt;
  }
  const detail::DirectHeader& header = file.header;
  ImageInfo& info = file.info;
  info.source = source.name;
  info.width = header.size.width;
  info.height = header.size.height;
  info.bands = header.channels;
  info.bit_depth = header.bit_depth;
  const bool colour = header.channels >= 3;
  info.interpretation = header.bit_depth == 16 ? (colour ? "rgb16" : "grey16") : (colour ? "srgb" : "b-w");
  info.orientation = detail::read_exif(header.exif).orientation;
  info.has_alpha = header.channels == 2 || header.channels == 4;
  info.has_icc = !header.icc.empty();
  info.pages = 1;
  info.file_bytes = file_bytes;
  return file;
}

// libvips scales a WebP while decoding to round(side × scale), the scale a hair over what the
// minimum size needs.
cv::Size webp_scaled_size(const ImageInfo& info, const LoadOptions& options) {
  const cv::Size least = stored_min_size(info, options);
  if (least.width <= 0 || least.height <= 0 || (least.width >= info.width && least.height >= info.height))
    return {info.width, info.height};
  const double scale = std::max(static_cast<double>(least.width) / info.width,
                                static_cast<double>(least.height) / info.height) *
                       1.0001;
  if (scale >= 1.0) return {info.width, info.height};
  return {static_cast<int>(std::floor(info.width * scale + 0.5)),
          static_cast<int>(std::floor(info.height * scale + 0.5))};
}

// nullopt when the PNG decoder declines a damaged file read with fail_on none.
std::optional<Image> decode_direct_file(const DirectFile& file, const Source& source, std::uint64_t size,
                                        const LoadOptions& options) {
  const detail::DirectHeader& header = file.header;
  cv::Mat pixels;
  if (file.info.format == "png") {
    const SourceReader reader(source);
    auto decoded = detail::decode_png(std::cref(reader), size, options.fail_on, source.name);
    if (!decoded) return std::nullopt;
    pixels = std::move(*decoded);
  } else {
    pixels = detail::decode_webp(file.webp_bytes(source), header, webp_scaled_size(file.info, options),
                                 source.name);
  }
  Metadata metadata;
  metadata.exif = header.exif;
  metadata.icc = header.icc;
  if (!header.icc.empty() && header.channels >= 3)
    pixels = profile_to_srgb(pixels, header.icc, source, metadata);
  metadata.xres = header.xres;
  metadata.yres = header.yres;
  exif_resolution(header.exif, metadata, header.exif_resolution_wins);
  return finish(pixels, std::move(metadata), source, file.info, options);
}

Image decode(const Source& given, const LoadOptions& options, const Limits& limits) {
  const std::uint64_t file_bytes = check_file(given, limits);
  check_header_pixels(given, limits);
  std::vector<std::uint8_t> kept;
  const Source source = within_metadata_limits(given, file_bytes, limits, options.warnings, kept);
  if (auto jpeg = direct_jpeg(source, bytes_of(source, file_bytes), file_bytes, limits)) {
    check_pixels(jpeg->info, source, limits);
    return decode_direct_jpeg(*jpeg, source, bytes_of(source, file_bytes), options);
  }
  if (auto file = direct_file(source, bytes_of(source, file_bytes), file_bytes, limits)) {
    check_pixels(file->info, source, limits);
    if (auto image = decode_direct_file(*file, source, bytes_of(source, file_bytes), options)) return *image;
  }
  const Loader loader = find_loader(source, limits);
  VipsRef image = open(source, loader, options.fail_on, 1, 1.0);
  ImageInfo info = info_of(image.get(), source, loader, file_bytes);
  check_pixels(info, source, limits);
  image = to_working_space(shrink_on_load(std::move(image), source, loader, info, options), source);

  // libvips decodes straight into the Mat's buffer: no second copy of the pixels.
  const cv::Mat decoded = detail::compute_pixels(image.get());
  if (decoded.empty()) fail(ErrorCategory::decode, source, detail::take_vips_error());
  return finish(decoded, metadata_of(image.get()), source, info, options);
}

ImageInfo probe_source(const Source& given, const Limits& limits) {
  // An ImageFile has checked its file when it opened it (and knows its size).
  const std::uint64_t file_bytes = given.descriptor >= 0 ? 0 : check_file(given, limits);
  check_header_pixels(given, limits);
  std::vector<std::uint8_t> kept;
  const std::uint64_t size = given.descriptor >= 0 ? descriptor_size(given) : file_bytes;
  const Source source = within_metadata_limits(given, size, limits, nullptr, kept);
  if (auto jpeg = direct_jpeg(source, bytes_of(source, size), file_bytes, limits)) {
    check_pixels(jpeg->info, source, limits);
    return jpeg->info;
  }
  if (auto file = direct_file(source, bytes_of(source, size), file_bytes, limits)) {
    check_pixels(file->info, source, limits);
    return file->info;
  }
  const Loader loader = find_loader(source, limits);
  VipsRef image = open(source, loader, FailOn::none, 1, 1.0);
  ImageInfo info = info_of(image.get(), source, loader, file_bytes);
  check_pixels(info, source, limits);
  return info;
}

}  // namespace

ImageFile::ImageFile(fs::path path, const Limits& limits) : path_(std::move(path)), limits_(limits) {
  size_ = detail::check_image_file(path_, path_.string(), limits);
  descriptor_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor_ < 0)
    throw Error(ErrorCategory::io, fmt::format("{}: cannot open: {}", path_.string(), std::strerror(errno)));
}

ImageFile::ImageFile(ImageFile&& other) noexcept
    : path_(std::move(other.path_)),
      limits_(std::move(other.limits_)),
      size_(other.size_),
      descriptor_(std::exchange(other.descriptor_, -1)) {}

ImageFile::~ImageFile() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

ImageInfo ImageFile::probe(const Limits& limits) const {
  Source source{path_.string(), &path_, {}};
  source.descriptor = descriptor_;
  ImageInfo info = probe_source(source, limits);
  info.file_bytes = size_;
  return info;
}

std::vector<std::uint8_t> ImageFile::read() const {
  std::vector<std::uint8_t> bytes(size_);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::pread(descriptor_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw Error(ErrorCategory::io, fmt::format("{}: read failed: {}", path_.string(),
                                                 n < 0 ? std::strerror(errno) : "the file got shorter"));
    done += static_cast<std::size_t>(n);
  }
  return bytes;
}

Image ImageFile::load(const LoadOptions& options, const Limits& limits) const {
  Source source{path_.string(), &path_, {}};
  source.descriptor = descriptor_;
  return decode(source, options, limits);
}

std::string ImageFile::digest() const {
  std::uint64_t total = 0;
  std::string digest = detail::descriptor_digest(descriptor_, path_, size_, total);
  if (total != size_)
    throw Error(ErrorCategory::io, fmt::format("{}: the file changed while it was read ({} bytes, then {})",
                                               path_.string(), size_, total));
  return digest;
}

std::vector<std::string> parse_input_formats(std::string_view text) {
  std::vector<std::string> formats;
  std::string word;
  const auto take = [&] {
    if (word.empty()) return;
    std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
    if (word == "jpg") word = "jpeg";
    if (word == "tif") word = "tiff";
    if (word != "all" &&
        std::find(std::begin(kKnownFormats), std::end(kKnownFormats), word) == std::end(kKnownFormats))
      throw Error(ErrorCategory::config, fmt::format("formats: unknown input format '{}' (known: {}, or all)",
                                                     word, fmt::join(kKnownFormats, ", ")));
    if (std::find(formats.begin(), formats.end(), word) == formats.end()) formats.push_back(word);
    word.clear();
  };
  for (const char c : text) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c)))
      take();
    else
      word += c;
  }
  take();
  if (formats.empty()) throw Error(ErrorCategory::config, "formats: name at least one input format");
  return formats;
}

ImageInfo probe(const fs::path& path, const Limits& limits) {
  return ImageFile(path, limits).probe(limits);
}

ImageInfo probe_buffer(std::span<const std::uint8_t> bytes, const std::string& name, const Limits& limits) {
  return probe_source(Source{name, nullptr, bytes}, limits);
}

Image load(const fs::path& path, const LoadOptions& options, const Limits& limits) {
  return decode(Source{path.string(), &path, {}}, options, limits);
}

Image load_buffer(std::span<const std::uint8_t> bytes, const std::string& name, const LoadOptions& options,
                  const Limits& limits) {
  return decode(Source{name, nullptr, bytes}, options, limits);
}

Image load_referenced_image(const fs::path& path, std::string_view what, std::uint64_t max_bytes) {
  const auto bytes = read_referenced_file(path, what, max_bytes);
  return load_buffer(bytes, fmt::format("{} {}", what, path.string()));
}

namespace detail {

namespace {

[[noreturn]] void fail_named(ErrorCategory category, const std::string& name, const std::string& what) {
  throw Error(category, fmt::format("{}: {}", name, what));
}

}  // namespace

std::uint64_t check_image_file(const fs::path& path, const std::string& name, const Limits& limits) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) fail_named(ErrorCategory::io, name, "no such file");
  if (fs::is_directory(status)) fail_named(ErrorCategory::io, name, "is a directory, not an image");
  if (!fs::is_regular_file(status))
    fail_named(ErrorCategory::io, name, "not a regular file (a device, pipe or socket), not an image");
  auto size = fs::file_size(path, ec);
  if (ec) fail_named(ErrorCategory::io, name, "cannot read: " + ec.message());
  if (size == 0) fail_named(ErrorCategory::decode, name, "empty file (0 bytes)");
  if (limits.max_file_bytes && size > limits.max_file_bytes)
    fail_named(ErrorCategory::limit, name,
               fmt::format("file size {} bytes is over the limit of {} bytes", size, limits.max_file_bytes));
  return size;
}

// Converts whatever was decoded to 8- or 16-bit sRGB or grey, alpha kept.
VipsRef to_srgb(VipsRef image, const std::string& name) {
  VipsImage* in = image.get();
  const auto interpretation = vips_image_get_interpretation(in);
  const bool sixteen = vips_image_get_format(in) == VIPS_FORMAT_USHORT;
  const int depth = sixteen ? 16 : 8;
  const int bands = vips_image_get_bands(in);
  const bool has_icc = vips_image_get_typeof(in, VIPS_META_ICC_NAME) != 0;
  VipsRef out;
  if (interpretation == VIPS_INTERPRETATION_CMYK) {
    // Embedded profile if any, else libvips's built-in CMYK profile.
    if (vips_icc_transform(in, out.out(), "srgb", "embedded", TRUE, "input_profile", "cmyk", "depth", depth,
                           "intent", VIPS_INTENT_RELATIVE, nullptr))
      fail_named(ErrorCategory::decode, name, "CMYK to sRGB: " + detail::take_vips_error());
    return out;
  }
  if (has_icc && bands >= 3) {
    if (vips_icc_transform(in, out.out(), "srgb", "embedded", TRUE, "depth", depth, "intent",
                           VIPS_INTENT_RELATIVE, nullptr))
      fail_named(ErrorCategory::decode, name, "ICC profile to sRGB: " + detail::take_vips_error());
    return out;
  }
  switch (interpretation) {
    case VIPS_INTERPRETATION_LAB:
    case VIPS_INTERPRETATION_LABS:
    case VIPS_INTERPRETATION_LCH:
    case VIPS_INTERPRETATION_XYZ:
    case VIPS_INTERPRETATION_scRGB:
    case VIPS_INTERPRETATION_HSV:
    case VIPS_INTERPRETATION_YXY:
      if (vips_colourspace(in, out.out(), sixteen ? VIPS_INTERPRETATION_RGB16 : VIPS_INTERPRETATION_sRGB,
                           nullptr))
        fail_named(ErrorCategory::decode, name, "to sRGB: " + detail::take_vips_error());
      return out;
    default: return image;
  }
}

VipsRef open_sequential(const ImageFile& file, const LoadOptions& options) {
  Source source{file.path().string(), &file.path(), {}};
  source.descriptor = file.descriptor();
  std::vector<std::uint8_t> unused;
  within_metadata_limits(source, file.size(), file.limits(), nullptr, unused, /*streaming=*/true);
  const Loader loader = find_loader(source, file.limits());
  VipsRef image = open(source, loader, options.fail_on, 1, 1.0);
  const ImageInfo info = info_of(image.get(), source, loader, 0);
  VipsRef converted =
      to_working_space(shrink_on_load(std::move(image), source, loader, info, options), source);
  // EXIF orientation 2 is a mirror, which streams; the others need the last rows first.
  if (info.orientation <= 1 || !options.auto_orient) return converted;
  if (info.orientation != 2)
    fail(ErrorCategory::unsupported, source,
         fmt::format("EXIF orientation {} turns the image, which needs its last rows first; it cannot stream",
                     info.orientation));
  VipsRef mirrored;
  if (vips_flip(converted.get(), mirrored.out(), VIPS_DIRECTION_HORIZONTAL, nullptr))
    fail(ErrorCategory::decode, source, take_vips_error());
  vips_image_set_int(mirrored.get(), VIPS_META_ORIENTATION, 1);
  return mirrored;
}

}  // namespace detail

}  // namespace imgpipe
