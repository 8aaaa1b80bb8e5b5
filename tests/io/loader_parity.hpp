#pragma once
// imgpipe's loader against libvips's own reading of the same file (the C API, no imgpipe code):
// the header probe() gives, and the pixels and metadata load() gives, converted to sRGB through
// an embedded profile as imgpipe converts it. For the decoders imgpipe runs itself (JPEG, PNG,
// WebP, lcms2 for profiles), which must read every file as libvips did.

#include <gtest/gtest.h>

#include <filesystem>
#include <imgpipe/io.hpp>
#include <string>

#include "test_support.hpp"
#include "vips_fixture.hpp"

namespace imgpipe::test {

namespace fx = vipsfx;

inline std::string vips_string(VipsImage* image, const char* field) {
  const char* value = nullptr;
  if (!vips_image_get_typeof(image, field) || vips_image_get_string(image, field, &value)) return {};
  return value;
}

inline int vips_orientation(VipsImage* image) {
  int orientation = 1;
  if (vips_image_get_typeof(image, VIPS_META_ORIENTATION))
    vips_image_get_int(image, VIPS_META_ORIENTATION, &orientation);
  return orientation;
}

// probe() and load() of `path` (as stored: no orientation applied) against libvips's reading
// of it; `format` is the name probe() should give.
inline void expect_loaded_as_libvips(const std::filesystem::path& path, const std::string& format) {
  SCOPED_TRACE(path.filename().string());
  fx::VipsPtr read = fx::read(path);
  const ImageInfo info = probe(path);
  EXPECT_EQ(info.format, format);
  EXPECT_EQ(info.width, vips_image_get_width(read.get()));
  EXPECT_EQ(info.height, vips_image_get_height(read.get()));
  EXPECT_EQ(info.bands, vips_image_get_bands(read.get()));
  EXPECT_EQ(info.bit_depth, vips_image_get_format(read.get()) == VIPS_FORMAT_USHORT ? 16 : 8);
  EXPECT_EQ(info.interpretation,
            vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(read.get())));
  EXPECT_EQ(info.has_alpha, vips_image_hasalpha(read.get()) != 0);
  EXPECT_EQ(info.orientation, vips_orientation(read.get()));
  const bool has_icc = vips_image_get_typeof(read.get(), VIPS_META_ICC_NAME) != 0;
  EXPECT_EQ(info.has_icc, has_icc);

  LoadOptions as_stored;
  as_stored.auto_orient = false;
  const Image loaded = load(path, as_stored);
  const bool converted = has_icc && vips_image_get_bands(read.get()) >= 3;
  const int depth = vips_image_get_format(read.get()) == VIPS_FORMAT_USHORT ? 16 : 8;
  fx::VipsPtr reference = converted ? fx::icc_transform(read.get(), "srgb", depth) : fx::read(path);
  EXPECT_TRUE(test::identical(loaded.pixels, fx::to_mat(reference.get())));
  EXPECT_EQ(loaded.exif, fx::blob(read.get(), VIPS_META_EXIF_NAME));
  EXPECT_EQ(loaded.icc, fx::blob(reference.get(), VIPS_META_ICC_NAME));
  EXPECT_DOUBLE_EQ(loaded.xres, vips_image_get_xres(read.get()));
  EXPECT_DOUBLE_EQ(loaded.yres, vips_image_get_yres(read.get()));
  EXPECT_EQ(loaded.resolution_unit, vips_string(read.get(), "resolution-unit"));
  EXPECT_EQ(loaded.orientation, vips_orientation(read.get()));
  // The same from memory.
  EXPECT_TRUE(
      test::identical(load_buffer(test::read_file(path), path.string(), as_stored).pixels, loaded.pixels));
}

}  // namespace imgpipe::test
