// remove_background with a model given by name: the folders a name is looked up in and their
// order, the `method` parameter and its deprecated alias `mode`, the error for a missing model
// (raised when the chain is built), the preprocessing a known name (isnet) brings, the summary
// line, one mask for every palette variant, and the real ISNet on photos when it is installed.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <imgpipe/io.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
namespace k = imgpipe::kernels;

namespace {

// Tiny networks written with Debian's python3-onnx: a 1x1 convolution of the red (or blue)
// channel with weight 1 and no bias and no sigmoid, so the output is the preprocessed sample
// itself, (r - mean) / std: a mask that shows which preprocessing the step used.
bool write_models(const test::TempDir& dir) {
  const auto script = dir / "make_models.py";
  test::write_text(script, R"(import sys, onnx
from onnx import helper, TensorProto
def make(path, weights):
    W = helper.make_tensor('W', TensorProto.FLOAT, [1, 3, 1, 1], weights)
    B = helper.make_tensor('B', TensorProto.FLOAT, [1], [0.0])
    node = helper.make_node('Conv', ['input', 'W', 'B'], ['output'], kernel_shape=[1, 1])
    graph = helper.make_graph([node], 'channel',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info('output', TensorProto.FLOAT, [1, 1, 32, 32])], [W, B])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 11)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)
make(sys.argv[1] + '/red.onnx', [1.0, 0.0, 0.0])
make(sys.argv[1] + '/blue.onnx', [0.0, 0.0, 1.0])
)");
  const std::string command =
      "/usr/bin/python3 '" + script.string() + "' '" + dir.path().string() + "' >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

bool have_onnx() {
  return test::fs::exists("/usr/bin/python3") &&
         std::system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0;
}

// Left half pure red, right half black.
cv::Mat red_and_black() {
  cv::Mat rgb(96, 128, CV_8UC3, cv::Scalar(0, 0, 0));
  rgb(cv::Rect(0, 0, 64, 96)).setTo(cv::Scalar(255, 0, 0));
  return rgb;
}

// Mean alpha (0..255) of the left and right halves away from the boundary.
std::pair<double, double> sides(const cv::Mat& out) {
  cv::Mat alpha;
  cv::extractChannel(out, alpha, out.channels() - 1);
  return {cv::mean(alpha(cv::Rect(0, 0, 40, out.rows)))[0],
          cv::mean(alpha(cv::Rect(88, 0, 40, out.rows)))[0]};
}

double sigmoid(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

}  // namespace

// Sets (or with nullopt unsets) an environment variable for the object's lifetime.
class ModelScopedEnv {
 public:
  ModelScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value)
      ::setenv(name, value->c_str(), 1);
    else
      ::unsetenv(name);
  }
  ~ModelScopedEnv() {
    if (saved_)
      ::setenv(name_, saved_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  ModelScopedEnv(const ModelScopedEnv&) = delete;
  ModelScopedEnv& operator=(const ModelScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

// Three model folders, each empty, set as the three places a name is looked up in.
class RemoveBackgroundModelFolders : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& dir : {model_dir(), xdg_dir(), home_dir()}) test::fs::create_directories(dir);
  }
  test::fs::path model_dir() const { return root_ / "model_dir"; }
  test::fs::path xdg_dir() const { return root_ / "xdg" / "imgpipe" / "models"; }
  test::fs::path home_dir() const { return root_ / "home" / ".local" / "share" / "imgpipe" / "models"; }

  test::TempDir root_;
  ModelScopedEnv model_env_{"IMGPIPE_MODEL_DIR", (root_ / "model_dir").string()};
  ModelScopedEnv xdg_env_{"XDG_DATA_HOME", (root_ / "xdg").string()};
  ModelScopedEnv home_env_{"HOME", (root_ / "home").string()};
};

TEST(RemoveBackgroundModelName, NamesAndPaths) {
  EXPECT_TRUE(k::is_segmentation_model_name("isnet"));
  EXPECT_TRUE(k::is_segmentation_model_name("my-net_2"));
  EXPECT_FALSE(k::is_segmentation_model_name("isnet.onnx"));
  EXPECT_FALSE(k::is_segmentation_model_name("models/isnet"));
  EXPECT_FALSE(k::is_segmentation_model_name("/abs/isnet"));
  EXPECT_FALSE(k::is_segmentation_model_name(""));
}

TEST(RemoveBackgroundModelName, IsnetPreprocessing) {
  const auto isnet = k::known_segmentation_model("isnet");
  ASSERT_TRUE(isnet);
  EXPECT_EQ(isnet->size, 1024);
  EXPECT_EQ(isnet->output_index, 0);
  // (x - 128) / 256 on 0..255 is (x/255 - 128/255) / (256/255) on 0..1.
  for (int c = 0; c < 3; ++c) {
    EXPECT_DOUBLE_EQ(isnet->mean[static_cast<std::size_t>(c)], 128.0 / 255.0);
    EXPECT_DOUBLE_EQ(isnet->std[static_cast<std::size_t>(c)], 256.0 / 255.0);
  }
  for (const int x : {0, 77, 128, 255}) {
    const double v = (x / 255.0 - isnet->mean[0]) / isnet->std[0];
    EXPECT_NEAR(v, (x - 128.0) / 256.0, 1e-12);
  }
  EXPECT_FALSE(k::known_segmentation_model("u2net"));
}

TEST_F(RemoveBackgroundModelFolders, LookupOrder) {
  const auto folders = k::segmentation_model_folders();
  ASSERT_GE(folders.size(), 3U);
  EXPECT_EQ(folders[0], model_dir());
  EXPECT_EQ(folders[1], xdg_dir());
  EXPECT_TRUE(folders.back().string().ends_with("share/imgpipe/models")) << folders.back();

  EXPECT_FALSE(k::find_segmentation_model("net"));
  for (const auto& dir : {model_dir(), xdg_dir(), home_dir()}) test::write_text(dir / "net.onnx", "x");
  EXPECT_EQ(k::find_segmentation_model("net"), model_dir() / "net.onnx");
  test::fs::remove(model_dir() / "net.onnx");
  EXPECT_EQ(k::find_segmentation_model("net"), xdg_dir() / "net.onnx");
  {
    // Without XDG_DATA_HOME the data folder is $HOME/.local/share; an empty IMGPIPE_MODEL_DIR
    // counts as unset.
    const ModelScopedEnv no_xdg("XDG_DATA_HOME", std::nullopt);
    const ModelScopedEnv empty_dir("IMGPIPE_MODEL_DIR", "");
    EXPECT_EQ(k::segmentation_model_folders().front(), home_dir());
    EXPECT_EQ(k::find_segmentation_model("net"), home_dir() / "net.onnx");
  }
  // A folder is not a model.
  test::fs::remove(xdg_dir() / "net.onnx");
  test::fs::create_directories(xdg_dir() / "other.onnx");
  EXPECT_FALSE(k::find_segmentation_model("other"));
}

TEST_F(RemoveBackgroundModelFolders, TheChainUsesTheFirstFolderThatHoldsTheName) {
  if (!have_onnx()) GTEST_SKIP() << "the python3 onnx module (Debian python3-onnx) is not installed";
  test::TempDir made;
  ASSERT_TRUE(write_models(made));
  // The same name in two folders, a different network in each: red.onnx marks the red left
  // half as foreground, blue.onnx marks nothing (there is no blue), so the left half tells
  // which one ran.
  test::fs::copy_file(made / "red.onnx", model_dir() / "net.onnx");
  test::fs::copy_file(made / "blue.onnx", xdg_dir() / "net.onnx");
  const ParamList params = {
      {"method", "model"}, {"model", "net"}, {"model_size", 32}, {"mean", "0,0,0"}, {"std", "1,1,1"}};
  const auto [first_left, first_right] =
      sides(Chain().then("remove_background", params).run(Image(red_and_black()), Context{}).pixels);
  EXPECT_GT(first_left, 250);  // red: r = 1 on the left
  EXPECT_LT(first_right, 5);
  test::fs::remove(model_dir() / "net.onnx");
  const auto [second_left, second_right] =
      sides(Chain().then("remove_background", params).run(Image(red_and_black()), Context{}).pixels);
  EXPECT_LT(second_left, 5);  // blue: b = 0 everywhere
  EXPECT_LT(second_right, 5);
}

TEST_F(RemoveBackgroundModelFolders, MissingModelIsAConfigErrorWhenTheChainIsBuilt) {
  const std::string message = test::config_error([] {
    Chain().then("remove_background", {{"method", "model"}, {"model", "isnet"}});
  });
  EXPECT_NE(message.find("no model named \"isnet\""), std::string::npos) << message;
  for (const auto& folder : k::segmentation_model_folders())
    EXPECT_NE(message.find((folder / "isnet.onnx").string()), std::string::npos) << folder << ": " << message;
  EXPECT_NE(message.find("tools/fetch-model isnet"), std::string::npos) << message;
  // A name imgpipe does not know says where to put it instead.
  const std::string other = test::config_error([] {
    Chain().then("remove_background", {{"method", "model"}, {"model", "u2net"}});
  });
  EXPECT_NE(other.find("put u2net.onnx in one of those folders"), std::string::npos) << other;
  // The deprecated spelling reaches the same lookup.
  test::config_error([] { Chain().then("remove_background", {{"mode", "model"}, {"model", "isnet"}}); });
}

TEST(RemoveBackgroundModelName, MethodAndItsDeprecatedAliasMode) {
  // method and mode that agree are accepted; classical needs no model.
  EXPECT_NO_THROW(Chain().then("remove_background", {{"method", "classical"}}));
  EXPECT_NO_THROW(Chain().then("remove_background", {{"mode", "classical"}}));
  EXPECT_NO_THROW(Chain().then("remove_background", {{"method", "classical"}, {"mode", "classical"}}));
  const std::string both = test::config_error([] {
    Chain().then("remove_background", {{"method", "classical"}, {"mode", "model"}});
  });
  EXPECT_NE(both.find("method \"classical\" and mode \"model\" disagree"), std::string::npos) << both;
  // Either spelling of model asks for a model.
  for (const char* name : {"method", "mode"}) {
    const std::string message = test::config_error([&] {
      Chain().then("remove_background", {{name, "model"}});
    });
    EXPECT_NE(message.find("needs a model name"), std::string::npos) << name << ": " << message;
  }
  test::config_error([] { Chain().then("remove_background", {{"method", "grabcut"}}); });
}

TEST_F(RemoveBackgroundModelFolders, IsnetBringsItsPreprocessingAndTheSummarySaysWhereItRan) {
  if (!have_onnx()) GTEST_SKIP() << "the python3 onnx module (Debian python3-onnx) is not installed";
  test::TempDir made;
  ASSERT_TRUE(write_models(made));
  // A stand-in named isnet: its output is (r - mean) / std of the red channel, which is not
  // in 0..1 and so goes through the sigmoid.
  test::fs::copy_file(made / "red.onnx", model_dir() / "isnet.onnx");
  const cv::Mat input = red_and_black();
  std::vector<std::string> strategies;
  Context context;
  context.strategies = &strategies;
  const cv::Mat isnet = Chain()
                            .then("remove_background", {{"method", "model"}, {"model", "isnet"}})
                            .run(Image(input), context)
                            .pixels;
  const auto [left, right] = sides(isnet);
  EXPECT_NEAR(left, 255 * sigmoid((255 - 128.0) / 256), 2.0);
  EXPECT_NEAR(right, 255 * sigmoid((0 - 128.0) / 256), 2.0);
  ASSERT_EQ(strategies.size(), 1U);
  EXPECT_NE(strategies[0].find("model isnet 1024x1024, refined at 128x96"), std::string::npos)
      << strategies[0];

  // The step's own values win: mean 0 and std 1 make the output r itself, a probability.
  strategies.clear();
  const cv::Mat own = Chain()
                          .then("remove_background", {{"method", "model"},
                                                      {"model", "isnet"},
                                                      {"model_size", 64},
                                                      {"mean", "0,0,0"},
                                                      {"std", "1,1,1"}})
                          .run(Image(input), context)
                          .pixels;
  const auto [own_left, own_right] = sides(own);
  EXPECT_GT(own_left, 250);
  EXPECT_LT(own_right, 5);
  ASSERT_EQ(strategies.size(), 1U);
  EXPECT_NE(strategies[0].find("model isnet 64x64, refined at 128x96"), std::string::npos) << strategies[0];

  // A model given by path keeps the generic defaults (ImageNet's mean and std).
  const cv::Mat by_path =
      Chain()
          .then("remove_background",
                {{"method", "model"}, {"model", (model_dir() / "isnet.onnx").string()}, {"model_size", 32}})
          .run(Image(input), Context{})
          .pixels;
  const auto [path_left, path_right] = sides(by_path);
  EXPECT_NEAR(path_left, 255 * sigmoid((1 - 0.485) / 0.229), 2.0);
  EXPECT_NEAR(path_right, 255 * sigmoid((0 - 0.485) / 0.229), 2.0);
}

TEST_F(RemoveBackgroundModelFolders, OneMaskForEveryPaletteVariant) {
  if (!have_onnx()) GTEST_SKIP() << "the python3 onnx module (Debian python3-onnx) is not installed";
  test::TempDir made;
  ASSERT_TRUE(write_models(made));
  test::fs::copy_file(made / "red.onnx", model_dir() / "net.onnx");
  Chain chain;
  chain.then("remove_background", {{"method", "model"}, {"model", "net"}, {"model_size", 32}})
      .then(
          "palette",
          {{"colors", R"({"a": ["#000", "#fff"], "b": ["#f00", "#00f"], "c": ["#0f0", "#ff0"]})"}, {"k", 2}});
  std::vector<std::string> strategies;
  Context context;
  context.strategies = &strategies;
  const auto variants = chain.run_variants(Image(red_and_black()), context);
  ASSERT_EQ(variants.size(), 3U);
  // Each analysis run adds one line: one remove_background line for three variants means one
  // mask (and one network forward) for all of them; the palette clusters once as well.
  int masks = 0, palettes = 0;
  for (const auto& line : strategies) {
    masks += line.find("remove_background") != std::string::npos ? 1 : 0;
    palettes += line.find("palette") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(masks, 1) << testing::PrintToString(strategies);
  EXPECT_EQ(palettes, 1) << testing::PrintToString(strategies);
  // And every variant carries that mask as its alpha.
  cv::Mat first_alpha;
  cv::extractChannel(variants[0].image.pixels, first_alpha, 3);
  for (const auto& variant : variants) {
    cv::Mat alpha;
    cv::extractChannel(variant.image.pixels, alpha, 3);
    EXPECT_TRUE(test::identical(alpha, first_alpha)) << variant.name;
  }
}

// The real ISNet, looked up as the library looks it up. Truth: the exact alpha of
// opencv-logo-rgba.png (a real cut-out) composited onto three real photos; ISNet must find it
// with an IoU of at least 0.6 (measured 0.81 on building, 0.68 on baboon, 0.98 on autumn, the
// logo in the middle; the classical mode reaches 0.43-0.58 on these, and ISNet 0.17 on fruits,
// whose fruit it takes for the subject). About 10 s a photo on 2 cores.
TEST(RemoveBackgroundIsnet, RealCutOutsOnRealPhotos) {
  const auto path = k::find_segmentation_model("isnet");
  if (!path) GTEST_SKIP() << "isnet not installed: run tools/fetch-model isnet";
  // imgpipe's loader gives RGB(A) order.
  const cv::Mat logo_rgba = load(test::photo("opencv-logo-rgba.png")).pixels;
  ASSERT_EQ(logo_rgba.channels(), 4);
  for (const char* background_name : {"building.jpg", "baboon.jpg", "autumn-2560x1600.jpg"}) {
    cv::Mat rgb = load(test::photo(background_name)).pixels.clone();
    ASSERT_EQ(rgb.channels(), 3) << background_name;
    // The logo at 60 % of the short side, in the middle: the truth is its alpha, placed.
    const int side = rgb.rows * 6 / 10;
    cv::Mat logo;
    cv::resize(logo_rgba, logo, cv::Size(side * logo_rgba.cols / logo_rgba.rows, side), 0, 0, cv::INTER_AREA);
    const cv::Rect at((rgb.cols - logo.cols) / 2, (rgb.rows - logo.rows) / 2, logo.cols, logo.rows);
    cv::Mat truth = cv::Mat::zeros(rgb.size(), CV_8U), alpha, colour, alpha_f;
    cv::extractChannel(logo, alpha, 3);
    alpha.copyTo(truth(at));
    cv::cvtColor(logo, colour, cv::COLOR_RGBA2RGB);
    alpha.convertTo(alpha_f, CV_32F, 1.0 / 255);
    cv::Mat region = rgb(at), weight, a, b;
    cv::merge(std::vector<cv::Mat>{alpha_f, alpha_f, alpha_f}, weight);
    colour.convertTo(a, CV_32F);
    region.convertTo(b, CV_32F);
    const cv::Mat mixed = a.mul(weight) + b.mul(cv::Scalar::all(1.0) - weight);
    mixed.convertTo(region, CV_8U);

    std::vector<std::string> strategies;
    Context context;
    context.strategies = &strategies;
    const cv::Mat out = Chain()
                            .then("remove_background", {{"method", "model"}, {"model", "isnet"}})
                            .run(Image(rgb), context)
                            .pixels;
    cv::Mat mask;
    cv::extractChannel(out, mask, 3);
    const cv::Mat found = mask >= 128, truly = truth >= 128;
    const double iou = static_cast<double>(cv::countNonZero(found & truly)) / cv::countNonZero(found | truly);
    EXPECT_GE(iou, 0.6) << background_name;
    ASSERT_EQ(strategies.size(), 1U);
    EXPECT_NE(strategies[0].find(fmt::format("model isnet 1024x1024, refined at {}x{}", rgb.cols, rgb.rows)),
              std::string::npos)
        << strategies[0];
  }
}
