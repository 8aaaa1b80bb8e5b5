// Broken and refused inputs: each fails with the right category and a message that names
// the file and says what is wrong; refused saves leave nothing behind.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <string>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;

namespace {

// Runs f, which must throw imgpipe::Error; returns it for inspection.
template <class F>
Error error_from(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected imgpipe::Error, got another exception: " << e.what();
    return Error(ErrorCategory::internal, e.what());
  }
  ADD_FAILURE() << "expected imgpipe::Error, nothing was thrown";
  return Error(ErrorCategory::internal, "nothing thrown");
}

bool mentions(const Error& e, const std::string& text) {
  return std::string(e.what()).find(text) != std::string::npos;
}

// Loading `path` fails with `category`, and the message names the file and says `words`.
void expect_load_error(const fs::path& path, ErrorCategory category, const std::string& words) {
  Error e = error_from([&] { load(path); });
  EXPECT_EQ(e.category(), category) << e.what();
  EXPECT_TRUE(mentions(e, path.string())) << e.what();
  EXPECT_TRUE(mentions(e, words)) << e.what();
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// CRC-32 as the PNG specification (annex D) defines it, bit by bit.
std::uint32_t png_crc(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xffffffffu;
}

void put_chunk(std::vector<std::uint8_t>& png, const char* type, const std::vector<std::uint8_t>& data) {
  auto put32 = [&](std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) png.push_back(static_cast<std::uint8_t>(v >> shift));
  };
  put32(static_cast<std::uint32_t>(data.size()));
  const std::size_t start = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data.begin(), data.end());
  // The CRC covers the type and the data (PNG specification, section 5.3).
  put32(png_crc(png.data() + start, png.size() - start));
}

// A PNG that is only a signature and an IHDR (with a correct CRC) claiming a huge size:
// the header is valid, there are no pixels at all.
std::vector<std::uint8_t> huge_png_header(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<std::uint8_t> ihdr;
  for (std::uint32_t v : {width, height})
    for (int shift = 24; shift >= 0; shift -= 8) ihdr.push_back(static_cast<std::uint8_t>(v >> shift));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8-bit RGB, deflate, adaptive filter, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IEND", {});
  return png;
}

std::vector<fs::path> listing(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
  return out;
}

TEST(BrokenInput, TruncatedJpegIsADecodeError) {
  const fs::path path = test::photo("truncated.jpg");
  // libjpeg's own words for a stream that stops early.
  expect_load_error(path, ErrorCategory::decode, "Premature end");

  Error from_memory = error_from([&] { load_buffer(test::read_file(path), "upload.jpg"); });
  EXPECT_EQ(from_memory.category(), ErrorCategory::decode);
  EXPECT_TRUE(mentions(from_memory, "upload.jpg")) << from_memory.what();
}

TEST(BrokenInput, CutJpegFailsByDefaultAndLoadsWhenToldNotTo) {
  test::TempDir dir;
  // A real photo cut after a third of its bytes: headers intact, scan data stops early.
  auto bytes = test::read_file(test::photo("rocket.jpg"));
  bytes.resize(bytes.size() / 3);
  const auto path = dir / "cut.jpg";
  write_bytes(path, bytes);
  EXPECT_EQ(probe(path).width, 640);

  expect_load_error(path, ErrorCategory::decode, "Premature end");

  LoadOptions lenient;
  lenient.fail_on = FailOn::none;
  Image image = load(path, lenient);
  EXPECT_EQ(image.width(), 640);
  EXPECT_EQ(image.height(), 427);
  // The top of the picture decodes as usual: it matches the complete file there.
  const cv::Rect top(0, 0, 640, 40);
  EXPECT_GE(test::psnr(image.pixels(top), load(test::photo("rocket.jpg")).pixels(top)), 60.0);
}

TEST(BrokenInput, FailOnLevelsForJpegWarningsAndTruncation) {
  test::TempDir dir;
  // A restart marker out of sequence in the middle of the scan: libjpeg warns ("Corrupt JPEG
  // data: premature end of data segment") and decodes every pixel, the rows after it damaged.
  auto bytes = test::read_file(test::photo("rocket.jpg"));
  const auto middle = static_cast<std::ptrdiff_t>(bytes.size() / 2);
  bytes.insert(bytes.begin() + middle, {0xff, 0xd3});
  const auto warned = dir / "warned.jpg";
  write_bytes(warned, bytes);
  expect_load_error(warned, ErrorCategory::decode, "Corrupt JPEG data");
  const cv::Rect top(0, 0, 640, 40);
  for (FailOn level : {FailOn::none, FailOn::truncated, FailOn::error}) {
    LoadOptions options;
    options.fail_on = level;
    const Image image = load(warned, options);
    ASSERT_EQ(image.pixels.size(), cv::Size(640, 427)) << static_cast<int>(level);
    EXPECT_TRUE(test::identical(image.pixels(top), load(test::photo("rocket.jpg")).pixels(top)));
  }

  // Truncation fails at every level but none.
  auto cut_bytes = test::read_file(test::photo("rocket.jpg"));
  cut_bytes.resize(cut_bytes.size() / 2);
  const auto cut = dir / "cut.jpg";
  write_bytes(cut, cut_bytes);
  for (FailOn level : {FailOn::truncated, FailOn::error, FailOn::warning}) {
    LoadOptions options;
    options.fail_on = level;
    Error e = error_from([&] { load(cut, options); });
    EXPECT_EQ(e.category(), ErrorCategory::decode) << e.what();
    EXPECT_TRUE(mentions(e, "Premature end")) << e.what();
    // The same at a reduced scale (the decoder that scales by any eighth).
    options.min_size = [](cv::Size) { return cv::Size(300, 200); };
    EXPECT_EQ(error_from([&] { load(cut, options); }).category(), ErrorCategory::decode);
  }
}

TEST(BrokenInput, EmptyFile) {
  test::TempDir dir;
  const auto path = dir / "empty.jpg";
  write_bytes(path, {});
  for (bool probing : {false, true}) {
    Error e = error_from([&] { probing ? static_cast<void>(probe(path)) : static_cast<void>(load(path)); });
    EXPECT_EQ(e.category(), ErrorCategory::decode);
    EXPECT_TRUE(mentions(e, path.string())) << e.what();
    EXPECT_TRUE(mentions(e, "0 bytes")) << e.what();
  }
  Error buffer = error_from([&] { load_buffer({}, "<stdin>"); });
  EXPECT_EQ(buffer.category(), ErrorCategory::decode);
  EXPECT_TRUE(mentions(buffer, "<stdin>")) << buffer.what();
}

TEST(BrokenInput, TextNamedJpeg) {
  test::TempDir dir;
  const auto path = dir / "notes.jpg";
  test::write_text(path, "These are not the pixels you are looking for.\n");
  expect_load_error(path, ErrorCategory::decode, "not a recognised image format");
}

TEST(BrokenInput, CorruptPngDataIsADecodeError) {
  test::TempDir dir;
  auto png = test::read_file(test::photo("logo.png"));
  // Overwrite bytes in the middle of the compressed pixel data: the header stays valid.
  ASSERT_GT(png.size(), 20000u);
  for (std::size_t i = png.size() / 2; i < png.size() / 2 + 64; ++i) png[i] ^= 0x5a;
  const auto path = dir / "corrupt.png";
  write_bytes(path, png);
  EXPECT_EQ(probe(path).width, 500);
  expect_load_error(path, ErrorCategory::decode, "read error");
}

TEST(BrokenInput, HugePngHeaderIsRefusedBeforeAllocation) {
  test::TempDir dir;
  const auto png = huge_png_header(100000, 100000);
  const auto path = dir / "huge.png";
  write_bytes(path, png);
  // 10^10 pixels of 8-bit RGB would need 30 GB: the limit must trip on the header alone.
  for (bool probing : {false, true}) {
    Error e = error_from([&] { probing ? static_cast<void>(probe(path)) : static_cast<void>(load(path)); });
    EXPECT_EQ(e.category(), ErrorCategory::limit) << e.what();
    EXPECT_TRUE(mentions(e, path.string())) << e.what();
    EXPECT_TRUE(mentions(e, "100000x100000")) << e.what();
    EXPECT_TRUE(mentions(e, "268402689")) << e.what();
  }
  Error from_memory = error_from([&] { load_buffer(png, "huge.png"); });
  EXPECT_EQ(from_memory.category(), ErrorCategory::limit);
}

TEST(BrokenInput, PixelLimitOnARealPhoto) {
  const fs::path path = test::photo("rocket.jpg");  // 640x427 (SOURCES.md)
  Limits limits;
  limits.max_input_pixels = 640 * 427 - 1;
  Error e = error_from([&] { load(path, {}, limits); });
  EXPECT_EQ(e.category(), ErrorCategory::limit);
  EXPECT_TRUE(mentions(e, path.string())) << e.what();
  EXPECT_TRUE(mentions(e, "640x427")) << e.what();
  EXPECT_EQ(error_from([&] { probe(path, limits); }).category(), ErrorCategory::limit);

  limits.max_input_pixels = 640 * 427;  // exactly at the limit is allowed
  EXPECT_EQ(load(path, {}, limits).width(), 640);
}

TEST(BrokenInput, FileSizeLimit) {
  const fs::path path = test::photo("fruits.jpg");
  const auto size = fs::file_size(path);
  Limits limits;
  limits.max_file_bytes = size - 1;
  Error e = error_from([&] { load(path, {}, limits); });
  EXPECT_EQ(e.category(), ErrorCategory::limit);
  EXPECT_TRUE(mentions(e, path.string())) << e.what();
  EXPECT_TRUE(mentions(e, std::to_string(size))) << e.what();
  const auto bytes = test::read_file(path);
  EXPECT_EQ(error_from([&] { load_buffer(bytes, "fruits", {}, limits); }).category(), ErrorCategory::limit);
  EXPECT_EQ(error_from([&] { probe_buffer(bytes, "fruits", limits); }).category(), ErrorCategory::limit);

  limits.max_file_bytes = size;
  EXPECT_FALSE(load(path, {}, limits).empty());
  EXPECT_FALSE(load_buffer(bytes, "fruits", {}, limits).empty());
}

TEST(BrokenInput, MissingFileAndDirectory) {
  test::TempDir dir;
  const auto missing = dir / "nowhere.png";
  for (const auto& entry : std::array<std::pair<fs::path, const char*>, 2>{
           {{missing, "no such file"}, {dir.path(), "is a directory"}}}) {
    // A plain reference, not a structured binding: clang 14 cannot capture one in a lambda.
    const fs::path& path = entry.first;
    expect_load_error(path, ErrorCategory::io, entry.second);
    EXPECT_EQ(error_from([&] { probe(path); }).category(), ErrorCategory::io);
  }
}

TEST(BrokenInput, UnsupportedSampleFormat) {
  test::TempDir dir;
  // A 32-bit float TIFF is a valid image outside what imgpipe holds (8/16-bit unsigned).
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(100));
  fx::VipsPtr as_float;
  {
    VipsImage* out = nullptr;
    ASSERT_EQ(vips_cast(fx::from_mat(grey).get(), &out, VIPS_FORMAT_FLOAT, nullptr), 0);
    as_float.reset(out);
  }
  const auto path = dir / "float.tif";
  fx::write(as_float.get(), path);
  expect_load_error(path, ErrorCategory::unsupported, "float");
}

TEST(BrokenInput, TooManyBands) {
  test::TempDir dir;
  cv::Mat five(6, 6, CV_8UC(5));
  five.setTo(7);
  fx::VipsPtr image = fx::check(
      vips_image_new_from_memory_copy(five.data, five.total() * five.elemSize(), 6, 6, 5, VIPS_FORMAT_UCHAR),
      "five bands");
  image->Type = VIPS_INTERPRETATION_MULTIBAND;
  const auto path = dir / "five.tif";
  fx::write(image.get(), path);
  EXPECT_EQ(probe(path).bands, 5);
  expect_load_error(path, ErrorCategory::unsupported, "5 bands");
}

TEST(BrokenSave, RefusedSavesLeaveNothingBehind) {
  test::TempDir dir;
  const Image rgb16(test::make_image(16, 16, 3, CV_16U));
  SaveOptions tiff_jpeg;
  tiff_jpeg.format = Format::tiff;
  tiff_jpeg.tiff_compression = "jpeg";
  Error unsupported = error_from([&] { save(rgb16, dir / "deep.tif", tiff_jpeg); });
  EXPECT_EQ(unsupported.category(), ErrorCategory::unsupported);

  SaveOptions bad_compression;
  bad_compression.format = Format::tiff;
  bad_compression.tiff_compression = "zip";
  Error config = error_from([&] { save(rgb16, dir / "zip.tif", bad_compression); });
  EXPECT_EQ(config.category(), ErrorCategory::config);
  EXPECT_TRUE(mentions(config, "\"zip\"")) << config.what();

  EXPECT_EQ(error_from([&] { save(Image{}, dir / "empty.png", SaveOptions{}); }).category(),
            ErrorCategory::internal);

  const auto nested = dir / "missing-folder" / "out.png";
  Error io = error_from([&] { save(rgb16, nested, SaveOptions{}); });
  EXPECT_EQ(io.category(), ErrorCategory::io);
  EXPECT_TRUE(mentions(io, nested.string())) << io.what();

  EXPECT_TRUE(listing(dir.path()).empty());
}

TEST(BrokenSave, OutOfRangeSettingsAreConfigErrors) {
  const Image rgb(test::make_image(16, 16, 3));
  for (Format format : {Format::jpeg, Format::webp}) {
    SaveOptions options;
    options.format = format;
    options.quality = 101;
    Error e = error_from([&] { encode(rgb, options); });
    EXPECT_EQ(e.category(), ErrorCategory::config) << to_string(format);
    EXPECT_TRUE(mentions(e, "101")) << e.what();
  }
  SaveOptions png;
  png.compression = 10;
  EXPECT_EQ(error_from([&] { encode(rgb, png); }).category(), ErrorCategory::config);
  SaveOptions webp;
  webp.format = Format::webp;
  webp.method = 7;
  EXPECT_EQ(error_from([&] { encode(rgb, webp); }).category(), ErrorCategory::config);
}

}  // namespace
