// PNG written through libpng: indexed (palette) PNG for images with at most 256 distinct
// colours, which is both smaller and much faster to compress than truecolour; truecolour PNG
// (grey, grey + alpha, RGB, RGBA; 8 or 16 bits) otherwise, without loading libvips.

#include <png.h>

#include <array>
#include <cmath>
#include <cstring>
#include <imgpipe/error.hpp>
#include <memory>

#include "encoders.hpp"
#include "exif.hpp"

namespace imgpipe::detail {

namespace {

// Open-addressing set of packed pixel values that gives up past 256 entries.
class ColourTable {
 public:
  static constexpr std::size_t kSlots = 1024;  // power of two, 4x the maximum fill
  ColourTable() { keys_.fill(kEmpty); }

  // Index of the colour, adding it; -1 once there would be more than 256 colours.
  int index_of(std::uint32_t key) {
    std::size_t slot = hash(key);
    while (true) {
      if (keys_[slot] == key) return indices_[slot];
      if (keys_[slot] == kEmpty) {
        if (colours_.size() == 256) return -1;
        keys_[slot] = key;
        indices_[slot] = static_cast<int>(colours_.size());
        colours_.push_back(key);
        return indices_[slot];
      }
      slot = (slot + 1) & (kSlots - 1);
    }
  }
  const std::vector<std::uint32_t>& colours() const { return colours_; }

 private:
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static std::size_t hash(std::uint32_t key) {
    return static_cast<std::size_t>((key * 0x9E3779B1u) >> 22) & (kSlots - 1);
  }
  std::array<std::uint64_t, kSlots> keys_{};
  std::array<int, kSlots> indices_{};
  std::vector<std::uint32_t> colours_;
};

void write_to_sink(png_structp png, png_bytep data, png_size_t length) {
  (*static_cast<const PngSink*>(png_get_io_ptr(png)))({data, length});
}

void on_png_error(png_structp, png_const_charp message) {
  throw Error(ErrorCategory::io, std::string("PNG encode failed: ") + message);
}
void on_png_warning(png_structp, png_const_charp) {}

}  // namespace

// A libpng write struct and its info, destroyed on every way out, writing to a sink.
class PngWriter {
 public:
  explicit PngWriter(PngSink sink) : sink_(std::move(sink)) {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, on_png_error, on_png_warning);
    info_ = png_ ? png_create_info_struct(png_) : nullptr;
    if (!png_ || !info_) {
      png_destroy_write_struct(&png_, nullptr);
      throw Error(ErrorCategory::internal, "libpng could not start");
    }
    png_set_write_fn(png_, &sink_, write_to_sink, nullptr);
    // A profile libpng finds inconsistent is dropped with a warning rather than failing the save.
    png_set_benign_errors(png_, 1);
  }
  PngWriter(const PngWriter&) = delete;
  PngWriter& operator=(const PngWriter&) = delete;
  ~PngWriter() { png_destroy_write_struct(&png_, &info_); }

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

  void set_metadata(const PngMetadata& metadata) {
    if (!metadata.icc.empty())
      png_set_iCCP(png_, info_, "icc", PNG_COMPRESSION_TYPE_BASE, metadata.icc.data(),
                   static_cast<png_uint_32>(metadata.icc.size()));
    const auto exif = exif_tiff(metadata.exif);  // the eXIf chunk holds the TIFF structure alone
    if (!exif.empty())
      png_set_eXIf_1(png_, info_, static_cast<png_uint_32>(exif.size()), const_cast<png_bytep>(exif.data()));
  }

 private:
  PngSink sink_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

namespace {

PngSink to_vector(std::vector<std::uint8_t>& out) {
  return [&out](std::span<const std::uint8_t> bytes) { out.insert(out.end(), bytes.begin(), bytes.end()); };
}

}  // namespace

std::vector<std::uint8_t> write_png_palette(const cv::Mat& indices,
                                            const std::vector<std::array<std::uint8_t, 4>>& table,
                                            int compression, const PngMetadata& metadata) {
  std::vector<std::uint8_t> out;
  PngWriter writer(to_vector(out));
  png_structp png = writer.png();
  png_infop info = writer.info();
  const std::size_t n = table.size();
  const int bit_depth = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
  png_set_IHDR(png, info, static_cast<png_uint_32>(indices.cols), static_cast<png_uint_32>(indices.rows),
               bit_depth, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette(n);
  std::vector<png_byte> alpha(n);
  int last_translucent = -1;
  for (std::size_t i = 0; i < n; ++i) {
    palette[i] = {table[i][0], table[i][1], table[i][2]};
    alpha[i] = table[i][3];
    if (alpha[i] != 255) last_translucent = static_cast<int>(i);
  }
  png_set_PLTE(png, info, palette.data(), static_cast<int>(n));
  writer.set_metadata(metadata);
  if (last_translucent >= 0) png_set_tRNS(png, info, alpha.data(), last_translucent + 1, nullptr);
  // Index images compress best unfiltered; level from the caller (0..9).
  png_set_filter(png, 0, PNG_FILTER_NONE);
  png_set_compression_level(png, compression);
  png_write_info(png, info);
  png_set_packing(png);  // one byte per index in, packed to bit_depth out
  for (int y = 0; y < indices.rows; ++y)
    png_write_row(png, const_cast<png_bytep>(indices.ptr<std::uint8_t>(y)));
  png_write_end(png, nullptr);
  return out;
}

PngRows::PngRows(PngSink sink, cv::Size size, int type, const SaveOptions& options,
                 const PngMetadata& metadata, double xres, double yres)
    : writer_(std::make_unique<PngWriter>(std::move(sink))), rows_left_(size.height) {
  static constexpr int kColourTypes[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                         PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  const int channels = CV_MAT_CN(type), depth = CV_MAT_DEPTH(type);
  if (channels > 4 || (depth != CV_8U && depth != CV_16U))
    throw Error(ErrorCategory::internal, "PNG encode: 1 to 4 channels of 8 or 16 bits expected");
  png_structp png = writer_->png();
  png_infop info = writer_->info();
  const bool sixteen = depth == CV_16U;
  png_set_IHDR(png, info, static_cast<png_uint_32>(size.width), static_cast<png_uint_32>(size.height),
               sixteen ? 16 : 8, kColourTypes[channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  writer_->set_metadata(metadata);
  // The resolution, in pixels per metre (PNG's only unit), as libvips writes it.
  if (xres > 0 && yres > 0)
    png_set_pHYs(png, info, static_cast<png_uint_32>(std::lround(xres * 1000)),
                 static_cast<png_uint_32>(std::lround(yres * 1000)), PNG_RESOLUTION_METER);
  // Rows unfiltered up to level 6, as libvips writes them: filtering makes photos a quarter
  // smaller but zlib two to three times slower on them. Levels 7..9 ask for the smallest file
  // and get libpng's adaptive choice (each row the filter with the smallest sum of residuals).
  png_set_filter(png, 0, options.compression >= 7 ? PNG_ALL_FILTERS : PNG_FILTER_NONE);
  png_set_compression_level(png, options.compression);
  png_write_info(png, info);
  if (sixteen) png_set_swap(png);  // PNG stores 16-bit samples most significant byte first
}

PngRows::~PngRows() = default;

void PngRows::write(const std::uint8_t* row) {
  png_write_row(writer_->png(), const_cast<png_bytep>(row));
  if (--rows_left_ == 0) png_write_end(writer_->png(), nullptr);
}

std::vector<std::uint8_t> encode_png_truecolour(const Image& image, const SaveOptions& options) {
  const cv::Mat& px = image.pixels;
  std::vector<std::uint8_t> out;
  const std::vector<std::uint8_t> exif =
      options.keep_metadata ? exif_for_output(image) : std::vector<std::uint8_t>{};
  const PngMetadata metadata = options.keep_metadata ? PngMetadata{exif, image.icc} : PngMetadata{};
  PngRows rows(to_vector(out), px.size(), px.type(), options, metadata, image.xres, image.yres);
  for (int y = 0; y < px.rows; ++y) rows.write(px.ptr<std::uint8_t>(y));
  return out;
}

std::optional<std::vector<std::uint8_t>> encode_png_indexed(const Image& image, const SaveOptions& options) {
  const cv::Mat& px = image.pixels;
  const int cn = px.channels();
  // 16-bit would lose precision. Grey and grey + alpha stay as they are: a palette PNG
  // decodes as colour, so they would come back as RGB(A).
  if (px.depth() != CV_8U || cn < 3) return std::nullopt;
  ColourTable table;
  cv::Mat indices(px.size(), CV_8UC1);
  for (int y = 0; y < px.rows; ++y) {
    const std::uint8_t* s = px.ptr<std::uint8_t>(y);
    std::uint8_t* d = indices.ptr<std::uint8_t>(y);
    std::uint32_t previous_key = ~0u;
    int previous_index = 0;
    for (int x = 0; x < px.cols; ++x, s += cn) {
      std::uint32_t key = 0;
      std::memcpy(&key, s, static_cast<std::size_t>(cn));
      if (key != previous_key) {
        previous_index = table.index_of(key);
        if (previous_index < 0) return std::nullopt;
        previous_key = key;
      }
      d[x] = static_cast<std::uint8_t>(previous_index);
    }
  }
  std::vector<std::array<std::uint8_t, 4>> colours;
  for (std::uint32_t key : table.colours()) {
    std::array<std::uint8_t, 4> b{};
    std::memcpy(b.data(), &key, 4);
    if (cn == 3)
      colours.push_back({b[0], b[1], b[2], 255});
    else
      colours.push_back(b);
  }
  if (!options.keep_metadata) return write_png_palette(indices, colours, options.compression);
  const auto exif = exif_for_output(image);
  return write_png_palette(indices, colours, options.compression, {exif, image.icc});
}

}  // namespace imgpipe::detail
