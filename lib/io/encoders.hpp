#pragma once
// Encoders shared inside the io layer.

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include <imgpipe/io.hpp>
#include <opencv2/core/mat.hpp>

namespace imgpipe::detail {

cv::Mat to_8bit(const cv::Mat& pixels);
// Composites alpha onto an opaque background; images without alpha are returned as is.
cv::Mat flatten_alpha(const cv::Mat& pixels, const std::uint8_t background[3]);

// Palette PNG when an 8-bit image with colour or alpha has at most 256 distinct pixel
// values; nullopt otherwise (the caller then writes a truecolour PNG).
std::optional<std::vector<std::uint8_t>> encode_png_indexed(const Image& image,
                                                            const SaveOptions& options);

// Writes a palette PNG from an index image (CV_8UC1) and its colour table (RGBA).
std::vector<std::uint8_t> write_png_palette(const cv::Mat& indices,
                                            const std::vector<std::array<std::uint8_t, 4>>& table,
                                            int compression);

std::vector<std::uint8_t> encode_webp(const Image& image, const SaveOptions& options,
                                      QualityPreset preset);

}  // namespace imgpipe::detail
