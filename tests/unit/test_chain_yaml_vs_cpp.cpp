// One chain, written as YAML and built fluently in C++, is the same chain: the same
// canonical text and bit-identical output.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

constexpr const char* kYaml = R"(
chain:
  - resize: {width: 320, height: 240, fit: inside}
  - adjust_colors: {brightness: 1.1, contrast: 1.2, saturation: 1.3}
  - sharpen: {amount: 0.5, radius: 1.2}
  - watermark: {text: "© imgpipe", position: bottom-right, opacity: 0.6}
  - border: {size: 8, colour: "#204080"}
  - rotate: {angle: 90}
)";

Chain fluent() {
  return Chain()
      .then("resize", {{"width", 320}, {"height", 240}, {"fit", "inside"}})
      .then("adjust_colors", {{"brightness", 1.1}, {"contrast", 1.2}, {"saturation", 1.3}})
      .then("sharpen", {{"amount", 0.5}, {"radius", 1.2}})
      .then("watermark", {{"text", "© imgpipe"}, {"position", "bottom-right"}, {"opacity", 0.6}})
      .then("border", {{"size", 8}, {"colour", "#204080"}})
      .then("rotate", {{"angle", 90}});
}

}  // namespace

TEST(ChainYamlVsCpp, SameCanonicalText) {
  const ChainFile file = parse_chain(kYaml);
  const Chain cpp = fluent();
  ASSERT_EQ(file.chain.steps().size(), 6u);
  EXPECT_EQ(file.chain.canonical(), cpp.canonical());
  // Every parameter is in the canonical text, defaults included: a default given explicitly
  // changes nothing, another value does.
  const ChainFile explicit_default = parse_chain(std::string(kYaml) + "  - flip: {direction: horizontal}\n");
  const ChainFile other_value = parse_chain(std::string(kYaml) + "  - flip: {direction: vertical}\n");
  EXPECT_EQ(explicit_default.chain.canonical(), Chain(cpp).then("flip").canonical());
  EXPECT_NE(other_value.chain.canonical(), Chain(cpp).then("flip").canonical());
}

TEST(ChainYamlVsCpp, BitIdenticalOutputOnPhotos) {
  const ChainFile file = parse_chain(kYaml);
  const Chain cpp = fluent();
  // An opaque photo (600 x 400) and one with alpha (500 x 500).
  for (const char* name : {"coffee.png", "logo.png"}) {
    const Image photo = load(test::photo(name));
    const Image from_yaml = file.chain.run(photo, file.context);
    const Image from_cpp = cpp.run(photo, Context{});
    EXPECT_TRUE(test::identical(from_yaml.pixels, from_cpp.pixels)) << name;
    // Inside 320 x 240, plus 8 on each side, then turned a quarter: height and width swap.
    const double scale = std::min(320.0 / photo.width(), 240.0 / photo.height());
    EXPECT_EQ(from_cpp.width(), static_cast<int>(std::lround(photo.height() * scale)) + 16) << name;
    EXPECT_EQ(from_cpp.height(), static_cast<int>(std::lround(photo.width() * scale)) + 16) << name;
    EXPECT_EQ(from_cpp.channels(), photo.channels()) << name;
  }
}
