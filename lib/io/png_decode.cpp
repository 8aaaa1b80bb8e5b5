// PNG read by libpng as libvips's pngload (8.14, libvips/foreign/vipspng.c) reads it: the same
// transforms (palette to RGB, tRNS to alpha, 1/2/4-bit grey to 8, 16-bit in native order,
// interlace handled), the same checks left out (sRGB profile check, zlib's Adler-32), the same
// metadata (iCCP, eXIf before the pixels, pHYs with 72 dpi when absent).
#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstring>
#include <exception>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>

#include "direct_decode.hpp"

namespace imgpipe::detail {

namespace {

constexpr std::size_t kPngReadBlock = 64 * 1024;
constexpr std::uint32_t kMaxSide = 10000000;  // libvips's VIPS_MAX_COORD

// libpng reads through this, a block at a time; a fatal error longjmps back to guarded()'s
// setjmp (libpng is C: no C++ exception may cross it).
struct PngInput {
  const ReadAt* read = nullptr;
  std::uint64_t size = 0;
  std::uint64_t offset = 0;  // of the next block
  std::vector<std::uint8_t> block;
  std::size_t at = 0, end = 0;  // what is left of the block
  std::string error;            // libpng's first error
  std::exception_ptr thrown;    // ReadAt's, kept until libpng has returned
};

void on_decode_error(png_structp png, png_const_charp message) {
  auto* input = static_cast<PngInput*>(png_get_error_ptr(png));
  if (input->error.empty()) input->error = message;
  png_longjmp(png, 1);
}

void on_decode_warning(png_structp, png_const_charp) {}  // libvips only logs them

// Fills the block from ReadAt; false at the end of the data or when ReadAt threw.
bool refill(PngInput& input) {
  if (input.offset >= input.size) return false;
  input.block.resize(kPngReadBlock);
  const auto want =
      static_cast<std::size_t>(std::min<std::uint64_t>(kPngReadBlock, input.size - input.offset));
  try {
    input.end = (*input.read)(input.offset, std::span(input.block.data(), want));
  } catch (...) {
    input.thrown = std::current_exception();
    return false;
  }
  input.at = 0;
  input.offset += input.end;
  return input.end > 0;
}

void read_png_data(png_structp png, png_bytep out, png_size_t length) {
  auto& input = *static_cast<PngInput*>(png_get_io_ptr(png));
  while (length > 0) {
    if (input.at == input.end && !refill(input))
      png_error(png, input.thrown ? "the file could not be read" : "not enough data: the file ends early");
    const std::size_t n = std::min(length, input.end - input.at);
    std::memcpy(out, input.block.data() + input.at, n);
    input.at += n;
    out += n;
    length -= n;
  }
}

// One libpng reader over a source, set up as libvips sets up its own.
class PngReader {
 public:
  PngReader(const ReadAt& read, std::uint64_t size) {
    input_.read = &read;
    input_.size = size;
    png_ = png_create_read_struct(PNG_LIBPNG_VER_STRING, &input_, on_decode_error, on_decode_warning);
    if (png_) info_ = png_create_info_struct(png_);
    if (!png_ || !info_) {
      png_destroy_read_struct(&png_, &info_, nullptr);
      throw std::bad_alloc();
    }
    png_set_option(png_, PNG_SKIP_sRGB_CHECK_PROFILE, PNG_OPTION_ON);
    png_set_option(png_, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
    png_set_user_limits(png_, kMaxSide, kMaxSide);
    png_set_chunk_malloc_max(png_, 50 * 1024 * 1024);
    png_set_chunk_cache_max(png_, 100);
    png_set_read_fn(png_, &input_, read_png_data);
  }
  PngReader(const PngReader&) = delete;
  PngReader& operator=(const PngReader&) = delete;
  ~PngReader() { png_destroy_read_struct(&png_, &info_, nullptr); }

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }
  const PngInput& input() const { return input_; }

 private:
  PngInput input_;
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// Runs `step` with libpng's errors caught: false when it failed (the message is in the
// reader's input). Nothing in this frame changes after setjmp, and `step` keeps nothing with a
// destructor in its own frames (an error longjmps past them): what it makes lives in `arg`.
template <class Arg>
bool guarded(const PngReader& reader, void (*step)(png_structp, png_infop, Arg*), Arg* arg) {
  if (setjmp(png_jmpbuf(reader.png()))) return false;
  step(reader.png(), reader.info(), arg);
  return true;
}

[[noreturn]] void fail_png(const PngReader& reader, const std::string& name) {
  if (reader.input().thrown) std::rethrow_exception(reader.input().thrown);
  throw Error(ErrorCategory::decode, fmt::format("{}: libpng read error: {}", name, reader.input().error));
}

// png_read_info and libvips's transforms; the header as decoded.
void read_info(png_structp png, png_infop info, DirectHeader* header) {
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, colour = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &colour, &interlace, nullptr, nullptr);
  int channels = colour == PNG_COLOR_TYPE_GRAY || colour == PNG_COLOR_TYPE_GRAY_ALPHA ? 1 : 3;
  if (colour == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) {
    png_set_tRNS_to_alpha(png);
    ++channels;
  } else if (colour & PNG_COLOR_MASK_ALPHA) {
    ++channels;
  }
  if (colour == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (bit_depth > 8) png_set_swap(png);  // x86-64 and arm64 are little-endian
  (void)png_set_interlace_handling(png);
  png_read_update_info(png, info);

  header->size = cv::Size(static_cast<int>(width), static_cast<int>(height));
  header->channels = channels;
  header->bit_depth = bit_depth > 8 ? 16 : 8;
  if (png_get_rowbytes(png, info) !=
      std::size_t{width} * static_cast<std::size_t>(channels * header->bit_depth / 8))
    png_error(png, "unable to read PNG header");

  png_uint_32 xres = static_cast<png_uint_32>(72.0 / 2.54 * 100.0), yres = xres;
  int unit = PNG_RESOLUTION_METER;
  png_get_pHYs(png, info, &xres, &yres, &unit);
  header->xres = unit == PNG_RESOLUTION_METER ? xres / 1000.0 : xres;
  header->yres = unit == PNG_RESOLUTION_METER ? yres / 1000.0 : yres;

  png_charp profile_name = nullptr;
  int compression = 0;
  png_bytep profile = nullptr;
  png_uint_32 profile_bytes = 0;
  if (png_get_iCCP(png, info, &profile_name, &compression, &profile, &profile_bytes))
    header->icc.assign(profile, profile + profile_bytes);
  png_uint_32 exif_bytes = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_bytes, &exif)) header->exif.assign(exif, exif + exif_bytes);
}

// What read_pixels fills; owned by the caller of guarded(), because a libpng error longjmps
// past read_pixels' frame, where no destructor would run.
struct PixelsRead {
  DirectHeader header;
  cv::Mat pixels;
  std::vector<png_bytep> rows;
};

void read_pixels(png_structp png, png_infop info, PixelsRead* out) {
  read_info(png, info, &out->header);
  const DirectHeader& header = out->header;
  out->pixels.allocator = large_page_allocator();  // written whole at once, as libvips's decode is
  out->pixels.create(header.size, CV_MAKETYPE(header.bit_depth == 16 ? CV_16U : CV_8U, header.channels));
  out->rows.resize(static_cast<std::size_t>(header.size.height));
  for (int y = 0; y < header.size.height; ++y) out->rows[static_cast<std::size_t>(y)] = out->pixels.ptr(y);
  png_read_image(png, out->rows.data());
}

}  // namespace

bool is_png(std::span<const std::uint8_t> head) {
  return head.size() >= 8 && png_sig_cmp(head.data(), 0, 8) == 0;
}

DirectHeader read_png_header(const ReadAt& read, std::uint64_t size, const std::string& name) {
  const PngReader reader(read, size);
  DirectHeader header;
  if (!guarded(reader, read_info, &header)) fail_png(reader, name);
  return header;
}

std::optional<cv::Mat> decode_png(const ReadAt& read, std::uint64_t size, FailOn fail_on,
                                  const std::string& name) {
  const PngReader reader(read, size);
  PixelsRead out;
  if (guarded(reader, read_pixels, &out)) return std::move(out.pixels);
  if (fail_on == FailOn::none && !reader.input().thrown && out.header.channels > 0) return std::nullopt;
  fail_png(reader, name);
}

}  // namespace imgpipe::detail
