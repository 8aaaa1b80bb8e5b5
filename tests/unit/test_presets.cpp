// The quality presets' table (OpDescriptor::presets, `imgpipe ops --presets`, docs/operations.md)
// says what the operations do: the kernels it names for resize and rotate are the ones their
// output at each preset comes from.
#include <gtest/gtest.h>

#include <imgpipe/chain.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

constexpr QualityPreset kPresets[] = {QualityPreset::ultra, QualityPreset::high, QualityPreset::balanced,
                                      QualityPreset::fast, QualityPreset::draft};

Context at(QualityPreset quality) {
  Context context;
  context.quality = quality;
  context.device = Device::cpu;
  return context;
}

// The first kernel name in `text` after `from`; "" when there is none.
std::string kernel_in(const std::string& text, std::size_t from = 0) {
  std::size_t best = std::string::npos;
  std::string found;
  for (const std::string name : {"nearest", "linear", "cubic", "area", "lanczos"}) {
    const std::size_t at = text.find(name, from);
    if (at < best) best = at, found = name;
  }
  return found;
}

// resize's entry: "lanczos; …" (both ways) or "area down, cubic up; …".
std::pair<std::string, std::string> resize_kernels(const std::string& text) {
  const std::size_t down = text.find(" down");
  if (down == std::string::npos) return {kernel_in(text), kernel_in(text)};
  return {kernel_in(text), kernel_in(text, down)};
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

}  // namespace

TEST(Presets, ResizeKernelsAreTheTablesKernels) {
  const OpDescriptor& resize = Registry::global().at("resize");
  const Image photo = load(test::photo("rocket.jpg"));  // 640x427
  for (const QualityPreset q : kPresets) {
    const auto [down, up] = resize_kernels(resize.presets.at(q));
    SCOPED_TRACE(std::string(to_string(q)) + ": " + resize.presets.at(q));
    ASSERT_FALSE(down.empty());
    ASSERT_FALSE(up.empty());
    for (const auto& [side, kernel] : {std::pair{301, down}, std::pair{1001, up}}) {
      const Image automatic = Chain().then("resize", {{"max_side", side}}).run(photo, at(q));
      const Image named = Chain().then("resize", {{"max_side", side}, {"kernel", kernel}}).run(photo, at(q));
      EXPECT_TRUE(same(automatic.pixels, named.pixels)) << "max_side " << side << ": not " << kernel;
    }
  }
}

TEST(Presets, RotateKernelIsTheTablesKernel) {
  const OpDescriptor& rotate = Registry::global().at("rotate");
  const Image photo = load(test::photo("rocket.jpg"));
  std::vector<cv::Mat> outputs;
  for (const QualityPreset q : kPresets) {
    const std::string kernel = kernel_in(rotate.presets.at(q));
    SCOPED_TRACE(std::string(to_string(q)) + ": " + rotate.presets.at(q));
    ASSERT_TRUE(kernel == "cubic" || kernel == "linear");
    kernels::RotateOptions options;
    options.angle = 30;
    options.kernel = kernel == "cubic" ? kernels::Interpolation::cubic : kernels::Interpolation::linear;
    cv::Mat expected;
    kernels::rotate(photo.pixels, expected, options);
    const Image out = Chain().then("rotate", {{"angle", 30.0}}).run(photo, at(q));
    EXPECT_TRUE(same(out.pixels, expected));
    outputs.push_back(out.pixels);
  }
  EXPECT_FALSE(same(outputs.front(), outputs.back())) << "the two kernels give the same pixels: no proof";
}

// Below ultra a chain that starts with a downscale may decode a JPEG smaller; a factor must
// still apply to the image's own size, not to the reduced decode's.
TEST(Presets, ResizeByAFactorGivesTheSameSizeAtEveryPreset) {
  test::TempDir dir;
  test::write_text(dir / "half.yaml", "chain:\n- resize: {scale: 0.5}\n");
  test::write_text(dir / "box.yaml", "chain:\n- resize: {width: 160, height: 160}\n");
  for (const QualityPreset q : kPresets) {
    SCOPED_TRACE(to_string(q));
    for (const auto& [chain, expected] :
         {std::pair{"half.yaml", cv::Size(320, 214)}, {"box.yaml", cv::Size(160, 107)}}) {
      const auto out = dir / (std::string(to_string(q)) + "-" + chain + ".png");
      const auto run = test::run_cli({"run", (dir / chain).string(), test::photo("rocket.jpg").string(),
                                      out.string(), "--preset", std::string(to_string(q))});
      ASSERT_EQ(run.exit_code, 0) << run.err;
      const ImageInfo info = probe(out.string());
      EXPECT_EQ(cv::Size(info.width, info.height), expected) << chain;
    }
  }
}

TEST(Presets, JsonAndMarkdownShowTheDescriptors) {
  const OpDescriptor& resize = Registry::global().at("resize");
  const auto json = nlohmann::json::parse(describe_ops_json({&resize}));
  for (const QualityPreset q : kPresets)
    EXPECT_EQ(json[0]["presets"][std::string(to_string(q))], resize.presets.at(q));
  const OpDescriptor& flip = Registry::global().at("flip");
  EXPECT_TRUE(flip.presets.empty());
  EXPECT_TRUE(nlohmann::json::parse(describe_ops_json({&flip}))[0]["presets"].is_null());
  const std::string table = describe_presets_markdown();
  EXPECT_NE(table.find("| resize | " + resize.presets.ultra + " |"), std::string::npos) << table;
  EXPECT_NE(table.find("No effect (the same output at every preset): "), std::string::npos) << table;
  EXPECT_NE(describe_ops_markdown().find(table), std::string::npos);
}
