// Metadata held to Limits::max_metadata_bytes and max_metadata_segments: what is over them is
// left out before decoding, with a warning, and the pixels are the same as without it.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <imgpipe/imgpipe.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes encoded(Format format) {
  Image image;
  image.pixels = test::make_gradient(96, 64, 3);
  SaveOptions save;
  save.format = format;
  save.allow_indexed = false;
  return encode(image, save);
}

// A JPEG with `count` APP9 segments of `size` data bytes each, right after SOI.
Bytes jpeg_with_segments(int count, std::size_t size) {
  const Bytes jpeg = encoded(Format::jpeg);
  Bytes out(jpeg.begin(), jpeg.begin() + 2);
  for (int i = 0; i < count; ++i) {
    const std::size_t length = size + 2;
    out.insert(out.end(), {0xff, 0xe9, static_cast<std::uint8_t>(length >> 8),
                           static_cast<std::uint8_t>(length & 0xff)});
    out.insert(out.end(), size, static_cast<std::uint8_t>('a' + i % 26));
  }
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

// CRC-32 as PNG defines it (ISO 3309, polynomial 0xedb88320), bit by bit.
std::uint32_t crc32(const std::uint8_t* data, std::size_t size) {
  std::uint32_t crc = 0xffffffffu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

void put32(Bytes& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// A PNG with `count` chunks of `type` holding `size` bytes each, after IHDR.
Bytes png_with_chunks(const char* type, int count, std::size_t size) {
  const Bytes png = encoded(Format::png);
  const std::size_t after_ihdr = 8 + 12 + 13;
  Bytes out(png.begin(), png.begin() + static_cast<std::ptrdiff_t>(after_ihdr));
  for (int i = 0; i < count; ++i) {
    Bytes chunk(type, type + 4);
    // tEXt: a keyword, a NUL, text.
    const std::string text = fmt::format("Comment{}", i);
    chunk.insert(chunk.end(), text.begin(), text.end());
    chunk.push_back(0);
    chunk.resize(4 + std::max(size, text.size() + 1), 'x');
    put32(out, static_cast<std::uint32_t>(chunk.size() - 4));
    out.insert(out.end(), chunk.begin(), chunk.end());
    put32(out, crc32(chunk.data(), chunk.size()));
  }
  out.insert(out.end(), png.begin() + static_cast<std::ptrdiff_t>(after_ihdr), png.end());
  return out;
}

Image load_with(const Bytes& bytes, const Limits& limits, std::vector<std::string>* warnings) {
  LoadOptions options;
  options.warnings = warnings;
  return load_buffer(bytes, "hostile", options, limits);
}

}  // namespace

TEST(MetadataLimits, JpegSegmentsOverTheCountAreLeftOutWithAWarning) {
  const Bytes plain = encoded(Format::jpeg);
  const Bytes hostile = jpeg_with_segments(2000, 100);
  std::vector<std::string> warnings;
  const Image image = load_with(hostile, Limits{}, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("hostile"));
  EXPECT_THAT(warnings[0], HasSubstr("left out"));
  EXPECT_THAT(warnings[0], HasSubstr("256 segments"));
  // The same pixels as the file without the segments.
  EXPECT_TRUE(test::identical(image.pixels, load_buffer(plain, "plain").pixels));
  // Within the limits nothing is said.
  warnings.clear();
  load_with(jpeg_with_segments(10, 100), Limits{}, &warnings);
  EXPECT_TRUE(warnings.empty());
  // With no limit everything is handed to the decoder, and the pixels are still the same.
  Limits unlimited;
  unlimited.max_metadata_segments = 0;
  unlimited.max_metadata_bytes = 0;
  EXPECT_TRUE(test::identical(load_with(hostile, unlimited, &warnings).pixels, image.pixels));
  EXPECT_TRUE(warnings.empty());
}

TEST(MetadataLimits, JpegSegmentsOverTheBytesAreLeftOut) {
  Limits limits;
  limits.max_metadata_bytes = 200'000;
  std::vector<std::string> warnings;
  // 40 segments of 60 kB: 3 fit in 200 kB.
  const Image image = load_with(jpeg_with_segments(40, 60'000), limits, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("37 of them"));
  EXPECT_TRUE(test::identical(image.pixels, load_buffer(encoded(Format::jpeg), "plain").pixels));
}

TEST(MetadataLimits, PngTextAndExifChunksAreBounded) {
  const Image plain = load_buffer(encoded(Format::png), "plain");
  std::vector<std::string> warnings;
  // 300 text chunks: 256 kept, 44 left out.
  Image image = load_with(png_with_chunks("tEXt", 300, 20), Limits{}, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("300 metadata segments"));
  EXPECT_THAT(warnings[0], HasSubstr("44 of them"));
  EXPECT_TRUE(test::identical(image.pixels, plain.pixels));
  // One eXIf chunk over the byte limit.
  Limits limits;
  limits.max_metadata_bytes = 1 << 20;
  warnings.clear();
  image = load_with(png_with_chunks("eXIf", 1, 2 << 20), limits, &warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("1 of them"));
  EXPECT_TRUE(test::identical(image.pixels, plain.pixels));
}

TEST(MetadataLimits, TheHeaderOfAFileOverTheLimitsIsReadAndStreamingItIsRefused) {
  test::TempDir dir;
  const auto path = dir / "segments.jpg";
  const Bytes hostile = jpeg_with_segments(2000, 100);
  test::write_text(path, std::string(hostile.begin(), hostile.end()));
  const ImageInfo info = probe(path);
  EXPECT_EQ(info.width, 96);
  EXPECT_EQ(info.height, 64);
  const ChainFile file = parse_chain("chain:\n  - grayscale\n");
  // In memory the job decodes it and says what it left out.
  Job job(file, path, file.context);
  const auto variants = job.variants();
  ASSERT_EQ(job.warnings().size(), 1u);
  EXPECT_THAT(job.warnings()[0], HasSubstr("left out"));
  // Streamed, it cannot be rewritten on the way: refused, saying why.
  Job streamed(file, path, file.context, {.stream = true});
  try {
    streamed.run(dir / "out.png", SaveOptions{});
    FAIL() << "a streamed input over the metadata limits was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::limit);
    EXPECT_THAT(e.what(), HasSubstr("streamed input"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "out.png"));
}
