// JPEGs read without libvips (io/jpeg_decode.hpp): header, metadata and pixels against libvips's
// own jpegload of the same files (independent: the C API, no imgpipe code), on the real photos
// and on files made here with the metadata cases — EXIF orientation and resolution, JFIF
// density, an ICC profile, greyscale.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;

namespace {

std::string vips_string(VipsImage* image, const char* field) {
  const char* value = nullptr;
  if (!vips_image_get_typeof(image, field) || vips_image_get_string(image, field, &value)) return {};
  return value;
}

// What libvips gives for `path`: the header as read, and the image converted to sRGB through
// an embedded profile as imgpipe's loader did before it read JPEGs itself.
void expect_as_libvips(const fs::path& path) {
  SCOPED_TRACE(path.filename().string());
  fx::VipsPtr read = fx::read(path);
  const ImageInfo info = probe(path);
  EXPECT_EQ(info.format, "jpeg");
  EXPECT_EQ(info.width, vips_image_get_width(read.get()));
  EXPECT_EQ(info.height, vips_image_get_height(read.get()));
  EXPECT_EQ(info.bands, vips_image_get_bands(read.get()));
  EXPECT_EQ(info.bit_depth, 8);
  EXPECT_EQ(info.interpretation,
            vips_enum_nick(VIPS_TYPE_INTERPRETATION, vips_image_get_interpretation(read.get())));
  int orientation = 1;
  if (vips_image_get_typeof(read.get(), VIPS_META_ORIENTATION))
    vips_image_get_int(read.get(), VIPS_META_ORIENTATION, &orientation);
  EXPECT_EQ(info.orientation, orientation);
  const bool has_icc = vips_image_get_typeof(read.get(), VIPS_META_ICC_NAME) != 0;
  EXPECT_EQ(info.has_icc, has_icc);

  LoadOptions as_stored;
  as_stored.auto_orient = false;
  const Image loaded = load(path, as_stored);
  fx::VipsPtr reference = has_icc ? fx::icc_transform(read.get(), "srgb") : fx::read(path);
  EXPECT_TRUE(test::identical(loaded.pixels, fx::to_mat(reference.get())));
  EXPECT_EQ(loaded.exif, fx::blob(read.get(), VIPS_META_EXIF_NAME));
  EXPECT_EQ(loaded.icc, fx::blob(reference.get(), VIPS_META_ICC_NAME));
  EXPECT_DOUBLE_EQ(loaded.xres, vips_image_get_xres(read.get()));
  EXPECT_DOUBLE_EQ(loaded.yres, vips_image_get_yres(read.get()));
  EXPECT_EQ(loaded.resolution_unit, vips_string(read.get(), "resolution-unit"));
  EXPECT_EQ(loaded.orientation, orientation);
}

TEST(JpegDirect, RealPhotosReadAsLibvipsReadsThem) {
  for (const char* photo :
       {"autumn-2560x1600.jpg", "shell-5120x2880.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg",
        "fruits.jpg", "hubble_deep_field.jpg", "rocket.jpg", "starry_night.jpg"})
    expect_as_libvips(test::photo(photo));
}

TEST(JpegDirect, MetadataCasesReadAsLibvipsReadsThem) {
  test::TempDir dir;
  const cv::Mat picture = test::make_gradient(64, 48, 3);
  // EXIF orientation (with libvips's own EXIF block, which carries a resolution).
  for (int o : {1, 3, 6, 8}) fx::write_oriented(picture, o, dir / ("oriented-" + std::to_string(o) + ".jpg"));
  // JFIF density in dpi and in dots per cm, no EXIF.
  fx::VipsPtr dpi = fx::from_mat(picture);
  dpi.get()->Xres = 300 / 25.4;
  dpi.get()->Yres = 150 / 25.4;
  vips_image_set_string(dpi.get(), "resolution-unit", "in");
  fx::write(dpi.get(), dir / "dpi.jpg[strip]");
  vips_image_set_string(dpi.get(), "resolution-unit", "cm");
  fx::write(dpi.get(), dir / "dpcm.jpg[strip]");
  // An embedded Display P3 profile, and greyscale.
  fx::write(fx::icc_transform(fx::from_mat(picture).get(), "p3").get(), dir / "p3.jpg");
  fx::write(test::make_gradient(64, 48, 1), dir / "grey.jpg");
  for (const auto& entry : fs::directory_iterator(dir.path())) expect_as_libvips(entry.path());
}

}  // namespace
