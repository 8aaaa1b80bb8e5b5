// Streaming through libvips gives the pixels of the in-memory chain, and holds a large
// image in bounded memory.
//
// Reference: the same chain run in memory (imgpipe::load + Chain::run, saved as PNG and
// decoded again). Point steps, crops and mirrors must be identical. Filters and area resizes
// are allowed one level, though they come out identical on this machine: the filters run
// the same OpenCV code on a region instead of the whole image, which gives each output pixel
// the same float sums only as long as OpenCV's SIMD loops treat every position alike, and the
// area resize repeats OpenCV's float sums in its own loop, where a compiler that fuses
// multiply-adds would move a result sitting at .5 by one rounding step.

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vips/vips.h>

#include <cstdlib>
#include <fstream>
#include <imgpipe/stream.hpp>
#include <string>

#include "test_support.hpp"

namespace imgpipe::test {
namespace {

// No pixel limit: streaming is for images over it.
Limits unlimited() {
  Limits limits;
  limits.max_input_pixels = 0;
  return limits;
}

ChainFile png_output(Chain chain, QualityPreset quality = QualityPreset::balanced) {
  ChainFile file;
  file.chain = std::move(chain);
  file.context.quality = quality;
  file.output.format = Format::png;
  return file;
}

// The chain streamed from `input`, decoded from the PNG it wrote.
cv::Mat streamed(const ChainFile& file, const fs::path& input, const TempDir& dir) {
  const fs::path out = dir / "streamed.png";
  stream_file(file, input, out, file.context);
  return load(out).pixels;
}

// The chain run in memory (decoded as the job runner decodes it, shrink-on-load included),
// through a lossless PNG as well.
cv::Mat in_memory(const ChainFile& file, const fs::path& input, const TempDir& dir) {
  const fs::path out = dir / "in-memory.png";
  SaveOptions lossless;
  lossless.allow_indexed = false;
  save(file.chain.run(load(input, file.load_options()), file.context), out, lossless);
  return load(out).pixels;
}

void expect_close(const cv::Mat& got, const cv::Mat& want, double tolerance, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  ASSERT_EQ(got.type(), want.type()) << what;
  EXPECT_LE(max_abs_diff(got, want), tolerance) << what;
  EXPECT_LT(mean_abs_diff(got, want), 0.01) << what;  // a rounding step here and there, not a shift
}

void expect_streams_like_memory(const ChainFile& file, const fs::path& input, double tolerance,
                                const std::string& what) {
  TempDir dir;
  std::string why;
  ASSERT_TRUE(can_stream(file.chain, probe(input, unlimited()), file.context.quality, &why))
      << what << ": " << why;
  expect_close(streamed(file, input, dir), in_memory(file, input, dir), tolerance, what);
}

// ---------------------------------------------------------------------------------------
// Memory: an 8000x8000 JPEG (192 MB decoded) blurred and re-encoded in a child process.
//
// The child is a fresh exec of this test binary: libvips keeps a pool of worker threads,
// and a forked copy of a process that has started them cannot run libvips safely (the
// pool would count threads that do not exist in the child).

constexpr int kSide = 8000;
constexpr long kBoundKiB = 128 * 1024;  // 2/3 of the decoded 192 MB
// Sanitizer builds (IMGPIPE_SANITIZED, docs/reliability.md) hold memory the streaming cannot
// see: AddressSanitizer's quarantine keeps up to 256 MiB of freed region buffers before reuse,
// plus redzones and shadow; ThreadSanitizer's shadow is several times what the threads touch.
#if defined(IMGPIPE_SANITIZED) && IMGPIPE_SANITIZED == 1
constexpr long kSanitizerAllowanceKiB = 320 * 1024;
#elif defined(IMGPIPE_SANITIZED)
constexpr long kSanitizerAllowanceKiB = 1024 * 1024;
#else
constexpr long kSanitizerAllowanceKiB = 0;
#endif

// Writes a kSide² zone-plate JPEG with libvips, generated line by line as it is encoded.
int generate_large_jpeg(const char* path) {
  if (VIPS_INIT("imgpipe-test")) return 2;
  VipsImage* zone = nullptr;
  VipsImage* grey = nullptr;
  VipsImage* bands[3] = {nullptr, nullptr, nullptr};
  VipsImage* rgb = nullptr;
  int rc = vips_zone(&zone, kSide, kSide, nullptr);
  rc = rc || vips_linear1(zone, &grey, 100.0, 128.0, "uchar", TRUE, nullptr);
  rc = rc || vips_linear1(grey, &bands[0], 1.0, 0.0, "uchar", TRUE, nullptr);
  rc = rc || vips_linear1(grey, &bands[1], 0.5, 60.0, "uchar", TRUE, nullptr);
  rc = rc || vips_linear1(grey, &bands[2], -1.0, 255.0, "uchar", TRUE, nullptr);
  rc = rc || vips_bandjoin(bands, &rgb, 3, nullptr);
  rc = rc || vips_jpegsave(rgb, path, "Q", 85, nullptr);
  for (VipsImage* image : {zone, grey, bands[0], bands[1], bands[2], rgb})
    if (image) g_object_unref(image);
  return rc ? 3 : 0;
}

int stream_large_jpeg(const char* input, const char* output) {
  try {
    ChainFile file;
    file.chain.then("gaussian_blur", {{"sigma", 2.0}});
    file.output.format = Format::jpeg;
    file.output.quality = 90;
    stream_file(file, input, output, file.context);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stream failed: %s\n", e.what());
    return 4;
  }
}

// Runs in the child only (started with IMGPIPE_STREAM_CHILD set); never on its own.
TEST(StreamChild, DISABLED_Run) {
  const char* mode = std::getenv("IMGPIPE_STREAM_CHILD");
  if (!mode) GTEST_SKIP();
  const std::string what = mode;
  const char* input = std::getenv("IMGPIPE_STREAM_INPUT");
  const char* output = std::getenv("IMGPIPE_STREAM_OUTPUT");
  std::fflush(stdout);
  _exit(what == "generate" ? generate_large_jpeg(input) : stream_large_jpeg(input, output));
}

struct ChildResult {
  int exit_code = -1;
  long max_rss_kib = 0;
};

ChildResult run_child(const std::string& mode, const fs::path& input, const fs::path& output) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("IMGPIPE_STREAM_CHILD", mode.c_str(), 1);
    setenv("IMGPIPE_STREAM_INPUT", input.c_str(), 1);
    setenv("IMGPIPE_STREAM_OUTPUT", output.c_str(), 1);
    execl("/proc/self/exe", "test_stream", "--gtest_filter=StreamChild.DISABLED_Run",
          "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  ChildResult result;
  int status = 0;
  rusage usage{};
  if (pid < 0 || wait4(pid, &status, 0, &usage) != pid) return result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.max_rss_kib = usage.ru_maxrss;  // kibibytes on Linux
  return result;
}

// First in the file: run in one process with the others, the child's peak also counts the
// pages it shares with this process at the fork, which is smallest before other tests run.
TEST(StreamMemory, LargeJpegBlurStaysWithinBound) {
  TempDir dir;
  const fs::path input = dir / "large.jpg", output = dir / "blurred.jpg";
  ASSERT_EQ(run_child("generate", input, output).exit_code, 0);
  const ImageInfo info = probe(input, unlimited());
  ASSERT_EQ(info.width, kSide);
  ASSERT_EQ(info.height, kSide);

  const ChildResult child = run_child("stream", input, output);
  ASSERT_EQ(child.exit_code, 0);
  const ImageInfo written = probe(output, unlimited());
  EXPECT_EQ(written.width, kSide);
  EXPECT_EQ(written.height, kSide);
  std::printf("streamed %dx%d (%.0f MB decoded): peak RSS %.1f MB\n", kSide, kSide, kSide * kSide * 3 / 1e6,
              child.max_rss_kib / 1024.0);
  EXPECT_LT(child.max_rss_kib, kBoundKiB + kSanitizerAllowanceKiB)
      << "peak RSS " << child.max_rss_kib / 1024 << " MiB";
}

// ---------------------------------------------------------------------------------------
// Same pixels as in memory.

TEST(Stream, PointStepsAreExactOnAPhoto) {
  Chain chain;
  chain.then("adjust_colors", {{"brightness", 1.1}, {"contrast", 1.3}, {"gamma", 0.9}})
      .then("adjust_colors", {{"saturation", 1.4}, {"hue", 25.0}});
  expect_streams_like_memory(png_output(chain), photo("fruits.jpg"), 0, "fused point steps");
  Chain grey;
  grey.then("adjust_colors", {{"contrast", 1.2}}).then("grayscale").then("adjust_colors", {{"gamma", 1.4}});
  expect_streams_like_memory(png_output(grey), photo("baboon.jpg"), 0, "grayscale between point steps");
}

TEST(Stream, FiltersMatchWithinOneLevelOnAPhoto) {
  Chain blur;
  blur.then("gaussian_blur", {{"sigma", 2.0}});
  expect_streams_like_memory(png_output(blur), photo("autumn-2560x1600.jpg"), 1, "blur sigma 2");
  Chain mixed;
  mixed.then("adjust_colors", {{"brightness", 1.05}})
      .then("gaussian_blur", {{"sigma", 1.5}})
      .then("sharpen", {{"amount", 0.8}, {"radius", 2.0}, {"threshold", 0.01}})
      .then("adjust_colors", {{"saturation", 1.2}});
  expect_streams_like_memory(png_output(mixed), photo("building.jpg"), 1, "point + blur + sharpen + point");
  Chain sobel;
  sobel.then("edges", {{"method", "sobel"}, {"aperture", 5}});
  expect_streams_like_memory(png_output(sobel), photo("rocket.jpg"), 1, "sobel edges");
}

// Thin strips and sizes that are no multiple of libvips's 128-pixel tiles, with alpha and at
// 16 bits: the halo is cut at every edge, where the kernels must extrapolate as they do on
// the whole image.
TEST(Stream, FiltersMatchOnGeneratedImagesOfAwkwardSizes) {
  TempDir dir;
  const struct {
    int width, height, channels, depth;
  } cases[] = {{1, 300, 3, CV_8U},   {300, 1, 3, CV_8U},    {2, 2, 1, CV_8U},   {129, 257, 4, CV_8U},
               {300, 131, 2, CV_8U}, {257, 129, 3, CV_16U}, {7, 500, 4, CV_16U}};
  Chain chain;
  chain.then("gaussian_blur", {{"sigma", 3.0}}).then("sharpen", {{"amount", 1.5}, {"radius", 1.0}});
  int n = 0;
  for (const auto& c : cases) {
    const fs::path input = write_png(dir, "in" + std::to_string(n++) + ".png",
                                     make_image(c.width, c.height, c.channels, c.depth, 7));
    expect_streams_like_memory(
        png_output(chain), input, 1,
        fmt::format("{}x{}, {} channels, {}-bit", c.width, c.height, c.channels, c.depth == CV_16U ? 16 : 8));
  }
}

TEST(Stream, AreaDownscalesMatchWithinOneLevel) {
  TempDir dir;
  // A PNG: both schedules decode it whole, so they resample the same pixels. (A JPEG decodes at
  // another scale in each: below.)
  const fs::path autumn = write_png(dir, "autumn.png", load(photo("autumn-2560x1600.jpg")).pixels);
  Chain by_four;
  by_four.then("resize", {{"scale", 0.25}});
  expect_streams_like_memory(png_output(by_four), autumn, 1, "integer factor 4");
  Chain odd;
  odd.then("resize", {{"width", 701}});
  expect_streams_like_memory(png_output(odd), autumn, 1, "factor 3.65");
  Chain cover;
  cover.then("adjust_colors", {{"contrast", 1.1}})
      .then("resize", {{"width", 500}, {"height", 500}, {"fit", "cover"}})
      .then("gaussian_blur", {{"sigma", 1.0}});
  expect_streams_like_memory(png_output(cover), autumn, 1, "cover crops the centre");
  const fs::path rgba = write_png(dir, "rgba.png", make_image(999, 601, 4, CV_8U, 3));
  Chain alpha;
  alpha.then("resize", {{"width", 333}, {"height", 200}, {"fit", "exact"}, {"kernel", "area"}});
  expect_streams_like_memory(png_output(alpha, QualityPreset::high), rgba, 1, "premultiplied alpha");
}

TEST(Stream, ShrinkOnLoadOfAJpegLooksTheSameInBothSchedules) {
  // In memory a JPEG decodes at the least M/8 scale (3/8: 960 px for 701), streamed at libvips's
  // 1/2: both then reduce to 701 px by area. The same picture, with differences in fine detail.
  TempDir dir;
  const fs::path autumn = photo("autumn-2560x1600.jpg");
  Chain odd;
  odd.then("resize", {{"width", 701}});
  const ChainFile file = png_output(odd);
  const cv::Mat got = streamed(file, autumn, dir), want = in_memory(file, autumn, dir);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_GE(psnr(got, want), 38.0);
  EXPECT_LT(mean_abs_diff(got, want), 1.0);
}

TEST(Stream, CropAndMirrorAreExact) {
  Chain chain;
  chain.then("crop", {{"width", 300}, {"height", 200}, {"left", 17}})
      .then("flip", {{"direction", "horizontal"}})
      .then("crop", {{"width", 101}, {"height", 99}})
      .then("auto_orient");
  expect_streams_like_memory(png_output(chain), photo("building.jpg"), 0, "crop, mirror, centred crop");
}

// A 16-bit image keeps 16 bits in a PNG, and a TIFF holds the same pixels.
TEST(Stream, SixteenBitAndTiffKeepThePixels) {
  TempDir dir;
  const fs::path input = write_png(dir, "deep.png", make_gradient(320, 240, 3, CV_16U));
  ChainFile file = png_output(Chain().then("adjust_colors", {{"gamma", 1.3}}));
  expect_streams_like_memory(file, input, 0, "16-bit PNG");
  file.output.format = Format::tiff;
  stream_file(file, input, dir / "out.tif", file.context);
  const cv::Mat tiff = load(dir / "out.tif").pixels;
  EXPECT_EQ(tiff.depth(), CV_16U);
  EXPECT_TRUE(identical(tiff, in_memory(file, input, dir)));
}

// Lossy outputs: decoded, they are as close to the in-memory pixels as the encoder allows.
TEST(Stream, JpegAndWebpOutputsMatchTheChain) {
  TempDir dir;
  const fs::path input = photo("fruits.jpg");
  ChainFile file;
  file.chain.then("gaussian_blur", {{"sigma", 1.0}});
  file.output.quality = 95;
  const cv::Mat reference = file.chain.run(load(input), file.context).pixels;
  for (Format format : {Format::jpeg, Format::webp}) {
    file.output.format = format;
    const fs::path out = dir / fmt::format("out.{}", to_string(format));
    stream_file(file, input, out, file.context);
    EXPECT_EQ(probe(out).format, to_string(format));
    EXPECT_GT(psnr(load(out).pixels, reference), 38.0) << to_string(format);
  }
  // Alpha is flattened onto the background for JPEG, as the in-memory encoder does.
  const fs::path rgba = write_png(dir, "rgba.png", make_gradient(200, 100, 4));
  file.output.format = Format::jpeg;
  stream_file(file, rgba, dir / "flat.jpg", file.context);
  const cv::Mat in_memory_jpeg =
      load_buffer(encode(file.chain.run(load(rgba), file.context), file.output), "x").pixels;
  EXPECT_GT(psnr(load(dir / "flat.jpg").pixels, in_memory_jpeg), 40.0);
}

TEST(Stream, MirroredExifOrientationStreamsAndTurnedIsRefused) {
  TempDir dir;
  auto with_orientation = [&](int orientation) {
    const fs::path path = dir / fmt::format("o{}.jpg", orientation);
    const cv::Mat pixels = make_gradient(64, 48, 3);
    VipsImage* image = vips_image_new_from_memory_copy(pixels.data, pixels.total() * pixels.elemSize(), 64,
                                                       48, 3, VIPS_FORMAT_UCHAR);
    image->Type = VIPS_INTERPRETATION_sRGB;
    vips_image_set_int(image, VIPS_META_ORIENTATION, orientation);
    EXPECT_EQ(vips_image_write_to_file(image, path.c_str(), nullptr), 0);
    g_object_unref(image);
    return path;
  };
  const fs::path mirrored = with_orientation(2), turned = with_orientation(6);
  Chain chain;
  chain.then("adjust_colors", {{"contrast", 1.2}});
  expect_streams_like_memory(png_output(chain), mirrored, 0, "orientation 2");
  std::string why;
  EXPECT_FALSE(can_stream(chain, probe(turned), QualityPreset::balanced, &why));
  EXPECT_NE(why.find("orientation 6"), std::string::npos) << why;
  try {
    stream_file(png_output(chain), turned, dir / "out.png", {});
    ADD_FAILURE() << "orientation 6 streamed";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::unsupported);
    EXPECT_NE(std::string(e.what()).find("o6.jpg"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------
// What cannot stream, and failures.

TEST(Stream, CanStreamNamesTheStepThatCannot) {
  const struct {
    Chain chain;
    std::string step;
  } cases[] = {
      {Chain().then("gaussian_blur").then("rotate", {{"angle", 90.0}}), "step 2: rotate"},
      {Chain().then("edges", {{"method", "canny"}}), "step 1: edges"},
      {Chain().then("flip", {{"direction", "vertical"}}), "step 1: flip"},
      {Chain().then("resize", {{"scale", 2.0}}), "step 1: resize"},
      {Chain().then("resize", {{"width", 100}, {"kernel", "lanczos"}}), "step 1: resize"},
      {Chain().then("adjust_colors").then("border", {{"size", 10}}), "step 2: border"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(can_stream(c.chain, &why)) << c.step;
    EXPECT_EQ(why.rfind(c.step, 0), 0u) << why;
  }
  std::string why = "unchanged?";
  EXPECT_TRUE(can_stream(Chain()
                             .then("resize", {{"width", 1000}})
                             .then("edges", {{"method", "sobel"}})
                             .then("crop", {{"width", 10}, {"height", 10}}),
                         &why));
  EXPECT_EQ(why, "");
  // A resize that shrinks a large input enlarges a small one, and the preset picks the kernel.
  const ImageInfo small = probe(photo("fruits.jpg"));
  const Chain resize = Chain().then("resize", {{"width", 800}});
  EXPECT_FALSE(can_stream(resize, small));
  EXPECT_TRUE(can_stream(Chain().then("resize", {{"width", 400}}), small, QualityPreset::fast));
  EXPECT_FALSE(can_stream(Chain().then("resize", {{"width", 400}}), small, QualityPreset::high));
}

TEST(Stream, TruncatedInputFailsNamingTheFileAndLeavesNothing) {
  TempDir dir;
  const fs::path out = dir / "out.png";
  try {
    stream_file(png_output(Chain().then("gaussian_blur")), photo("truncated.jpg"), out, {});
    ADD_FAILURE() << "a truncated JPEG streamed";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("truncated.jpg"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path())) << "a partial or temporary file was left";
}

TEST(Stream, FileSizeLimitIsRespectedAndPixelLimitIsNot) {
  TempDir dir;
  const fs::path input = photo("fruits.jpg");
  Context context;
  context.limits.max_input_pixels = 100;  // streaming is for images over this limit
  stream_file(png_output(Chain().then("grayscale")), input, dir / "ok.png", context);
  EXPECT_TRUE(fs::exists(dir / "ok.png"));
  context.limits.max_file_bytes = 1000;
  try {
    stream_file(png_output(Chain().then("grayscale")), input, dir / "no.png", context);
    ADD_FAILURE() << "the file size limit was ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::limit);
    EXPECT_NE(std::string(e.what()).find("fruits.jpg"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir / "no.png"));
}

TEST(Stream, UnstreamableChainIsRefusedBeforeWriting) {
  TempDir dir;
  try {
    stream_file(png_output(Chain().then("rotate", {{"angle", 45.0}})), photo("fruits.jpg"), dir / "o.png",
                {});
    ADD_FAILURE() << "rotate streamed";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::unsupported);
    EXPECT_NE(std::string(e.what()).find("step 1: rotate"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

// ---------------------------------------------------------------------------------------
// Analysis steps: analysed on a shrink-on-load thumbnail, applied region by region.

// The share of pixels whose value differs anywhere between two images of one size and type.
double differing_share(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat difference;
  cv::absdiff(a, b, difference);
  cv::Mat per_pixel = difference.reshape(1, static_cast<int>(difference.total()));
  cv::reduce(per_pixel, per_pixel, 1, cv::REDUCE_MAX);
  return cv::countNonZero(per_pixel) / static_cast<double>(a.total());
}

// Whether one of `lines` (a run's strategy list) starts with `start`; the list is printed
// when none does.
bool has_line(const std::vector<std::string>& lines, const std::string& start) {
  for (const std::string& line : lines)
    if (line.rfind(start, 0) == 0) return true;
  for (const std::string& line : lines) std::printf("strategy: %s\n", line.c_str());
  return false;
}

// Whether every pixel of an 8-bit RGB image is one of `colours`.
bool only_colours(const cv::Mat& rgb, const std::vector<cv::Vec3b>& colours) {
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x)
      if (std::find(colours.begin(), colours.end(), rgb.at<cv::Vec3b>(y, x)) == colours.end()) return false;
  return true;
}

// The palette's clusters come from 160 px of analysis: streamed, libvips's thumbnail (the
// JPEG decoded at reduced scale, then a Lanczos reduction); in memory, the full image sampled
// on a 160-pixel grid (the palette step reduces the image itself). The two see slightly
// different colours, so the k-means centres move slightly and pixels near a boundary between
// two clusters can change sides; the assignment itself is the same nearest-centre rule, pixel
// by pixel. Measured: 2.7 % of the pixels differ (0.6 % when both analysed a reduced copy).
// The bound, 5 %, leaves room for another libvips or OpenCV build; a recolouring from wrong
// labels or centres would change far more (each cluster holds about a quarter of the image).
TEST(Stream, PaletteAnalysesAThumbnailAndRecoloursRegionByRegion) {
  const std::vector<cv::Vec3b> colours = {{16, 16, 16}, {192, 64, 32}, {64, 160, 224}, {240, 240, 224}};
  Chain chain;
  chain.then("palette", {{"colors", "#101010,#c04020,#40a0e0,#f0f0e0"},
                         {"k", 4},
                         {"strategy", "scaled"},
                         {"analysis_size", 160}});
  ChainFile file = png_output(std::move(chain));
  std::vector<std::string> strategies;
  file.context.strategies = &strategies;
  const fs::path input = photo("rocket.jpg");
  std::string why;
  ASSERT_TRUE(can_stream(file.chain, probe(input, unlimited()), file.context.quality, &why)) << why;
  TempDir dir;
  const cv::Mat got = streamed(file, input, dir);
  const cv::Mat want = in_memory(file, input, dir);
  ASSERT_EQ(got.size(), want.size());
  ASSERT_EQ(got.type(), CV_8UC3);
  ASSERT_EQ(want.type(), CV_8UC3);
  EXPECT_TRUE(only_colours(got, colours));
  EXPECT_TRUE(only_colours(want, colours));
  const double share = differing_share(got, want);
  std::printf("palette streamed vs in memory: %.5f of the pixels differ\n", share);
  EXPECT_LT(share, 0.05);
  EXPECT_TRUE(has_line(strategies, "step 1: palette: scaled 160x107 thumbnail, k 4"));
  EXPECT_TRUE(has_line(strategies, "step 1: palette: scaled 160x107, k 4"));
}

// complexity passes the pixels through: the stream equals the in-memory chain exactly, with
// point steps on either side (the one before also runs on the thumbnail).
TEST(Stream, ComplexityPassesThePixelsThroughExactly) {
  Chain chain;
  chain.then("adjust_colors", {{"contrast", 1.3}}).then("complexity").then("grayscale");
  ChainFile file = png_output(std::move(chain));
  std::vector<std::string> strategies;
  file.context.strategies = &strategies;
  expect_streams_like_memory(file, photo("motorcycle_left.png"), 0, "complexity");
  // In memory a 741-pixel image is analysed direct; streamed, the planner's scaled size is
  // taken instead, since a streamed image is assumed not to fit.
  EXPECT_TRUE(has_line(strategies, "step 2: complexity: scaled 512x345 thumbnail, complexity 0."));
  EXPECT_TRUE(has_line(strategies, "step 2: complexity: direct, complexity 0."));
}

TEST(Stream, AnalysisStepsThatCannotStreamAreNamed) {
  TempDir dir;
  const fs::path two = dir / "two.json";
  write_text(two, R"({"warm": ["#400000", "#ff8000"], "cool": ["#000040", "#80c0ff"]})");
  const struct {
    Chain chain;
    std::string step, reason;
  } cases[] = {
      {Chain().then("palette", {{"palettes", two.string()}}), "step 1: palette", "2 variants"},
      {Chain().then("gaussian_blur").then("palette", {{"colors", "#000,#fff"}}), "step 2: palette",
       "step 1: gaussian_blur is not one"},
      {Chain().then("remove_background"), "step 1: remove_background", "no region form"},
  };
  for (const auto& c : cases) {
    std::string why;
    EXPECT_FALSE(can_stream(c.chain, &why)) << c.step;
    EXPECT_EQ(why.rfind(c.step, 0), 0u) << why;
    EXPECT_NE(why.find(c.reason), std::string::npos) << why;
  }
  // Point steps before it, and a single palette without a mask file, stream.
  std::string why = "unchanged?";
  EXPECT_TRUE(can_stream(Chain().then("grayscale").then("palette", {{"colors", "#000,#fff"}}), &why)) << why;
  EXPECT_EQ(why, "");
}

}  // namespace
}  // namespace imgpipe::test
