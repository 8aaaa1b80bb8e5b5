// WebP through libwebp directly: every encoder knob (method, near-lossless, alpha quality,
// target size) is available, and metadata goes in through libwebpmux.

#include <fmt/format.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <imgpipe/error.hpp>
#include <opencv2/imgproc.hpp>

#include "../core/channels.hpp"
#include "encoders.hpp"
#include "exif.hpp"

namespace imgpipe::detail {

int default_webp_method(QualityPreset preset) {
  switch (preset) {
    case QualityPreset::ultra: return 6;
    case QualityPreset::high: return 5;
    case QualityPreset::balanced: return 4;
    case QualityPreset::fast: return 2;
    case QualityPreset::draft: return 0;
  }
  return 4;
}

namespace {

const char* describe(WebPEncodingError error) {
  switch (error) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory for the bitstream";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "dimensions out of range (at most 16383x16383)";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "partition overflow";
    case VP8_ENC_ERROR_BAD_WRITE: return "write failed";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "file too big";
    default: return "encoder error";
  }
}

std::vector<std::uint8_t> add_metadata(std::vector<std::uint8_t> webp, const Image& image) {
  const auto exif = exif_for_output(image);
  if (exif.empty() && image.icc.empty()) return webp;
  WebPData data{webp.data(), webp.size()};
  WebPMux* mux = WebPMuxCreate(&data, 1);
  if (!mux) throw Error(ErrorCategory::internal, "libwebpmux could not read the encoded image");
  auto set = [&](const char* fourcc, std::span<const std::uint8_t> bytes) {
    if (bytes.empty()) return;
    WebPData chunk{bytes.data(), bytes.size()};
    WebPMuxSetChunk(mux, fourcc, &chunk, 1);
  };
  set("EXIF", exif_tiff(exif));  // WebP's EXIF chunk holds the TIFF structure alone
  set("ICCP", image.icc);
  WebPData assembled{nullptr, 0};
  WebPMuxError rc = WebPMuxAssemble(mux, &assembled);
  WebPMuxDelete(mux);
  if (rc != WEBP_MUX_OK) throw Error(ErrorCategory::internal, "libwebpmux could not add metadata");
  std::vector<std::uint8_t> out(assembled.bytes, assembled.bytes + assembled.size);
  WebPDataClear(&assembled);
  return out;
}

}  // namespace

std::vector<std::uint8_t> encode_webp(const Image& image, const SaveOptions& options, QualityPreset preset) {
  cv::Mat pixels = to_8bit(image.pixels);
  pixels = grey_to_rgb(pixels);  // libwebp takes RGB(A) only
  WebPConfig config;
  const float quality = static_cast<float>(options.quality ? options.quality : 80);
  if (!WebPConfigPreset(&config, WEBP_PRESET_DEFAULT, quality))
    throw Error(ErrorCategory::internal, "libwebp version mismatch");
  config.method = options.method >= 0 ? options.method : default_webp_method(preset);
  config.lossless = options.lossless ? 1 : 0;
  config.near_lossless = options.near_lossless;
  config.alpha_quality = options.alpha_quality;
  config.target_size = static_cast<int>(options.target_size);
  if (options.near_lossless < 100) config.lossless = 1;  // near-lossless is a lossless mode
  // Lossless means every sample back as it was, colour under transparent pixels included
  // (libwebp otherwise rewrites it to compress better).
  config.exact = config.lossless && options.near_lossless == 100;
  // One pass sets the quantiser from the quality alone; aiming at a size needs libwebp's
  // search over several passes.
  if (options.target_size) config.pass = 6;
  if (!WebPValidateConfig(&config))
    throw Error(ErrorCategory::config, "webp: invalid encoder settings (quality 0..100, method 0..6)");

  WebPPicture picture;
  if (!WebPPictureInit(&picture)) throw Error(ErrorCategory::internal, "libwebp version mismatch");
  picture.width = pixels.cols;
  picture.height = pixels.rows;
  picture.use_argb = config.lossless;
  const int stride = static_cast<int>(pixels.step[0]);
  const int ok = pixels.channels() == 4 ? WebPPictureImportRGBA(&picture, pixels.data, stride)
                                        : WebPPictureImportRGB(&picture, pixels.data, stride);
  if (!ok) {
    WebPPictureFree(&picture);
    throw Error(ErrorCategory::io, fmt::format("WebP encode failed: {}", describe(picture.error_code)));
  }
  WebPMemoryWriter writer;
  WebPMemoryWriterInit(&writer);
  picture.writer = WebPMemoryWrite;
  picture.custom_ptr = &writer;
  const int encoded = WebPEncode(&config, &picture);
  const auto error = picture.error_code;
  WebPPictureFree(&picture);
  std::vector<std::uint8_t> out(writer.mem, writer.mem + writer.size);
  WebPMemoryWriterClear(&writer);
  if (!encoded) throw Error(ErrorCategory::io, fmt::format("WebP encode failed: {}", describe(error)));
  return options.keep_metadata ? add_metadata(std::move(out), image) : out;
}

}  // namespace imgpipe::detail
