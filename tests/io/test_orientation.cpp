// EXIF orientation on load: every orientation 1..8, in PNG (exact) and JPEG, applied or kept.
#include <gtest/gtest.h>

#include <cstring>

#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;

namespace {

// EXIF 2.3 defines orientation o by where the stored row 0 and column 0 appear on the
// upright picture; for every stored pixel (x, y) this gives its upright position. Written
// from the specification's table, independently of the library's cv::rotate/flip calls.
cv::Point upright_position(int o, int x, int y, int upright_w, int upright_h) {
  switch (o) {
    case 2: return {upright_w - 1 - x, y};
    case 3: return {upright_w - 1 - x, upright_h - 1 - y};
    case 4: return {x, upright_h - 1 - y};
    case 5: return {y, x};                                  // row 0 = left, column 0 = top
    case 6: return {upright_w - 1 - y, x};                  // row 0 = right, column 0 = top
    case 7: return {upright_w - 1 - y, upright_h - 1 - x};  // row 0 = right, column 0 = bottom
    case 8: return {y, upright_h - 1 - x};                  // row 0 = left, column 0 = bottom
    default: return {x, y};
  }
}

// Copies every pixel between a stored image and its upright view under orientation o, in
// the direction asked for; the other image is the result.
cv::Mat remap(const cv::Mat& from, int o, bool to_stored) {
  const bool transposed = o >= 5;
  cv::Mat out(transposed ? from.cols : from.rows, transposed ? from.rows : from.cols, from.type());
  const cv::Size stored = to_stored ? out.size() : from.size(),
                 upright = to_stored ? from.size() : out.size();
  const std::size_t bytes = from.elemSize();
  for (int y = 0; y < stored.height; ++y)
    for (int x = 0; x < stored.width; ++x) {
      const cv::Point s(x, y), u = upright_position(o, x, y, upright.width, upright.height);
      const cv::Point source = to_stored ? u : s, target = to_stored ? s : u;
      std::memcpy(out.ptr(target.y) + target.x * bytes, from.ptr(source.y) + source.x * bytes, bytes);
    }
  return out;
}

cv::Mat stored_for(const cv::Mat& upright, int o) {
  return remap(upright, o, true);
}
cv::Mat upright_of(const cv::Mat& stored, int o) {
  return remap(stored, o, false);
}

int exif_orientation(const std::vector<std::uint8_t>& exif) {
  auto tag = fx::tiff_tag(exif, 0x0112);
  return tag ? static_cast<int>(*tag) : 0;
}

class Orientation : public ::testing::TestWithParam<int> {
 protected:
  test::TempDir dir;
};

TEST_P(Orientation, PngLoadsUprightExactly) {
  const int o = GetParam();
  // Not square and noisy, so every one of the eight transforms gives different pixels.
  const cv::Mat upright = test::make_image(37, 21, 3, CV_8U, 7);
  const auto path = dir / "oriented.png";
  fx::write_oriented(stored_for(upright, o), o, path);

  // The tag really is in the file, as read by libvips and by imgpipe's probe.
  EXPECT_EQ(exif_orientation(fx::blob(fx::read(path).get(), VIPS_META_EXIF_NAME)), o);
  ImageInfo info = probe(path);
  EXPECT_EQ(info.orientation, o);
  EXPECT_EQ(info.oriented_width(), upright.cols);
  EXPECT_EQ(info.oriented_height(), upright.rows);

  // libvips's own autorot agrees with the specification table above.
  fx::VipsPtr rotated;
  {
    VipsImage* out = nullptr;
    ASSERT_EQ(vips_autorot(fx::read(path).get(), &out, nullptr), 0);
    rotated.reset(out);
  }
  ASSERT_TRUE(test::identical(fx::to_mat(rotated.get()), upright));

  Image loaded = load(path);
  EXPECT_TRUE(test::identical(loaded.pixels, upright)) << "orientation " << o;
  EXPECT_EQ(loaded.orientation, 1);
  ASSERT_FALSE(loaded.exif.empty());
  EXPECT_EQ(exif_orientation(loaded.exif), 1) << "the EXIF block must agree with upright pixels";
}

TEST_P(Orientation, PngAutoOrientOffKeepsStoredPixelsAndTag) {
  const int o = GetParam();
  const cv::Mat upright = test::make_image(29, 18, 4, CV_16U, 3);  // RGBA, 16-bit
  const cv::Mat stored = stored_for(upright, o);
  const auto path = dir / "oriented16.png";
  fx::write_oriented(stored, o, path);

  LoadOptions keep;
  keep.auto_orient = false;
  Image loaded = load(path, keep);
  EXPECT_TRUE(test::identical(loaded.pixels, stored));
  EXPECT_EQ(loaded.orientation, o);
  EXPECT_EQ(exif_orientation(loaded.exif), o);

  // The auto_orient step finishes what the loader left.
  Image oriented = Chain().then("auto_orient").run(loaded, Context{});
  EXPECT_TRUE(test::identical(oriented.pixels, upright));
  EXPECT_EQ(oriented.orientation, 1);
}

TEST_P(Orientation, JpegLoadsUpright) {
  const int o = GetParam();
  const cv::Mat upright = test::make_gradient(64, 40, 3);
  const auto path = dir / "oriented.jpg[Q=95]";
  fx::write_oriented(stored_for(upright, o), o, path);
  const auto file = dir / "oriented.jpg";
  EXPECT_EQ(probe(file).orientation, o);

  Image loaded = load(file);
  EXPECT_EQ(loaded.orientation, 1);
  EXPECT_EQ(exif_orientation(loaded.exif), 1);
  // Exact against the specification's transform of libvips's plain decode of the file.
  const cv::Mat stored_decoded = fx::to_mat(fx::read(file).get());
  EXPECT_TRUE(test::identical(loaded.pixels, upright_of(stored_decoded, o)));
  // And close to the original: quality 95 on a smooth gradient loses well under 1 level
  // on average; 40 dB allows for block edges in the corners.
  EXPECT_GE(test::psnr(loaded.pixels, upright), 40.0);

  LoadOptions keep;
  keep.auto_orient = false;
  Image raw = load(file, keep);
  EXPECT_TRUE(test::identical(raw.pixels, stored_decoded));
  EXPECT_EQ(raw.orientation, o);
}

INSTANTIATE_TEST_SUITE_P(AllEight, Orientation, ::testing::Range(1, 9));

TEST(OrientationTable, MatchesHandWorkedCorners) {
  // A 3x2 upright image whose pixels are their own labels 0..5 (row-major).
  cv::Mat upright = (cv::Mat_<std::uint8_t>(2, 3) << 0, 1, 2, 3, 4, 5);
  // Orientation 6 (the usual portrait phone photo): stored rotated 90° counter-clockwise,
  // so the stored first row is the upright right-hand column read top to bottom.
  cv::Mat six = stored_for(upright, 6);
  ASSERT_EQ(six.size(), cv::Size(2, 3));
  EXPECT_TRUE(test::identical(six, (cv::Mat_<std::uint8_t>(3, 2) << 2, 5, 1, 4, 0, 3)));
  // Orientation 8: stored rotated clockwise; the first stored row is the left column, bottom up.
  EXPECT_TRUE(test::identical(stored_for(upright, 8), (cv::Mat_<std::uint8_t>(3, 2) << 3, 0, 4, 1, 5, 2)));
  EXPECT_TRUE(test::identical(upright_of(six, 6), upright));
}

TEST(OrientationProbe, RealPhotosAreUpright) {
  for (const char* name : {"rocket.jpg", "fruits.jpg", "astronaut.png"}) {
    ImageInfo info = probe(test::photo(name));
    EXPECT_EQ(info.orientation, 1) << name;
    EXPECT_EQ(info.oriented_width(), info.width) << name;
  }
}

}  // namespace
