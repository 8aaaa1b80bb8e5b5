#pragma once
// Encoders shared inside the io layer.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <imgpipe/io.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <span>
#include <vector>

namespace imgpipe::detail {

// The process umask without changing it (umask() would race with other threads).
mode_t current_umask();

// WebP effort (libwebp's method 0..6) for a quality preset when none is set.
int default_webp_method(QualityPreset preset);

// 16-bit samples as 8-bit, v / 257 rounded; 8-bit pixels as they are.
cv::Mat to_8bit(const cv::Mat& pixels);

// Palette PNG when an 8-bit RGB or RGBA image has at most 256 distinct pixel values;
// nullopt otherwise (the caller then writes a truecolour PNG).
std::optional<std::vector<std::uint8_t>> encode_png_indexed(const Image& image, const SaveOptions& options);

// What a palette PNG carries besides pixels; empty spans are left out.
struct PngMetadata {
  std::span<const std::uint8_t> exif;  // with or without the "Exif\0\0" prefix
  std::span<const std::uint8_t> icc;
};

// Writes a palette PNG from an index image (CV_8UC1) and its colour table (RGBA).
std::vector<std::uint8_t> write_png_palette(const cv::Mat& indices,
                                            const std::vector<std::array<std::uint8_t, 4>>& table,
                                            int compression, const PngMetadata& metadata = {});

// Truecolour PNG through libpng: grey, grey + alpha, RGB or RGBA of 8 or 16 bits, with EXIF,
// ICC (when metadata is kept) and the resolution.
std::vector<std::uint8_t> encode_png_truecolour(const Image& image, const SaveOptions& options);

// The same written a row at a time into `sink`, as rows come (a streamed output's pipeline):
// the same bytes as encode_png_truecolour for the same rows. Rows are `size.width` pixels of
// `type` (CV_8UC1..4, CV_16UC1..4); the file ends with the last row. `metadata` is written as
// given (empty when it is not kept, as write_png_palette takes it); xres and yres are in
// pixels per millimetre, 0 when unknown.
using PngSink = std::function<void(std::span<const std::uint8_t>)>;
class PngWriter;
class PngRows {
 public:
  PngRows(PngSink sink, cv::Size size, int type, const SaveOptions& options, const PngMetadata& metadata,
          double xres, double yres);
  PngRows(const PngRows&) = delete;
  PngRows& operator=(const PngRows&) = delete;
  ~PngRows();
  void write(const std::uint8_t* row);

 private:
  std::unique_ptr<PngWriter> writer_;
  int rows_left_;
};

// Palette PNG from indices + table. The compressed index stream is kept in the image's
// cache, so images sharing indices (variants of one clustering) compress it once.
std::vector<std::uint8_t> encode_png_from_indices(const IndexedPixels& indexed, const SaveOptions& options);

// JPEG through libjpeg-turbo (jpeg_encode.cpp): alpha composited onto the background, 16-bit
// samples scaled to 8, EXIF and ICC when metadata is kept.
std::vector<std::uint8_t> encode_jpeg(const Image& image, const SaveOptions& options);

std::vector<std::uint8_t> encode_webp(const Image& image, const SaveOptions& options, QualityPreset preset);

}  // namespace imgpipe::detail
