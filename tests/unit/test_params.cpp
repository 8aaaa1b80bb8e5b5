// Parameter specs, colours, suggestions and validation against the registry's descriptors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_support.hpp"

using namespace imgpipe;

TEST(Colour, ParsesHexFunctionalAndNames) {
  EXPECT_EQ(parse_colour("#ff8000"), (Colour{255, 128, 0, 255}));
  EXPECT_EQ(parse_colour("#F80"), (Colour{255, 136, 0, 255}));
  EXPECT_EQ(parse_colour("#11223344"), (Colour{0x11, 0x22, 0x33, 0x44}));
  EXPECT_EQ(parse_colour("rgb(1, 2, 3)"), (Colour{1, 2, 3, 255}));
  EXPECT_EQ(parse_colour("rgba(1,2,3,0.5)"), (Colour{1, 2, 3, 128}));
  EXPECT_EQ(parse_colour("white"), (Colour{255, 255, 255, 255}));
  EXPECT_EQ(parse_colour("transparent"), (Colour{0, 0, 0, 0}));
  EXPECT_FALSE(parse_colour("#12345"));
  EXPECT_FALSE(parse_colour("rgb(300,0,0)"));
  EXPECT_FALSE(parse_colour("blurple"));
  EXPECT_EQ(to_hex(Colour{1, 2, 255, 16}), "#0102ff10");
}

TEST(ParamSpec, IntegerRangeMessageSaysExpectedAndGot) {
  ParamSpec width{"width", ParamType::integer, {}, 1, 65535, {}, ""};
  auto refused = width.check(Value(0));
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_EQ(std::get<std::string>(refused), "expected integer 1..65535, got 0");
  EXPECT_TRUE(std::holds_alternative<std::string>(width.check(Value(1.5))));
  EXPECT_TRUE(std::holds_alternative<std::string>(width.check(Value("12"))));
  auto accepted = width.check(Value(12));
  ASSERT_TRUE(std::holds_alternative<Value>(accepted));
  EXPECT_EQ(std::get<Value>(accepted).as_int(), 12);
}

TEST(ParamSpec, NumberAcceptsIntegersAndRejectsNonFinite) {
  ParamSpec sigma{"sigma", ParamType::number, {}, 0.1, 10, {}, ""};
  auto accepted = sigma.check(Value(2));
  ASSERT_TRUE(std::holds_alternative<Value>(accepted));
  EXPECT_DOUBLE_EQ(std::get<Value>(accepted).as_number(), 2.0);
  EXPECT_TRUE(std::holds_alternative<std::string>(sigma.check(Value(std::nan("")))));
  EXPECT_TRUE(std::holds_alternative<std::string>(sigma.check(Value(10.5))));
}

TEST(ParamSpec, ChoiceSuggestsClosest) {
  ParamSpec fit{"fit", ParamType::choice, Value("inside"), 0, 0, {"inside", "cover", "fill", "exact"}, ""};
  auto refused = fit.check(Value("cove"));
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_NE(std::get<std::string>(refused).find("did you mean \"cover\""), std::string::npos);
  EXPECT_NE(std::get<std::string>(refused).find("one of inside, cover, fill, exact"), std::string::npos);
}

TEST(ParamSpec, ColourAcceptsText) {
  ParamSpec c{"colour", ParamType::colour, {}, 0, 0, {}, ""};
  auto accepted = c.check(Value("#000"));
  ASSERT_TRUE(std::holds_alternative<Value>(accepted));
  EXPECT_EQ(std::get<Value>(accepted).as_colour(), (Colour{0, 0, 0, 255}));
  EXPECT_TRUE(std::holds_alternative<std::string>(c.check(Value("nope"))));
}

TEST(ClosestName, FindsNearAndRefusesFar) {
  std::vector<std::string> names = {"resize", "rotate", "sharpen", "grayscale"};
  EXPECT_EQ(closest_name("resise", names), "resize");
  EXPECT_EQ(closest_name("greyscale", names), "grayscale");
  EXPECT_FALSE(closest_name("quantum", names));
}

TEST(Registry, HasEveryFoundationOperation) {
  for (const char* name : {"resize", "crop", "rotate", "flip", "auto_orient", "adjust_colors", "grayscale",
                           "gaussian_blur", "sharpen", "edges", "border", "watermark"})
    EXPECT_NE(Registry::global().find(name), nullptr) << name;
}

TEST(Registry, EveryParameterHasDocAndAValidDefault) {
  for (const auto& [name, d] : Registry::global().all()) {
    EXPECT_FALSE(d.summary.empty()) << name;
    for (const auto& p : d.params) {
      EXPECT_FALSE(p.doc.empty()) << name << "." << p.name;
      if (p.default_value.is_set()) {
        EXPECT_TRUE(std::holds_alternative<Value>(p.check(p.default_value))) << name << "." << p.name;
      }
    }
  }
}

TEST(Registry, UnknownOperationSuggests) {
  try {
    Registry::global().at("resise");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_NE(std::string(e.what()).find("did you mean 'resize'"), std::string::npos) << e.what();
  }
}

TEST(ValidateParams, UnknownParameterListsAllowed) {
  const auto& d = Registry::global().at("sharpen");
  try {
    validate_params(d, {{"amout", Value(1.0)}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("sharpen: unknown parameter 'amout'"), std::string::npos) << m;
    EXPECT_NE(m.find("did you mean 'amount'"), std::string::npos) << m;
    EXPECT_NE(m.find("allowed: amount, radius, threshold"), std::string::npos) << m;
  }
}

TEST(ValidateParams, FillsDefaultsAndRunsCrossChecks) {
  const auto& d = Registry::global().at("sharpen");
  Params p = validate_params(d, {});
  EXPECT_DOUBLE_EQ(p.number("amount"), 1.0);
  EXPECT_DOUBLE_EQ(p.number("threshold"), 0.0);
  const auto& resize = Registry::global().at("resize");
  EXPECT_THROW(validate_params(resize, {}), Error);  // needs a size
  EXPECT_THROW(validate_params(resize, {{"width", Value(10)}, {"scale", Value(0.5)}}), Error);
  EXPECT_THROW(validate_params(resize, {{"width", Value(10)}, {"fit", Value("cover")}}), Error);
}

TEST(Chain, ThenValidatesAtOnce) {
  EXPECT_THROW(Chain().then("resize", {{"width", 0}}), Error);
  EXPECT_THROW(Chain().then("nope"), Error);
  EXPECT_THROW(Chain().then("resize", {{"width", 10}, {"width", 20}}), Error);
  Chain chain;
  chain.then("resize", {{"width", 10}}).then("grayscale");
  ASSERT_EQ(chain.steps().size(), 2u);
  EXPECT_EQ(chain.steps()[1].label, "step 2: grayscale");
}

TEST(Chain, CanonicalFormIsIndependentOfHowParamsWereGiven) {
  auto a = Chain().then("resize", {{"width", 100}, {"kernel", "area"}});
  auto b = Chain().then("resize", {{"kernel", "area"}, {"width", 100}});
  EXPECT_EQ(a.canonical(), b.canonical());
  auto c = Chain().then("resize", {{"width", 101}, {"kernel", "area"}});
  EXPECT_NE(a.canonical(), c.canonical());
}

TEST(ParamSpec, TextMustBeWellFormedUtf8) {
  ParamSpec text{"text", ParamType::text, {}, 0, 0, {}, ""};
  // Well-formed: ASCII, two-, three- and four-byte sequences at the edges of their ranges.
  for (const char* good : {"plain", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\xc2\x80",
                           "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", ""})
    EXPECT_TRUE(std::holds_alternative<Value>(text.check(Value(good)))) << good;
  // Ill-formed (the Unicode standard's table 3-7): a lone continuation byte, 0xff, an overlong
  // '/', a surrogate, a truncated sequence, above U+10FFFF, and a Latin-1 byte.
  const std::pair<const char*, int> bad[] = {
      {"\x80", 1},     {"ok\xff", 3},           {"\xc0\xaf", 1}, {"a\xed\xa0\x80", 2},
      {"\xe6\x97", 1}, {"\xf4\x90\x80\x80", 1}, {"caf\xe9!", 4}, {"\xe0\x80\xaf", 1}};
  for (const auto& [given, byte] : bad) {
    const auto refused = text.check(Value(given));
    ASSERT_TRUE(std::holds_alternative<std::string>(refused)) << given;
    EXPECT_EQ(std::get<std::string>(refused).find(fmt::format("byte {} ", byte)) != std::string::npos, true)
        << std::get<std::string>(refused);
  }
}
