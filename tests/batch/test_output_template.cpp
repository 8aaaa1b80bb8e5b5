// Output templates: every field, variants, normalisation, and the templates that are refused.
#include <gtest/gtest.h>

#include <imgpipe/batch.hpp>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;
using imgpipe::test::config_error;

namespace {

InputFile input(const std::string& relpath) {
  return InputFile{fs::path("photos") / relpath, fs::path(relpath), 100};
}

const InputFile kNested = input("2024/beach/img_001.jpg");
const InputFile kTop = input("top.png");

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST(OutputTemplate, EveryField) {
  EXPECT_EQ(expand_output_template("{relpath}.{ext}", kNested, 7, "webp"), "2024/beach/img_001.webp");
  EXPECT_EQ(expand_output_template("{stem}.{ext}", kNested, 7, "webp"), "img_001.webp");
  EXPECT_EQ(expand_output_template("{dir}/small/{stem}.{ext}", kNested, 7, "webp"),
            "2024/beach/small/img_001.webp");
  EXPECT_EQ(expand_output_template("{index}-{stem}.{ext}", kNested, 42, "png"), "42-img_001.png");
  EXPECT_EQ(expand_output_template("{variant}/{relpath}.{ext}", kNested, 0, "png", "sunset"),
            "sunset/2024/beach/img_001.png");
  EXPECT_EQ(expand_output_template(kDefaultOutputTemplate, kTop, 0, "jpg"), "top.jpg");
}

TEST(OutputTemplate, DirAtTheTopIsEmpty) {
  EXPECT_EQ(expand_output_template("{dir}/{stem}.{ext}", kTop, 0, "webp"), "top.webp");
  EXPECT_EQ(expand_output_template("{dir}/thumbs/{stem}.{ext}", kTop, 0, "webp"), "thumbs/top.webp");
  EXPECT_EQ(expand_output_template("x/{dir}/{stem}.{ext}", kTop, 0, "webp"), "x/top.webp");
  EXPECT_EQ(expand_output_template("[{dir}]{stem}.{ext}", kTop, 0, "webp"), "[]top.webp");
}

TEST(OutputTemplate, OnlyTheLastExtensionIsReplaced) {
  EXPECT_EQ(expand_output_template("{relpath}.{ext}", input("a/scan.v2.tiff"), 0, "png"), "a/scan.v2.png");
  EXPECT_EQ(expand_output_template("{relpath}.{ext}", input("README"), 0, "png"), "README.png");
}

TEST(OutputTemplate, ResultIsLexicallyNormal) {
  EXPECT_EQ(expand_output_template("./out//{dir}/./{stem}.{ext}", kNested, 0, "png"),
            "out/2024/beach/img_001.png");
  EXPECT_EQ(expand_output_template("{dir}/../{stem}.{ext}", kNested, 0, "png"), "2024/img_001.png");
}

TEST(OutputTemplate, UnplacedVariantGoesBeforeTheExtension) {
  EXPECT_EQ(expand_output_template("{relpath}.{ext}", kNested, 0, "png", "sunset"),
            "2024/beach/img_001-sunset.png");
  EXPECT_EQ(expand_output_template("{relpath}.{ext}", kNested, 0, "png", ""), "2024/beach/img_001.png");
  EXPECT_EQ(expand_output_template("{stem}-{variant}.{ext}", kNested, 0, "png", "sea"), "img_001-sea.png");
}

TEST(OutputTemplate, TemplatesLeavingTheOutputFolderAreRefused) {
  for (const char* bad :
       {"../{stem}.{ext}", "/abs/{stem}.{ext}", "{dir}/../../../{stem}.{ext}", "a/../../{stem}"}) {
    SCOPED_TRACE(bad);
    check_output_template(bad);  // the template itself is well formed
    std::string message = config_error([&] { expand_output_template(bad, kNested, 0, "png"); });
    EXPECT_TRUE(contains(message, "outside the output folder")) << message;
    EXPECT_TRUE(contains(message, bad)) << message;
    EXPECT_TRUE(contains(message, kNested.path.string())) << message;
  }
}

TEST(OutputTemplate, TemplatesGivingNoFileNameAreRefused) {
  for (const char* bad : {"", "{variant}", "{dir}", "{stem}/..", "{stem}/"}) {
    SCOPED_TRACE(bad);
    std::string message = config_error([&] { expand_output_template(bad, kTop, 0, "png"); });
    EXPECT_TRUE(contains(message, kTop.path.string())) << message;
  }
}

TEST(OutputTemplate, UnknownFieldIsRefusedNamingIt) {
  std::string message = config_error([] { check_output_template("{relpath}.{extension}"); });
  EXPECT_TRUE(contains(message, "{relpath}.{extension}")) << message;
  EXPECT_TRUE(contains(message, "{extension}")) << message;
  message = config_error([] { expand_output_template("{name}.{ext}", kTop, 0, "png"); });
  EXPECT_TRUE(contains(message, "{name}")) << message;
  config_error([] { check_output_template("{}.png"); });
  config_error([] { check_output_template("{STEM}.png"); });
}

TEST(OutputTemplate, UnclosedBraceIsRefused) {
  std::string message = config_error([] { check_output_template("{relpath}.{ext"); });
  EXPECT_TRUE(contains(message, "{relpath}.{ext")) << message;
  EXPECT_TRUE(contains(message, "unclosed")) << message;
}

TEST(OutputTemplate, WellFormedTemplatesPass) {
  for (const char* good :
       {"{relpath}.{ext}", "{dir}/{stem}-{variant}.{ext}", "{index}.{ext}", "plain.png", "a}b"})
    EXPECT_NO_THROW(check_output_template(good)) << good;
}
