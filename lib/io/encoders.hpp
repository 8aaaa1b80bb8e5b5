#pragma once
// Encoders shared inside the io layer.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <imgpipe/io.hpp>
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

// Palette PNG from indices + table. The compressed index stream is kept in the image's
// cache, so images sharing indices (variants of one clustering) compress it once.
std::vector<std::uint8_t> encode_png_from_indices(const IndexedPixels& indexed, const SaveOptions& options);

// JPEG through libjpeg-turbo (jpeg_encode.cpp): alpha composited onto the background, 16-bit
// samples scaled to 8, EXIF and ICC when metadata is kept.
std::vector<std::uint8_t> encode_jpeg(const Image& image, const SaveOptions& options);

std::vector<std::uint8_t> encode_webp(const Image& image, const SaveOptions& options, QualityPreset preset);

}  // namespace imgpipe::detail
