#pragma once
/// \file
/// Image input and output. Decoding and most encoding go through libvips, WebP encoding
/// through libwebp, indexed PNG through libpng. Nothing here uses `cv::imread`/`cv::imwrite`.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <memory>
#include <opencv2/core/types.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe {

/// What a file's header says, read without decoding pixels.
struct ImageInfo {
  std::string source;  ///< the path, or the name given for bytes in memory
  std::string format;  ///< "jpeg", "png", "webp", "tiff", "gif", ...
  /// Size in pixels as stored, before orientation.
  ///@{
  int width = 0, height = 0;
  ///@}
  int bands = 0;                 ///< as stored (CMYK has 4, CMYK + alpha 5)
  int bit_depth = 8;             ///< bits per sample
  std::string interpretation;    ///< "srgb", "b-w", "cmyk", "rgb16", "grey16", ...
  int orientation = 1;           ///< EXIF orientation 1..8
  bool has_alpha = false;        ///< whether the image has an alpha channel
  bool has_icc = false;          ///< whether the file embeds an ICC profile
  int pages = 1;                 ///< frames of an animation or pages of a TIFF
  std::uint64_t file_bytes = 0;  ///< the file's size in bytes

  /// The width once the EXIF orientation is applied (orientations 5 to 8 swap the sides).
  int oriented_width() const noexcept { return orientation >= 5 ? height : width; }
  /// The height once the EXIF orientation is applied.
  int oriented_height() const noexcept { return orientation >= 5 ? width : height; }
};

/// What makes a decode fail, as libvips's `fail_on` says: nothing, truncated data, decoder
/// errors, or any warning (the strictest).
enum class FailOn { none, truncated, error, warning };

/// How load() decodes.
struct LoadOptions {
  /// Shrink-on-load: given the upright size from the header, the smallest size the decoder
  /// may produce; where the format allows (JPEG DCT scaling, WebP scaled decode) it decodes
  /// at a reduced size no smaller than that. Unset or {0,0} = full size.
  std::function<cv::Size(cv::Size)> min_size;
  /// Defaults to failing on warnings: a truncated JPEG is an error, never a half-grey image.
  FailOn fail_on = FailOn::warning;
  /// Apply the EXIF orientation while loading (the image comes out upright, orientation 1).
  /// When false, Image::orientation keeps the value for an auto_orient step.
  bool auto_orient = true;
  /// Where to add what the load changed and should be told (metadata over the limits left
  /// out); not owned, may be null.
  std::vector<std::string>* warnings = nullptr;
};

/// Input formats from text such as "jpeg, png, ppm" (commas or spaces; "all" for every
/// loader), for Limits::formats. Throws Error(config) naming an unknown format.
std::vector<std::string> parse_input_formats(std::string_view text);

/// Reads the header only. Throws Error (io, decode, limit) naming the source.
ImageInfo probe(const std::filesystem::path& path, const Limits& limits = {});
/// probe() for bytes in memory, named `name` in messages.
ImageInfo probe_buffer(std::span<const std::uint8_t> bytes, const std::string& name,
                       const Limits& limits = {});

/// An image file opened once: its header, its bytes and a streamed decode all read through the
/// one descriptor, so a job opens its input once however it then runs (and a file replaced
/// meanwhile is never mixed with its old header).
class ImageFile {
 public:
  /// Checks the file as load() does (exists, not a folder, not empty, within
  /// Limits::max_file_bytes) and opens it. Throws Error(io, decode, limit) naming it.
  explicit ImageFile(std::filesystem::path path, const Limits& limits = {});
  /// Takes over `other`'s descriptor; `other` is left closed.
  ImageFile(ImageFile&& other) noexcept;
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  ImageFile& operator=(ImageFile&&) = delete;
  /// Closes the descriptor.
  ~ImageFile();

  /// The path it was opened from.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// The file's size in bytes when it was opened.
  std::uint64_t size() const noexcept { return size_; }
  /// The open file descriptor, owned by this object.
  int descriptor() const noexcept { return descriptor_; }

  /// The header, as probe() reads it.
  ImageInfo probe(const Limits& limits = {}) const;
  /// Every byte of the file.
  std::vector<std::uint8_t> read() const;
  /// Decodes it as load() does, reading through the descriptor only what the decoder needs
  /// (a JPEG's trailing bytes are never read).
  Image load(const LoadOptions& options = {}, const Limits& limits = {}) const;
  /// content_digest() of every byte, read in blocks: the file is hashed without being held.
  std::string digest() const;
  /// The limits it was opened with (a streamed read checks the format against them).
  const Limits& limits() const noexcept { return limits_; }

 private:
  std::filesystem::path path_;
  Limits limits_;
  std::uint64_t size_ = 0;
  int descriptor_ = -1;
};

/// Decodes to 8- or 16-bit sRGB (grey stays grey), alpha kept, orientation applied.
/// Multi-frame inputs (GIF, multi-page TIFF) give their first frame.
Image load(const std::filesystem::path& path, const LoadOptions& options = {}, const Limits& limits = {});
/// load() for bytes in memory, named `name` in messages.
Image load_buffer(std::span<const std::uint8_t> bytes, const std::string& name,
                  const LoadOptions& options = {}, const Limits& limits = {});

/// Output formats. svg holds what a chain ending in `vectorize` traced (Image::vector); it has
/// no pixels.
enum class Format { jpeg, png, webp, tiff, svg };
/// The format's name: "jpeg", "png", "webp", "tiff", "svg".
std::string_view to_string(Format format) noexcept;
/// The format a name stands for, case-insensitive: to_string()'s names, "jpg" and "tif";
/// nullopt for any other.
std::optional<Format> parse_format(std::string_view name) noexcept;
/// From a path's extension (.jpg, .jpeg, .png, .webp, .tif, .tiff, .svg), case-insensitive.
std::optional<Format> format_from_path(const std::filesystem::path& path) noexcept;
/// The usual file name extension, without the dot ("jpg", "png", "webp", "tif", "svg").
std::string_view extension_of(Format format) noexcept;

/// The one output-format rule: without a format set, the output name's extension decides;
/// with both, they must agree (an extension that names no image format, ".img", takes the
/// format set). `set` is the format set by the chain file, the environment or
/// a flag, named by `origin` in the message. Throws Error(config) naming both when they
/// disagree, or when neither says (`target` "-" for stdout has no extension).
Format resolve_output_format(const std::filesystem::path& target, std::optional<Format> set,
                             std::string_view origin = "output.format");

/// How encode() and save() write an image. Each setting applies to the formats it names.
struct SaveOptions {
  Format format = Format::png;    ///< the output format
  int quality = 0;                ///< JPEG/WebP 1..100; 0 = the format's default (JPEG 85, WebP 80)
  bool progressive = false;       ///< JPEG
  bool keep_metadata = false;     ///< EXIF and ICC; stripped by default
  int compression = 6;            ///< PNG zlib level 0..9
  bool allow_indexed = true;      ///< PNG/WebP: an image with <= 256 colours is written indexed
  bool lossless = false;          ///< WebP
  int near_lossless = 100;        ///< WebP 0..100, 100 = off
  int alpha_quality = 100;        ///< WebP 0..100
  int method = -1;                ///< WebP effort 0..6; -1 = from the quality preset
  std::uint64_t target_size = 0;  ///< WebP: aim for this many bytes; 0 = off
  std::string tiff_compression = "deflate";  ///< none, deflate, lzw, jpeg
  /// Where an output format has no alpha (JPEG), alpha is flattened onto this colour.
  std::uint8_t background[3] = {255, 255, 255};
  bool fsync = false;  ///< flush to disk before the rename
};

/// Encodes in memory. Throws Error(unsupported) for what the format cannot hold (svg: an image
/// that no vectorize step traced).
std::vector<std::uint8_t> encode(const Image& image, const SaveOptions& options,
                                 QualityPreset preset = QualityPreset::balanced);

/// Encodes and writes atomically: a temporary file in the target directory, renamed over
/// the target only when complete, so a failure never leaves a partial file.
void save(const Image& image, const std::filesystem::path& path, const SaveOptions& options,
          QualityPreset preset = QualityPreset::balanced);

/// Encodes indices + colour table as a palette PNG directly (no colour counting; the
/// compressed index stream is shared through IndexedPixels::cache).
std::vector<std::uint8_t> encode_indexed_png(const IndexedPixels& indexed, int compression = 6);

/// A cache for IndexedPixels::cache: images that share indices and this cache compress their
/// index stream once.
std::shared_ptr<IndexedEncodeCache> new_encode_cache();

/// The libraries imgpipe decodes, encodes and computes with, and their versions as this process
/// uses them: libvips, OpenCV, libjpeg-turbo, libpng, libwebp and TBB, in that order (the
/// version loaded where the library can tell it, else the one built against). Loads libvips
/// when it is loaded on first use.
std::vector<std::pair<std::string, std::string>> library_versions();

/// The bytes of a file a chain names (a palette file, a model): it must be a regular file of at
/// most `max_bytes` — never a device, a pipe or a folder; it is opened without waiting, so a
/// named pipe is refused rather than read forever. Errors (config, io, limit) name `what` and
/// the path, never the contents.
std::vector<std::uint8_t> read_referenced_file(const std::filesystem::path& path, std::string_view what,
                                               std::uint64_t max_bytes);
/// An image a chain names (a watermark, a mask), read as read_referenced_file() reads (at most
/// `max_bytes`) and decoded with the default Limits (pixels, formats).
Image load_referenced_image(const std::filesystem::path& path, std::string_view what,
                            std::uint64_t max_bytes = std::uint64_t{64} << 20);
/// A digest of bytes (XXH3-128, 32 hex digits), for keys that must change when content does.
std::string content_digest(std::span<const std::uint8_t> bytes);
/// content_digest() of a file a chain names, read in blocks with read_referenced_file()'s
/// checks.
std::string file_digest(const std::filesystem::path& path, std::string_view what, std::uint64_t max_bytes);

/// Removes the temporary files of every write of this process still in progress and stops
/// any later write from being renamed into place (it then blocks): for a program about to
/// exit on a signal, so that an interrupted run leaves neither a partial output nor a
/// temporary file. Not async-signal-safe: call it from a thread that took the signal with
/// sigwait, as the imgpipe CLI does.
void remove_temporary_files() noexcept;

/// Removes, under `folder` and its subfolders, the temporary files of writes that a kill cut
/// short (`".<name>.imgpipe-XXXXXX"`, the one naming rule of every write) last written more
/// than `older_than` ago; younger ones may belong to a live writer. `batch --resume` does this.
void remove_stale_temporary_files(const std::filesystem::path& folder, std::chrono::seconds older_than);

/// Writes bytes atomically (temporary file + rename); the building block of save().
void write_file_atomic(const std::filesystem::path& path, std::span<const std::uint8_t> bytes,
                       bool fsync = false);

}  // namespace imgpipe
