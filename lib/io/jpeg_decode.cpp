#include "jpeg_decode.hpp"

// jpeglib.h uses FILE and size_t without including <cstdio> itself.
// clang-format off
#include <cstdio>
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include <fmt/format.h>

#include <algorithm>
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <vector>

namespace imgpipe::detail {

int jpeg_scale_for(cv::Size stored, cv::Size least) {
  for (int eighths = 1; eighths < 8; ++eighths) {
    const cv::Size scaled = jpeg_scaled_size(stored, eighths);
    if (scaled.width >= least.width && scaled.height >= least.height) return eighths;
  }
  return 8;
}

cv::Size jpeg_scaled_size(cv::Size stored, int eighths) {
  // jdiv_round_up(dimension * scale_num, scale_denom), as jpeg_calc_output_dimensions does.
  const auto scaled = [&](int side) {
    return static_cast<int>((static_cast<std::int64_t>(side) * eighths + 7) / 8);
  };
  return {scaled(stored.width), scaled(stored.height)};
}

namespace {

constexpr std::size_t kReadBlock = 64 * 1024;

// libjpeg reports through callbacks; a fatal error longjmps back to run_decoder's setjmp
// (libjpeg is C: no C++ exception may cross it). Warnings are counted; whether they fail the
// decode is fail_on's.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char first_warning[JMSG_LENGTH_MAX] = {};
  bool warned = false;
  bool truncated = false;
  char message[JMSG_LENGTH_MAX] = {};
};

void on_error(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) errors->truncated = true;
  if (!errors->warned) (*cinfo->err->format_message)(cinfo, errors->first_warning);
  errors->warned = true;
}

// A source manager reading the file in blocks through ReadAt (pread on the descriptor, or a
// buffer): nothing but one block is held, and a file that ends early ends in a fake EOI with
// libjpeg's "Premature end of JPEG file" warning, as its own stdio source does.
struct Reader {
  jpeg_source_mgr pub;
  const ReadAt* read;
  std::uint64_t size;
  std::uint64_t offset = 0;
  std::vector<std::uint8_t> block;
  bool failed = false;  // ReadAt threw: the exception cannot cross libjpeg
};

void init_source(j_decompress_ptr) {}
void term_source(j_decompress_ptr) {}

boolean fill_input_buffer(j_decompress_ptr cinfo) {
  auto* reader = reinterpret_cast<Reader*>(cinfo->src);
  std::size_t n = 0;
  if (reader->offset < reader->size) {
    try {
      n = (*reader->read)(reader->offset, reader->block);
    } catch (...) {
      reader->failed = true;
      n = 0;
    }
  }
  if (n == 0) {
    static constexpr JOCTET kEoi[] = {0xff, JPEG_EOI};
    WARNMS(cinfo, JWRN_JPEG_EOF);
    reader->pub.next_input_byte = kEoi;
    reader->pub.bytes_in_buffer = sizeof kEoi;
    return TRUE;
  }
  reader->offset += n;
  reader->pub.next_input_byte = reader->block.data();
  reader->pub.bytes_in_buffer = n;
  return TRUE;
}

void skip_input_data(j_decompress_ptr cinfo, long count) {
  auto* reader = reinterpret_cast<Reader*>(cinfo->src);
  if (count <= 0) return;
  auto skip = static_cast<std::size_t>(count);
  if (skip <= reader->pub.bytes_in_buffer) {
    reader->pub.next_input_byte += skip;
    reader->pub.bytes_in_buffer -= skip;
    return;
  }
  skip -= reader->pub.bytes_in_buffer;
  reader->pub.bytes_in_buffer = 0;
  reader->offset = std::min<std::uint64_t>(reader->size, reader->offset + skip);
}

// The decompressor, destroyed however decode_jpeg leaves (jpeg_destroy on a structure
// jpeg_create never set up does nothing: its memory manager is null).
struct Decompressor {
  jpeg_decompress_struct cinfo{};
  ~Decompressor() { jpeg_destroy_decompress(&cinfo); }
};

enum class Outcome { done, declined, failed };

bool for_this_decoder(const jpeg_decompress_struct& cinfo) {
  const bool grey = cinfo.jpeg_color_space == JCS_GRAYSCALE && cinfo.num_components == 1;
  const bool colour =
      (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) && cinfo.num_components == 3;
  return cinfo.data_precision == 8 && (grey || colour);
}

// The libjpeg calls, with the setjmp that libjpeg's fatal errors jump back to. Nothing here has
// a destructor or is changed between setjmp and a jump but through the references, which
// live in the caller: a longjmp may skip no destructor and leaves locals changed since the
// setjmp indeterminate. With `header`, reads the header and its markers only; otherwise
// decodes at eighths/8 into `pixels`.
Outcome run_decoder(jpeg_decompress_struct& cinfo, ErrorManager& errors, Reader& reader, int eighths,
                    cv::Mat& pixels, JpegHeader* header) {
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = on_error;
  errors.pub.emit_message = on_message;
  if (setjmp(errors.jump)) return Outcome::failed;
  jpeg_create_decompress(&cinfo);
  reader.pub.init_source = init_source;
  reader.pub.fill_input_buffer = fill_input_buffer;
  reader.pub.skip_input_data = skip_input_data;
  reader.pub.resync_to_restart = jpeg_resync_to_restart;
  reader.pub.term_source = term_source;
  cinfo.src = &reader.pub;
  if (header) {
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xffff);  // EXIF
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xffff);  // ICC profile chunks
  }
  jpeg_read_header(&cinfo, TRUE);
  if (header) {
    header->size = {static_cast<int>(cinfo.image_width), static_cast<int>(cinfo.image_height)};
    header->channels = for_this_decoder(cinfo) ? cinfo.num_components : 0;
    header->components = cinfo.num_components;
    for (auto* marker = cinfo.marker_list; marker; marker = marker->next)
      if (marker->marker == JPEG_APP0 + 1 && marker->data_length >= 6 &&
          std::memcmp(marker->data, "Exif\0\0", 6) == 0 && header->exif.empty())
        header->exif.assign(marker->data, marker->data + marker->data_length);
    JOCTET* icc = nullptr;
    unsigned int icc_length = 0;
    if (jpeg_read_icc_profile(&cinfo, &icc, &icc_length) && icc) {
      header->icc.assign(icc, icc + icc_length);
      std::free(icc);
    }
    if (cinfo.saw_JFIF_marker) {
      header->density_unit = cinfo.density_unit;
      header->x_density = cinfo.X_density;
      header->y_density = cinfo.Y_density;
    }
    return Outcome::done;
  }
  if (!for_this_decoder(cinfo)) return Outcome::declined;

  const bool grey = cinfo.num_components == 1;
  cinfo.out_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
  cinfo.scale_num = static_cast<unsigned>(std::clamp(eighths, 1, 8));
  cinfo.scale_denom = 8;
  cinfo.dct_method = JDCT_ISLOW;  // libjpeg-turbo's SIMD integer IDCT, as libvips decodes
  jpeg_start_decompress(&cinfo);
  pixels.create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width),
                grey ? CV_8UC1 : CV_8UC3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[8];
    const int row = static_cast<int>(cinfo.output_scanline);
    const int count = std::min(8, pixels.rows - row);
    for (int i = 0; i < count; ++i) rows[i] = pixels.ptr<JSAMPLE>(row + i);
    jpeg_read_scanlines(&cinfo, rows, static_cast<JDIMENSION>(count));
  }
  jpeg_finish_decompress(&cinfo);
  return Outcome::done;
}

// One run of the decoder over `read`, with its errors thrown as imgpipe errors naming `name`.
struct Run {
  ErrorManager errors;
  Reader reader{};
  Decompressor decompressor;
  Outcome outcome = Outcome::failed;

  Run(const ReadAt& read, std::uint64_t size, int eighths, cv::Mat& pixels, JpegHeader* header,
      const std::string& name) {
    reader.read = &read;
    reader.size = size;
    reader.block.resize(kReadBlock);
    outcome = run_decoder(decompressor.cinfo, errors, reader, eighths, pixels, header);
    if (reader.failed) throw Error(ErrorCategory::io, fmt::format("{}: read failed", name));
    // A file that ends early fails on whatever libjpeg then reads; the end is the news.
    if (outcome == Outcome::failed)
      throw Error(ErrorCategory::decode,
                  errors.truncated ? fmt::format("{}: {} ({})", name, errors.first_warning, errors.message)
                                   : fmt::format("{}: {}", name, errors.message));
  }
};

}  // namespace

JpegHeader read_jpeg_header(const ReadAt& read, std::uint64_t size, const std::string& name) {
  JpegHeader header;
  cv::Mat unused;
  Run(read, size, 8, unused, &header, name);
  return header;
}

std::optional<cv::Mat> decode_jpeg(const ReadAt& read, std::uint64_t size, int eighths, FailOn fail_on,
                                   const std::string& name) {
  cv::Mat pixels;
  pixels.allocator = large_page_allocator();  // written whole at once, as libvips's decode is
  const Run run(read, size, eighths, pixels, nullptr, name);
  if (run.outcome == Outcome::declined) return std::nullopt;
  const ErrorManager& errors = run.errors;
  const bool fails = fail_on == FailOn::warning ? errors.warned : fail_on != FailOn::none && errors.truncated;
  if (fails) throw Error(ErrorCategory::decode, fmt::format("{}: {}", name, errors.first_warning));
  return pixels;
}

}  // namespace imgpipe::detail
