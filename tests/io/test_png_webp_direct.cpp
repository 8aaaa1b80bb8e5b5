// PNGs and WebPs read without libvips (io/direct_decode.hpp): header, metadata and pixels
// against libvips's own pngload and webpload of the same files (independent: the C API, no
// imgpipe code), on the real photos and on files made here with every PNG layout (grey, grey +
// alpha, RGB, RGBA, 16-bit, palette with transparency, 1-bit, interlaced) and the metadata
// cases (EXIF orientation and resolution, pHYs, an ICC profile), WebP lossy and lossless, with
// and without alpha, scaled on load.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "io/direct_decode.hpp"
#include "io/icc.hpp"
#include "loader_parity.hpp"
#include "test_support.hpp"
#include "vips_fixture.hpp"

using namespace imgpipe;
namespace fx = imgpipe::test::vipsfx;
namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

// The direct decoder's own pixels, against libvips's, for a file it does not decline.
void expect_direct_png(const fs::path& path) {
  SCOPED_TRACE(path.filename().string());
  const auto bytes = test::read_file(path);
  const detail::ReadAt read = [&](std::uint64_t offset, std::span<std::uint8_t> out) -> std::size_t {
    if (offset >= bytes.size()) return 0;
    const auto n = std::min<std::size_t>(out.size(), bytes.size() - offset);
    std::copy_n(bytes.begin() + static_cast<long>(offset), n, out.begin());
    return n;
  };
  const auto decoded = detail::decode_png(read, bytes.size(), FailOn::warning, path.string());
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(test::identical(*decoded, fx::to_mat(fx::read(path).get())));
}

cv::Mat sixteen_bit(const cv::Mat& eight) {
  cv::Mat out;
  eight.convertTo(out, CV_16U, 257.0);
  out += cv::Scalar::all(3);  // low bytes that differ from the high ones
  return out;
}

TEST(PngWebpDirect, RealPngsReadAsLibvipsReadsThem) {
  // astronaut and chelsea carry an ICC profile (converted through libvips), the others not.
  for (const char* photo : {"astronaut.png", "chelsea.png", "coffee.png", "logo.png", "motorcycle_left.png",
                            "opencv-logo-rgba.png"})
    test::expect_loaded_as_libvips(test::photo(photo), "png");
  for (const char* photo : {"coffee.png", "logo.png", "motorcycle_left.png", "opencv-logo-rgba.png"})
    expect_direct_png(test::photo(photo));
}

TEST(PngWebpDirect, EveryPngLayoutReadsAsLibvipsReadsIt) {
  test::TempDir dir;
  LoadOptions as_stored;
  as_stored.auto_orient = false;
  const cv::Mat rgb = load(test::photo("coffee.png")).pixels;
  const cv::Mat rgba = load(test::photo("opencv-logo-rgba.png")).pixels;  // transparent in places
  cv::Mat grey, grey_alpha;
  cv::extractChannel(rgb, grey, 1);
  cv::Mat channels[] = {grey(cv::Rect(0, 0, 400, 400)), cv::Mat()};
  cv::extractChannel(rgba(cv::Rect(0, 0, 400, 400)), channels[1], 3);
  cv::merge(channels, 2, grey_alpha);

  fx::write(rgb, dir / "rgb.png");
  fx::write(rgba, dir / "rgba.png");
  fx::write(grey, dir / "grey.png");
  fx::write(grey_alpha, dir / "grey-alpha.png");
  fx::write(sixteen_bit(rgb), dir / "rgb16.png");
  fx::write(sixteen_bit(rgba), dir / "rgba16.png");
  fx::write(sixteen_bit(grey), dir / "grey16.png");
  fx::write(rgb, dir / "interlaced.png[interlace]");
  fx::write(sixteen_bit(rgba), dir / "interlaced16.png[interlace]");
  fx::write(rgb, dir / "palette.png[palette]");
  fx::write(rgba, dir / "palette-alpha.png[palette]");  // transparency as a tRNS chunk
  for (int bits : {1, 2, 4}) fx::write(grey, dir / fmt::format("grey{}.png[bitdepth={}]", bits, bits));
  // pHYs in dots per cm, EXIF orientation with the resolution libvips writes into the block.
  fx::VipsPtr dpcm = fx::from_mat(rgb);
  dpcm.get()->Xres = 118.0 / 10;
  dpcm.get()->Yres = 59.0 / 10;
  fx::write(dpcm.get(), dir / "dpcm.png[strip]");
  for (int o : {2, 6}) fx::write_oriented(rgb, o, dir / fmt::format("oriented-{}.png", o));
  // Embedded profiles, converted by lcms2 as libvips converts them: 8 and 16 bits, with alpha;
  // one lcms2 cannot open (libvips's fallback then).
  fx::write(fx::icc_transform(fx::from_mat(rgba).get(), "p3").get(), dir / "p3-alpha.png");
  fx::write(fx::icc_transform(fx::from_mat(sixteen_bit(rgb)).get(), "p3", 16).get(), dir / "p3-16.png");
  fx::VipsPtr broken = fx::from_mat(rgb);
  const std::vector<std::uint8_t> garbage(600, 0x5a);
  vips_image_set_blob_copy(broken.get(), VIPS_META_ICC_NAME, garbage.data(), garbage.size());
  fx::write(broken.get(), dir / "broken-profile.png");

  for (const auto& entry : fs::directory_iterator(dir.path())) {
    test::expect_loaded_as_libvips(entry.path(), "png");
    expect_direct_png(entry.path());
  }
  // The file's layout, not a conversion: 16 bits, grey + alpha and palettes stay as stored.
  EXPECT_EQ(load(dir / "rgba16.png").pixels.type(), CV_16UC4);
  EXPECT_EQ(load(dir / "grey-alpha.png").pixels.type(), CV_8UC2);
  EXPECT_EQ(load(dir / "palette-alpha.png").pixels.type(), CV_8UC4);
  EXPECT_EQ(load(dir / "grey1.png").pixels.type(), CV_8UC1);
  // EXIF orientation 6 turns the image upright on load.
  EXPECT_EQ(load(dir / "oriented-6.png").pixels.size(), cv::Size(rgb.rows, rgb.cols));
}

TEST(PngWebpDirect, Lcms2ConvertsAProfileAsLibvipsIccTransformDoes) {
  const std::vector<std::uint8_t> p3 = fx::p3_profile();
  for (const cv::Mat& pixels :
       {load(test::photo("coffee.png")).pixels, sixteen_bit(load(test::photo("logo.png")).pixels)}) {
    SCOPED_TRACE(pixels.channels());
    const auto ours = detail::icc_to_srgb(pixels, p3);
    ASSERT_TRUE(ours) << "lcms2 took the profile";
    fx::VipsPtr tagged = fx::from_mat(pixels);
    vips_image_set_blob_copy(tagged.get(), VIPS_META_ICC_NAME, p3.data(), p3.size());
    const fx::VipsPtr theirs = fx::icc_transform(tagged.get(), "srgb", pixels.depth() == CV_16U ? 16 : 8);
    EXPECT_TRUE(test::identical(*ours, fx::to_mat(theirs.get())));
    EXPECT_FALSE(test::identical(*ours, pixels)) << "P3 to sRGB changes the colours";
    EXPECT_EQ(detail::srgb_profile(), fx::blob(theirs.get(), VIPS_META_ICC_NAME));
  }
  // What lcms2 cannot open, and grey, are left to libvips.
  EXPECT_FALSE(
      detail::icc_to_srgb(load(test::photo("coffee.png")).pixels, std::vector<std::uint8_t>(600, 0x5a)));
  EXPECT_FALSE(detail::icc_to_srgb(cv::Mat(4, 4, CV_8UC1, cv::Scalar(9)), p3));
}

TEST(PngWebpDirect, WebpReadsAsLibvipsReadsIt) {
  test::TempDir dir;
  const cv::Mat rgb = load(test::photo("motorcycle_left.png")).pixels;
  const cv::Mat rgba = load(test::photo("opencv-logo-rgba.png")).pixels;
  fx::write(rgb, dir / "lossy.webp[Q=80]");
  fx::write(rgb, dir / "lossless.webp[lossless]");
  fx::write(rgba, dir / "lossy-alpha.webp[Q=75]");
  fx::write(rgba, dir / "lossless-alpha.webp[lossless]");
  for (int o : {3, 8}) fx::write_oriented(rgb, o, dir / fmt::format("oriented-{}.webp", o));
  fx::write(fx::icc_transform(fx::from_mat(rgb).get(), "p3").get(), dir / "p3.webp");
  for (const auto& entry : fs::directory_iterator(dir.path()))
    test::expect_loaded_as_libvips(entry.path(), "webp");

  // Scaled while decoding, to the size and pixels libvips's scale gives.
  for (const char* name : {"lossy.webp", "lossless-alpha.webp"}) {
    SCOPED_TRACE(name);
    LoadOptions half;
    half.min_size = [](cv::Size size) { return cv::Size(size.width * 3 / 10, size.height * 3 / 10); };
    const Image scaled = load(dir / name, half);
    const fx::VipsPtr whole = fx::read(dir / name);
    const int width = vips_image_get_width(whole.get()), height = vips_image_get_height(whole.get());
    const double scale =
        std::max(static_cast<double>(width * 3 / 10) / width, static_cast<double>(height * 3 / 10) / height) *
        1.0001;
    VipsImage* theirs = nullptr;
    ASSERT_EQ(vips_webpload((dir / name).c_str(), &theirs, "scale", scale, nullptr), 0);
    const fx::VipsPtr owned(theirs);
    EXPECT_EQ(scaled.pixels.cols, vips_image_get_width(theirs));
    EXPECT_LT(scaled.pixels.cols, width);
    EXPECT_TRUE(test::identical(scaled.pixels, fx::to_mat(theirs)));
  }
}

TEST(PngWebpDirect, AnAnimatedWebpGoesToLibvips) {
  test::TempDir dir;
  cv::Mat frames(64, 32, CV_8UC3, cv::Scalar(200, 30, 30));
  frames(cv::Rect(0, 32, 32, 32)).setTo(cv::Scalar(30, 30, 200));
  fx::VipsPtr animation = fx::from_mat(frames);
  vips_image_set_int(animation.get(), VIPS_META_PAGE_HEIGHT, 32);
  fx::write(animation.get(), dir / "two.webp");
  EXPECT_EQ(probe(dir / "two.webp").pages, 2);
  EXPECT_EQ(load(dir / "two.webp").pixels.size(), cv::Size(32, 32));  // the first frame
}

TEST(PngWebpDirect, ATruncatedPngFailsNamingTheFileUnlessFailOnNone) {
  test::TempDir dir;
  auto bytes = test::read_file(test::photo("motorcycle_left.png"));
  bytes.resize(bytes.size() / 2);
  const fs::path cut = dir / "cut.png";
  {
    std::ofstream(cut, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  EXPECT_EQ(probe(cut).width, 741);  // the header is whole
  try {
    load(cut);
    ADD_FAILURE() << "a truncated PNG loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::decode);
    EXPECT_THAT(e.what(), HasSubstr(cut.string()));
    EXPECT_THAT(e.what(), HasSubstr("libpng read error"));
  }
  // fail_on none keeps what could be read, as libvips does (it reads such a file).
  LoadOptions lenient;
  lenient.fail_on = FailOn::none;
  EXPECT_EQ(load(cut, lenient).pixels.size(), cv::Size(741, 500));
}

TEST(PngWebpDirect, ATruncatedWebpFailsNamingTheFile) {
  test::TempDir dir;
  fx::write(load(test::photo("coffee.png")).pixels, dir / "whole.webp");
  auto bytes = test::read_file(dir / "whole.webp");
  bytes.resize(bytes.size() * 2 / 3);
  try {
    load_buffer(bytes, "cut.webp");
    ADD_FAILURE() << "a truncated WebP loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::decode);
    EXPECT_THAT(e.what(), HasSubstr("cut.webp"));
  }
}

}  // namespace
