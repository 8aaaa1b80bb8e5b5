#pragma once
/// \file
/// Image: pixels plus what travels with them.
///
/// Pixels are a cv::Mat in RGB channel order (not OpenCV's BGR: libvips, libwebp and every
/// file format speak RGB), with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels,
/// and a depth of CV_8U or CV_16U. Alpha is always the last channel and is never silently
/// dropped. Colour is sRGB: the loader converts embedded ICC profiles and CMYK, and has
/// already applied the EXIF orientation.

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace imgpipe {

struct IndexedEncodeCache;  // internal: compressed index data shared between variants

/// Pixels given as indices into a colour table, attached by operations that produce few
/// colours (the palette engine). Encoders then write palette PNGs without counting colours,
/// and the variants of one clustering — same indices, other tables — share one compressed
/// index stream, so seven palettes cost one compression, not seven.
struct IndexedPixels {
  cv::Mat indices;                                 ///< CV_8UC1, values < table.size()
  std::vector<std::array<std::uint8_t, 4>> table;  ///< RGBA
  std::shared_ptr<IndexedEncodeCache> cache;       ///< shared by images with the same indices
};

/// An image's content as vector graphics, rendered on demand (vectorize attaches one; only the
/// svg output format asks for it).
class VectorGraphics {
 public:
  virtual ~VectorGraphics() = default;
  /// The content as an SVG document, rendered on each call (what the svg output format writes).
  virtual std::string svg() const = 0;
};

/// An image: its pixels (as the file's description says) and the metadata that travels with
/// them through a chain to the output.
struct Image {
  /// The pixels; empty in an image that holds only `indexed` (Context::indexed_output).
  cv::Mat pixels;

  /// Where the pixels came from, for messages and reports (`"<buffer>"`, `"<stdin>"`
  /// otherwise).
  std::string source;
  /// The loader's name for the source format: "jpeg", "png", "webp", "tiff", "gif".
  std::string source_format;
  /// Metadata carried to the output when the save options keep metadata. The EXIF block
  /// has its orientation reset to 1 because the pixels are already upright.
  std::vector<std::uint8_t> exif;
  /// The ICC profile the loader left with the pixels, carried to the output like `exif`.
  std::vector<std::uint8_t> icc;
  /// EXIF orientation (1..8) still to be applied to the pixels: 1 after a normal load, which
  /// makes images upright; the auto_orient step applies and resets it.
  int orientation = 1;
  /// Resolution as the source states it, in pixels per millimetre (libvips's unit); 0 when
  /// unknown. Written to outputs whose format holds it (PNG, TIFF, JPEG's JFIF density).
  ///@{
  double xres = 0, yres = 0;
  ///@}
  std::string resolution_unit;  ///< "in" or "cm", the unit the source stated it in; "" unknown
  /// The same pixels as indices + colour table, when an operation knows them; dropped by
  /// with_pixels() because new pixels no longer match.
  std::shared_ptr<const IndexedPixels> indexed;
  /// Values measured by analysis steps, by name ("complexity" in 0..1). They describe the
  /// image the step saw and travel with the image through later steps, for reports.
  std::map<std::string, double> measures;
  /// The same content as vector graphics, when the step that made these pixels traced them;
  /// dropped by with_pixels() like `indexed`.
  std::shared_ptr<const VectorGraphics> vector;

  /// An empty image: no pixels, no metadata.
  Image() = default;
  /// An image of the given pixels, without metadata.
  explicit Image(cv::Mat p) : pixels(std::move(p)) {}

  /// Width in pixels.
  int width() const noexcept { return pixels.cols; }
  /// Height in pixels.
  int height() const noexcept { return pixels.rows; }
  /// Channels, alpha included: 1 to 4.
  int channels() const noexcept { return pixels.channels(); }
  /// Bits per sample: 16 for CV_16U pixels, else 8.
  int bit_depth() const noexcept { return pixels.depth() == CV_16U ? 16 : 8; }
  /// Whether the last channel is alpha (grey + alpha or RGBA).
  bool has_alpha() const noexcept { return channels() == 2 || channels() == 4; }
  /// Channels without alpha: 1 (grey) or 3 (RGB).
  int colour_channels() const noexcept { return has_alpha() ? channels() - 1 : channels(); }
  /// Whether there are no pixels.
  bool empty() const noexcept { return pixels.empty(); }

  /// The same metadata with other pixels: what an operation returns.
  Image with_pixels(cv::Mat p) const {
    Image out;
    out.pixels = std::move(p);
    out.source = source;
    out.source_format = source_format;
    out.exif = exif;
    out.icc = icc;
    out.orientation = orientation;
    out.xres = xres;
    out.yres = yres;
    out.resolution_unit = resolution_unit;
    out.measures = measures;
    return out;
  }
};

/// OpenCV's allocator for pixel buffers, with the 2 MB-aligned inside of buffers of 4 MB and
/// more advised for transparent huge pages (where the kernel offers them; the memory comes
/// from malloc as usual, so freed buffers are reused). Filling a fresh 12 MB image costs 3,000 page faults
/// with 4 KB pages and 6 with huge ones; on virtual machines, where a fault costs
/// microseconds, that was a fifth of a palette run. The library decodes into it; a program
/// may make it OpenCV's default with cv::Mat::setDefaultAllocator (the imgpipe CLI does; the
/// library never changes OpenCV's default). Lives as long as the process.
cv::MatAllocator* large_page_allocator();

}  // namespace imgpipe
