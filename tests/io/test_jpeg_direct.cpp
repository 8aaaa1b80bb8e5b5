// JPEGs read without libvips (io/jpeg_decode.hpp): header, metadata and pixels against libvips's
// own jpegload of the same files (independent: the C API, no imgpipe code), on the real photos
// and on files made here with the metadata cases — EXIF orientation and resolution, JFIF
// density, an ICC profile, greyscale.
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "io/icc.hpp"
#include "loader_parity.hpp"
#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;

namespace {

TEST(JpegDirect, RealPhotosReadAsLibvipsReadsThem) {
  for (const char* photo :
       {"autumn-2560x1600.jpg", "shell-5120x2880.jpg", "baboon.jpg", "building.jpg", "butterfly.jpg",
        "fruits.jpg", "hubble_deep_field.jpg", "rocket.jpg", "starry_night.jpg"})
    test::expect_loaded_as_libvips(test::photo(photo), "jpeg");
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
  // A profile lcms2 cannot open (libvips's writers drop such a profile; imgpipe's JPEG writer
  // keeps the bytes it is given): libvips's transform converts the decoded pixels, falling
  // back to its sRGB profile as its own decode does.
  Image broken(picture);
  broken.icc.assign(600, 0x5a);
  SaveOptions keep;
  keep.format = Format::jpeg;
  keep.keep_metadata = true;
  {
    const auto bytes = encode(broken, keep);
    ASSERT_TRUE(fx::contains(bytes, "ICC_PROFILE"));
    std::ofstream(dir / "broken-profile.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  ASSERT_FALSE(detail::icc_to_srgb(picture, broken.icc)) << "the case is one lcms2 declines";
  for (const auto& entry : fs::directory_iterator(dir.path()))
    test::expect_loaded_as_libvips(entry.path(), "jpeg");
}

}  // namespace
