// JPEG written by libjpeg-turbo directly, as libvips's jpegsave writes it (the same quality
// scale, chroma subsampling off from quality 90, optimised Huffman tables, progressive on
// request, JFIF density, EXIF and ICC when kept), without loading libvips: a process or a
// service that reads and writes JPEG never needs its ~100 libraries. Streamed outputs still go
// through libvips (save_to_target), which writes a region at a time.

// jpeglib.h uses FILE and size_t without including <cstdio> itself.
// clang-format off
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include <fmt/format.h>

#include <algorithm>
#include <csetjmp>
#include <imgpipe/error.hpp>
#include <opencv2/core.hpp>
#include <span>

#include "encoders.hpp"
#include "exif.hpp"

namespace imgpipe::detail {

namespace {

struct EncodeErrors {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

void on_encode_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<EncodeErrors*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void on_encode_message(j_common_ptr, int) {}

// A destination that appends to a vector, grown as libjpeg fills it.
struct VectorTarget {
  jpeg_destination_mgr pub;
  std::vector<std::uint8_t>* bytes;
};

constexpr std::size_t kGrowth = 64 * 1024;

void init_destination(j_compress_ptr cinfo) {
  auto* target = reinterpret_cast<VectorTarget*>(cinfo->dest);
  target->bytes->resize(kGrowth);
  target->pub.next_output_byte = target->bytes->data();
  target->pub.free_in_buffer = target->bytes->size();
}

boolean empty_output_buffer(j_compress_ptr cinfo) {
  auto* target = reinterpret_cast<VectorTarget*>(cinfo->dest);
  const std::size_t used = target->bytes->size();  // libjpeg hands back the whole buffer
  target->bytes->resize(used + std::max(kGrowth, used / 2));
  target->pub.next_output_byte = target->bytes->data() + used;
  target->pub.free_in_buffer = target->bytes->size() - used;
  return TRUE;
}

void term_destination(j_compress_ptr cinfo) {
  auto* target = reinterpret_cast<VectorTarget*>(cinfo->dest);
  target->bytes->resize(target->bytes->size() - target->pub.free_in_buffer);
}

// 8-bit grey or RGB: alpha composited onto the background (in float, rounded once), 16-bit
// samples scaled as to_8bit does.
cv::Mat opaque_8bit(const cv::Mat& pixels, const std::uint8_t (&background)[3]) {
  const int channels = pixels.channels();
  if (channels == 1 || channels == 3) return to_8bit(pixels);
  const double max = pixels.depth() == CV_16U ? 65535.0 : 255.0;
  cv::Mat colour, alpha;
  cv::Mat planes[4];
  cv::split(pixels, planes);
  const int colours = channels - 1;
  planes[colours].convertTo(alpha, CV_32F, 1.0 / max);
  const cv::Mat rest = 1.0 - alpha;
  const double grey_background = (background[0] + background[1] + background[2]) / 3.0;
  std::vector<cv::Mat> out(static_cast<std::size_t>(colours));
  for (int c = 0; c < colours; ++c) {
    cv::Mat plane;
    planes[c].convertTo(plane, CV_32F, 255.0 / max);
    const double fill = colours == 1 ? grey_background : background[c];
    cv::Mat blended = plane.mul(alpha) + rest * fill;
    blended.convertTo(out[static_cast<std::size_t>(c)], CV_8U);
  }
  cv::merge(out, colour);
  return colour;
}

// What one JPEG is made from, settled before libjpeg runs.
struct JpegJob {
  cv::Mat pixels;  // 8-bit grey or RGB
  int quality = 85;
  bool progressive = false;
  int density_unit = 0;  // JFIF: 0 none, 1 dpi, 2 dots per cm
  UINT16 x_density = 1, y_density = 1;
  std::vector<std::uint8_t> app1;  // "Exif\0\0" + TIFF, or empty
  std::span<const std::uint8_t> icc;
};

// The job compressed into `bytes`; false with errors.message when libjpeg fails. Kept apart
// from encode_jpeg so that nothing longjmp could clobber lives in this frame but libjpeg's.
bool compress(const JpegJob& job, std::vector<std::uint8_t>& bytes, EncodeErrors& errors) {
  jpeg_compress_struct cinfo{};
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_encode_error;
  errors.pub.emit_message = on_encode_message;
  VectorTarget target{};
  target.bytes = &bytes;
  if (setjmp(errors.jump)) {
    jpeg_destroy_compress(&cinfo);
    return false;
  }
  jpeg_create_compress(&cinfo);
  target.pub.init_destination = init_destination;
  target.pub.empty_output_buffer = empty_output_buffer;
  target.pub.term_destination = term_destination;
  cinfo.dest = &target.pub;
  cinfo.image_width = static_cast<JDIMENSION>(job.pixels.cols);
  cinfo.image_height = static_cast<JDIMENSION>(job.pixels.rows);
  cinfo.input_components = job.pixels.channels();
  cinfo.in_color_space = job.pixels.channels() == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, job.quality, TRUE);
  cinfo.optimize_coding = TRUE;
  // libvips's default: chroma at full resolution from quality 90, halved both ways below.
  if (job.quality >= 90 && job.pixels.channels() == 3)
    for (int c = 0; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  if (job.progressive) jpeg_simple_progression(&cinfo);
  if (job.density_unit) {
    cinfo.density_unit = static_cast<UINT8>(job.density_unit);
    cinfo.X_density = job.x_density;
    cinfo.Y_density = job.y_density;
  }
  jpeg_start_compress(&cinfo, TRUE);
  if (!job.app1.empty())
    jpeg_write_marker(&cinfo, JPEG_APP0 + 1, job.app1.data(), static_cast<unsigned>(job.app1.size()));
  if (!job.icc.empty()) jpeg_write_icc_profile(&cinfo, job.icc.data(), static_cast<unsigned>(job.icc.size()));
  while (cinfo.next_scanline < cinfo.image_height) {
    auto* row = const_cast<JSAMPROW>(job.pixels.ptr<std::uint8_t>(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_jpeg(const Image& image, const SaveOptions& options) {
  JpegJob job;
  job.pixels = opaque_8bit(image.pixels, options.background);
  job.quality = options.quality ? options.quality : 85;
  job.progressive = options.progressive;
  // The resolution in the JFIF header, in the unit the source gave (inches unless centimetres).
  if (image.xres > 0 && image.yres > 0) {
    const bool cm = image.resolution_unit == "cm";
    const double per_mm = cm ? 10.0 : 25.4;
    job.density_unit = cm ? 2 : 1;
    job.x_density = static_cast<UINT16>(std::clamp(std::lround(image.xres * per_mm), 1L, 65535L));
    job.y_density = static_cast<UINT16>(std::clamp(std::lround(image.yres * per_mm), 1L, 65535L));
  }
  if (options.keep_metadata) {
    // APP1 holds the TIFF structure after an "Exif\0\0" prefix, which Image::exif may lack. A
    // block larger than one marker segment is left out, as libvips leaves it.
    const std::vector<std::uint8_t> exif = exif_for_output(image);
    const auto tiff = exif_tiff(exif);
    if (!tiff.empty() && tiff.size() + 6 <= 65533) {
      job.app1 = {'E', 'x', 'i', 'f', 0, 0};
      job.app1.insert(job.app1.end(), tiff.begin(), tiff.end());
    }
    job.icc = image.icc;
  }
  std::vector<std::uint8_t> bytes;
  EncodeErrors errors;
  if (!compress(job, bytes, errors))
    throw Error(ErrorCategory::io, fmt::format("jpeg encode failed: {}", errors.message));
  return bytes;
}

}  // namespace imgpipe::detail
