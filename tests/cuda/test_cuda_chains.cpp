// Chains whose dither (ordered) and palette steps run on CUDA. On every machine the tables that
// libimgpipe hands the plugin (ordered_dither_tables(), cuda_assign_tables(),
// cuda_apply_tables()) are run through the plugin's own per-pixel code (lib/cuda/dither_math.hpp,
// palette_math.hpp) on the host and must give the CPU kernels' output bit for bit on real
// photos: that proves the glue. With a CUDA device the chains themselves run there and must
// equal the CPU run; without one those tests are skipped with the reason.

#include <fmt/format.h>

#include <imgpipe/device.hpp>
#include <imgpipe/kernels/dither.hpp>
#include <imgpipe/palette.hpp>
#include <opencv2/imgproc.hpp>

#include "cuda/dither_math.hpp"
#include "cuda/palette_math.hpp"
#include "ops/effects/ordered_dither.hpp"
#include "ops/palette/cuda_tables.hpp"
#include "ops/palette/lab.hpp"
#include "test_support.hpp"

namespace imgpipe::test {
namespace {

// A photo reduced to `long_side`, as `channels` (3, or 4 with a real alpha that fades to
// transparent at the edges; 1 grey) at `depth`.
Image photo_as(const std::string& name, int channels, int depth, int long_side = 320) {
  cv::Mat pixels = load(photo(name)).pixels;
  if (pixels.depth() != CV_8U) pixels.convertTo(pixels, CV_8U, 1.0 / 257.0);
  if (pixels.channels() == 4) cv::cvtColor(pixels, pixels, cv::COLOR_RGBA2RGB);
  if (pixels.channels() == 1) cv::cvtColor(pixels, pixels, cv::COLOR_GRAY2RGB);
  const double scale = static_cast<double>(long_side) / std::max(pixels.cols, pixels.rows);
  cv::resize(pixels, pixels, {}, scale, scale, cv::INTER_AREA);
  if (channels == 1) cv::cvtColor(pixels, pixels, cv::COLOR_RGB2GRAY);
  if (channels == 4) pixels = with_radial_alpha(pixels);
  // 16-bit: a scale that is not 257, so that the reduction to 8 bits rounds.
  if (depth == CV_16U) pixels.convertTo(pixels, CV_16U, 256.6);
  return Image(pixels);
}

struct Input {
  std::string name;
  Image image;
};

std::vector<Input> inputs() {
  std::vector<Input> out;
  out.push_back({"fruits rgb8", photo_as("fruits.jpg", 3, CV_8U)});
  out.push_back({"baboon rgba8", photo_as("baboon.jpg", 4, CV_8U)});
  out.push_back({"chelsea rgb16", photo_as("chelsea.png", 3, CV_16U)});
  out.push_back({"starry grey8", photo_as("starry_night.jpg", 1, CV_8U)});
  out.push_back({"coffee grey16", photo_as("coffee.png", 1, CV_16U)});
  return out;
}

std::vector<Colour> hex_colours(const std::string& list) {
  return parse_palette_list(list).colours;
}

// ---- Ordered dithering ----

// imgpipe_cuda_dither_ordered's kernel run on the host: ordered_pixel() with the plan's tables
// for every pixel.
cv::Mat host_ordered_dither(const cv::Mat& in, const imgpipe_cuda_ordered_dither& p) {
  cuda::OrderedTables t{};
  t.thresholds = p.thresholds;
  t.n = p.n;
  t.base = p.base;
  t.level_value = p.level_values;
  t.level_work = p.level_work;
  t.levels = p.levels;
  t.palette = p.palette;
  t.palette_lab = p.palette_lab;
  t.palette_size = p.palette_size;
  t.spread = p.spread;
  t.code_threshold = p.code_thresholds;
  t.lab = {p.lab.linear, p.lab.f};
  const int channels = in.channels();
  const bool alpha = channels == 2 || channels == 4;
  const int out_channels = (p.palette_size == 0 ? 1 : 3) + (alpha ? 1 : 0);
  cv::Mat out(in.size(), CV_8UC(out_channels));
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const cuda::Rgba8 px =
          cuda::load_rgba8(in.ptr<unsigned char>(y), x, channels, static_cast<int>(in.elemSize1()));
      cuda::ordered_pixel(t, px, channels <= 2, alpha, x, y, out.ptr<std::uint8_t>(y) + x * out_channels);
    }
  return out;
}

struct DitherCase {
  std::string name;
  kernels::DitherOptions options;
};

std::vector<DitherCase> dither_cases() {
  using M = kernels::DitherMethod;
  std::vector<DitherCase> cases;
  const auto add = [&](std::string name, M method, std::vector<Colour> palette, int levels, bool linear) {
    kernels::DitherOptions o;
    o.method = method;
    o.palette = std::move(palette);
    o.levels = levels;
    o.linear = linear;
    cases.push_back({std::move(name), o});
  };
  const auto four = hex_colours("#000,#f80,#08f,#fff");
  std::string many;  // 27 colours: the CPU keeps a cache of nearest colours from 17 on
  for (const char* r : {"0", "8", "f"})
    for (const char* g : {"0", "8", "f"})
      for (const char* b : {"0", "8", "f"})
        many += fmt::format("{}#{}{}{}", many.empty() ? "" : ",", r, g, b);
  add("bayer2 levels 2", M::bayer2, {}, 2, false);
  add("bayer4 levels 4", M::bayer4, {}, 4, false);
  add("bayer8 levels 5 linear", M::bayer8, {}, 5, true);
  add("bayer4 levels 256", M::bayer4, {}, 256, false);
  add("bayer2 palette 4", M::bayer2, four, 2, false);
  add("bayer4 palette 4 linear", M::bayer4, four, 2, true);
  add("bayer8 palette 27", M::bayer8, hex_colours(many), 2, false);
  add("bayer4 palette 27 linear", M::bayer4, hex_colours(many), 2, true);
  add("bayer8 palette 1", M::bayer8, hex_colours("#808080"), 2, false);
  return cases;
}

TEST(CudaChainTables, OrderedDitherTablesGiveTheCpuOutputOnTheHost) {
  const std::vector<Input> images = inputs();
  for (const DitherCase& c : dither_cases()) {
    const kernels::OrderedDitherTables tables = kernels::ordered_dither_tables(c.options);
    for (const Input& input : images) {
      SCOPED_TRACE(fmt::format("{}: {}", c.name, input.name));
      cv::Mat want;
      kernels::dither(input.image.pixels, want, c.options);
      const cv::Mat got = host_ordered_dither(input.image.pixels, tables.plan);
      ASSERT_EQ(got.type(), want.type());
      EXPECT_TRUE(identical(got, want)) << "max difference " << max_abs_diff(got, want);
    }
  }
}

TEST(CudaChainTables, OrderedDitherTablesRefuseWhatTheCpuRefuses) {
  kernels::DitherOptions o;
  o.method = kernels::DitherMethod::bayer4;
  o.levels = 1;
  EXPECT_THROW(kernels::ordered_dither_tables(o), Error);
  o.method = kernels::DitherMethod::floyd_steinberg;
  o.levels = 2;
  EXPECT_THROW(kernels::ordered_dither_tables(o), Error);
}

TEST(CudaChainTables, DitherHasACudaPathForTheOrderedMethodsOnly) {
  for (const char* method : {"bayer2", "bayer4", "bayer8"})
    EXPECT_NO_THROW(Chain().then("dither", {{"method", method}, {"levels", 4}, {"device", "cuda"}}))
        << method;
  for (const char* method : {"floyd_steinberg", "atkinson", "jarvis_judice_ninke", "sierra"})
    EXPECT_THROW(Chain().then("dither", {{"method", method}, {"device", "cuda"}}), Error) << method;
}

// ---- Palette assignment and application ----

// imgpipe_cuda_palette_assign's kernel on the host: assign_pixel() for every pixel.
cv::Mat host_assign(const cv::Mat& in, const CudaAssignTables& a, const cv::Mat& mask, bool use_alpha) {
  cuda::AssignTables t{};
  t.centres = a.centres.data();
  t.k = static_cast<int>(a.centres.size() / 3);
  t.lab = {a.lab.linear, a.lab.f};
  t.linear = a.exact_linear;
  const int channels = in.channels();
  cv::Mat labels(in.size(), CV_8UC1);
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const cuda::Rgba8 px =
          cuda::load_rgba8(in.ptr<unsigned char>(y), x, channels, static_cast<int>(in.elemSize1()));
      labels.at<std::uint8_t>(y, x) =
          cuda::assign_pixel(t, px, channels == 2 || channels == 4,
                             mask.empty() ? nullptr : mask.ptr<std::uint8_t>(y) + x, use_alpha);
    }
  return labels;
}

// imgpipe_cuda_palette_apply's kernel on the host: apply_pixel() for every pixel.
cv::Mat host_apply(const cv::Mat& labels, const cv::Mat& in, const CudaApplyTables& a, int out_channels) {
  std::vector<std::uint8_t> colours(4 * 256, 0), centres(4 * 256, 0);  // as the plugin pads them
  std::copy(a.colours.begin(), a.colours.end(), colours.begin());
  std::copy(a.centres.begin(), a.centres.end(), centres.begin());
  cuda::ApplyTables t{};
  t.colours = colours.data();
  t.centres = centres.data();
  t.preserve_shading = a.preserve_shading != 0;
  t.mask_mode = a.mask_mode;
  for (int c = 0; c < 4; ++c) t.fill[c] = a.fill[c];
  const int channels = in.channels();
  cv::Mat out(in.size(), CV_8UC(out_channels));
  for (int y = 0; y < in.rows; ++y)
    for (int x = 0; x < in.cols; ++x) {
      const cuda::Rgba8 px =
          cuda::load_rgba8(in.ptr<unsigned char>(y), x, channels, static_cast<int>(in.elemSize1()));
      cuda::apply_pixel(t, labels.at<std::uint8_t>(y, x), px, out.ptr<std::uint8_t>(y) + x * out_channels,
                        out_channels);
    }
  return out;
}

// A mask file's pixels: a disc in the middle kept, the rest left out.
cv::Mat disc_mask(cv::Size size) {
  cv::Mat mask(size, CV_8UC1, cv::Scalar(0));
  cv::circle(mask, {size.width / 2, size.height / 2}, std::min(size.width, size.height) / 3, cv::Scalar(200),
             -1);
  return mask;
}

TEST(CudaChainTables, PaletteTablesGiveTheCpuLabelsAndOutputOnTheHost) {
  const std::vector<Palette> palettes = {
      parse_palette_list("#1d3557,#457b9d,#a8dadc,#f1faee", "sea"),
      parse_palette_list("#000,#f00,#0f0,#00f,#ff0,#0ff,#f0f,#fff", "rgb"),
      parse_palette_list("#402010", "one"),
  };
  std::vector<ApplyOptions> applies(6);
  applies[1].mapping = ApplyOptions::Mapping::nearest;
  applies[2].preserve_shading = true;
  applies[3].mask_mode = MaskMode::transparent;
  applies[4].mask_mode = MaskMode::fill;
  applies[4].fill = {10, 200, 30, 128};
  applies[5].mask_mode = MaskMode::fill;
  applies[5].fill = {250, 240, 230, 255};
  struct Run {
    QualityPreset quality;
    bool mask_file;
  };
  const std::vector<Input> images = inputs();
  for (const Input& input : images)
    for (const Run run : {Run{QualityPreset::balanced, false}, Run{QualityPreset::balanced, true},
                          Run{QualityPreset::ultra, false}}) {
      if (run.quality == QualityPreset::ultra && input.name != "fruits rgb8" && input.name != "baboon rgba8")
        continue;  // the exact conversion on two photos is enough (and slow on the host)
      SCOPED_TRACE(
          fmt::format("{}, {}{}", input.name, to_string(run.quality), run.mask_file ? ", mask file" : ""));
      ClusterOptions o;
      o.k = 7;
      o.quality = run.quality;
      if (run.mask_file) o.mask = disc_mask(input.image.pixels.size());
      const Clustering clustering = cluster(input.image, o);
      const cv::Mat labels = host_assign(input.image.pixels, cuda_assign_tables(clustering, run.quality),
                                         o.mask, o.mask.empty());
      ASSERT_TRUE(identical(labels, clustering.labels()))
          << cv::countNonZero(labels != clustering.labels()) << " labels differ";
      for (const Palette& palette : palettes)
        for (std::size_t i = 0; i < applies.size(); ++i) {
          SCOPED_TRACE(fmt::format("{}, apply options {}", palette.name, i));
          const Image want = clustering.apply(palette, applies[i]);
          const cv::Mat got =
              host_apply(labels, input.image.pixels, cuda_apply_tables(clustering, palette, applies[i]),
                         want.pixels.channels());
          EXPECT_TRUE(identical(got, want.pixels)) << "max difference " << max_abs_diff(got, want.pixels);
        }
    }
}

// The assignment's colour conversion: the converter's tables below ultra, the exact
// linear-light table at ultra, each giving the CPU's Lab (a label moves only where two centres
// are almost equally near, which the photos above may not show).
TEST(CudaChainTables, PaletteAssignmentConvertsAsTheCpu) {
  ClusterOptions options;
  options.k = 3;
  const Clustering clustering = cluster(photo_as("fruits.jpg", 3, CV_8U, 100), options);
  const CudaAssignTables tables = cuda_assign_tables(clustering, QualityPreset::balanced);
  EXPECT_EQ(tables.exact_linear, nullptr);
  ASSERT_EQ(tables.centres.size(), 9u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(tables.centres[3 * i], static_cast<float>(clustering.centres_lab()[i].L));
    EXPECT_EQ(tables.centres[3 * i + 2], static_cast<float>(clustering.centres_lab()[i].b));
  }
  const Image rgb = photo_as("baboon.jpg", 3, CV_8U, 64);
  const auto& converter = palette::LabConverter::instance();
  for (int y = 0; y < rgb.pixels.rows; ++y)
    for (int x = 0; x < rgb.pixels.cols; ++x) {
      const auto* p = rgb.pixels.ptr<std::uint8_t>(y) + 3 * x;
      const cuda::LabF got = cuda::lab_of({tables.lab.linear, tables.lab.f}, p[0], p[1], p[2]);
      const palette::LabF want = converter(p[0], p[1], p[2]);
      ASSERT_EQ(got.L, want.L);
      ASSERT_EQ(got.a, want.a);
      ASSERT_EQ(got.b, want.b);
    }
  const CudaAssignTables exact = cuda_assign_tables(clustering, QualityPreset::ultra);
  ASSERT_NE(exact.exact_linear, nullptr);
  for (int v = 0; v < 256; v += 5) {
    const auto c = static_cast<std::uint8_t>(v), d = static_cast<std::uint8_t>(255 - v);
    const cuda::Lab got =
        cuda::linear_to_lab(exact.exact_linear[c], exact.exact_linear[d], exact.exact_linear[c]);
    const Lab want = srgb_to_lab({c, d, c, 255});
    EXPECT_NEAR(got.L, want.L, 1e-12);
    EXPECT_NEAR(got.a, want.a, 1e-12);
    EXPECT_NEAR(got.b, want.b, 1e-12);
  }
}

// ---- The chains on a CUDA device ----

class CudaChains : public testing::Test {
 protected:
  void SetUp() override {
    const DeviceStatus& status = device_status(Device::cuda);
    if (!status.usable) GTEST_SKIP() << status.problem;
  }

  struct Both {
    std::vector<Variant> device, cpu;
    std::vector<DeviceRun> runs;
  };
  static Both run_both(const Chain& chain, const Image& image,
                       QualityPreset quality = QualityPreset::balanced) {
    Both both;
    Context context;
    context.quality = quality;
    context.device = Device::cuda;
    context.device_runs = &both.runs;
    both.device = chain.run_variants(image, context);
    context.device = Device::cpu;
    context.device_runs = nullptr;
    both.cpu = chain.run_variants(image, context);
    return both;
  }

  static void expect_same(const Both& both) {
    EXPECT_FALSE(both.runs.empty()) << "nothing ran on CUDA";
    for (const DeviceRun& run : both.runs) EXPECT_EQ(run.device, Device::cuda);
    ASSERT_EQ(both.device.size(), both.cpu.size());
    for (std::size_t i = 0; i < both.cpu.size(); ++i) {
      SCOPED_TRACE(both.cpu[i].name);
      const Image& got = both.device[i].image;
      const Image& want = both.cpu[i].image;
      EXPECT_EQ(both.device[i].name, both.cpu[i].name);
      ASSERT_EQ(got.pixels.type(), want.pixels.type());
      EXPECT_TRUE(identical(got.pixels, want.pixels))
          << "max difference " << max_abs_diff(got.pixels, want.pixels);
      ASSERT_EQ(got.indexed == nullptr, want.indexed == nullptr);
      if (want.indexed) {
        EXPECT_TRUE(identical(got.indexed->indices, want.indexed->indices));
        EXPECT_EQ(got.indexed->table, want.indexed->table);
      }
    }
  }
};

TEST_F(CudaChains, OrderedDitherMatchesTheCpu) {
  const std::vector<ParamList> steps = {
      {{"method", "bayer4"}, {"levels", 4}},
      {{"method", "bayer2"}},
      {{"method", "bayer8"}, {"levels", 3}, {"linear", true}},
      {{"method", "bayer4"}, {"palette", "#000,#f80,#08f,#fff"}},
      {{"method", "bayer8"}, {"palette", "#000,#f80,#08f,#fff"}, {"linear", true}},
  };
  for (const Input& input : inputs())
    for (const ParamList& params : steps) {
      SCOPED_TRACE(fmt::format("{}: {}", input.name, params[0].second.to_text()));
      expect_same(run_both(Chain().then("dither", params), input.image));
    }
}

TEST_F(CudaChains, PaletteVariantsMatchTheCpu) {
  const std::string palettes = R"({"sea": ["#1d3557", "#457b9d", "#a8dadc", "#f1faee"],
                                   "sun": ["#3d0c02", "#c1440e", "#f9a03f", "#fdf0d5"],
                                   "mono": ["#000000", "#ffffff"]})";
  const std::vector<ParamList> steps = {
      {{"colors", palettes}, {"k", 6}},
      {{"colors", palettes}, {"k", 6}, {"mapping", "nearest"}, {"preserve_shading", true}},
      {{"colors", palettes}, {"k", 8}, {"masked", "transparent"}},
      {{"colors", palettes}, {"k", 8}, {"mask", "none"}},
      {{"palettes", "centers"}, {"k", 5}},
  };
  for (const Input& input : inputs())
    for (std::size_t i = 0; i < steps.size(); ++i)
      for (const QualityPreset quality : {QualityPreset::balanced, QualityPreset::ultra}) {
        SCOPED_TRACE(fmt::format("{}: step {}, {}", input.name, i, to_string(quality)));
        expect_same(run_both(Chain().then("palette", steps[i]), input.image, quality));
      }
  // The reduced analysis (scaled): the full image's labels are assigned on the device.
  const Image large = photo_as("fruits.jpg", 3, CV_8U, 1200);
  expect_same(run_both(Chain().then("palette", steps[0]), large));
}

}  // namespace
}  // namespace imgpipe::test
