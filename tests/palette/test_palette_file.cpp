// Palette files (JSON, YAML, GIMP .gpl, hex lines), inline palette lists and mask images.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

namespace fs = std::filesystem;

constexpr Colour rgb(int r, int g, int b) {
  return {static_cast<std::uint8_t>(r), static_cast<std::uint8_t>(g), static_cast<std::uint8_t>(b), 255};
}

fs::path write(const test::TempDir& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  test::write_text(path, text);
  return path;
}

// "#rrggbb" lines for n distinct colours.
std::string hex_lines(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += fmt::format("#{:02x}{:02x}00\n", i % 256, i / 256);
  return out;
}

// A mask-like pattern with zeros, full values and everything between.
cv::Mat pattern(int width, int height, int salt) {
  cv::Mat out(height, width, CV_8UC1);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      out.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>((x * 13 + y * 7 + salt) % 256);
  return out;
}

std::string pretty(const std::vector<Colour>& colours) {
  std::string out;
  for (const auto& c : colours) out += fmt::format("({},{},{},{}) ", c.r, c.g, c.b, c.a);
  return out;
}

}  // namespace

TEST(PaletteFile, JsonWithSeveralPalettesKeepsFileOrderNamesAndColours) {
  test::TempDir dir;
  // "zeta" first: palettes come in the order written, not sorted by name.
  const auto path = write(dir, "set.json", R"({
  "zeta": ["#2b1b3f", "#7A2E5A", "#fff"],
  "alpha": ["#000000", "#808080"],
  "Warm Tones": ["#ff8000"]
}
)");
  const auto palettes = load_palettes(path);
  ASSERT_EQ(palettes.size(), 3u);
  EXPECT_EQ(palettes[0].name, "zeta");
  // 0x2b = 43, 0x1b = 27, 0x3f = 63; 0x7A = 122, 0x2E = 46, 0x5A = 90; #fff is #ffffff.
  EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(43, 27, 63), rgb(122, 46, 90), rgb(255, 255, 255)}))
      << pretty(palettes[0].colours);
  EXPECT_EQ(palettes[1].name, "alpha");
  EXPECT_EQ(palettes[1].colours, (std::vector<Colour>{rgb(0, 0, 0), rgb(128, 128, 128)}));
  EXPECT_EQ(palettes[2].name, "Warm Tones");
  EXPECT_EQ(palettes[2].colours, (std::vector<Colour>{rgb(255, 128, 0)}));
}

TEST(PaletteFile, JsonBareListIsOnePaletteNamedAfterTheFile) {
  test::TempDir dir;
  const auto palettes = load_palettes(write(dir, "warm.json", R"(["#ff0000", "#00FF00", "#0000ff"])"));
  ASSERT_EQ(palettes.size(), 1u);
  EXPECT_EQ(palettes[0].name, "warm");
  EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(255, 0, 0), rgb(0, 255, 0), rgb(0, 0, 255)}));
}

TEST(PaletteFile, BaselinePalettesFile) {
  const auto path = test::photo("fruits.jpg").parent_path().parent_path() / "baselines" / "palettes.json";
  const auto palettes = load_palettes(path);
  std::vector<std::string> names;
  for (const auto& p : palettes) {
    names.push_back(p.name);
    EXPECT_EQ(p.colours.size(), 5u) << p.name;
  }
  EXPECT_EQ(names,
            (std::vector<std::string>{"sunset", "ocean", "forest", "pop", "sepia", "neon", "grayscale"}));
  ASSERT_EQ(palettes.size(), 7u);
  // sunset: #2b1b3f, #7a2e5a, #d9534f, #f0a04b, #fbe3a1.
  EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(43, 27, 63), rgb(122, 46, 90), rgb(217, 83, 79),
                                                      rgb(240, 160, 75), rgb(251, 227, 161)}));
  // grayscale: #111111 ... #eeeeee.
  EXPECT_EQ(palettes[6].colours, (std::vector<Colour>{rgb(17, 17, 17), rgb(68, 68, 68), rgb(119, 119, 119),
                                                      rgb(170, 170, 170), rgb(238, 238, 238)}));
}

TEST(PaletteFile, YamlBlockAndFlowStyles) {
  test::TempDir dir;
  const std::string text = R"(# night and day
night:
  - "#0d0221"
  - '#541388'
day: ["#fdfd96", "#2de2e6"]
)";
  for (const char* name : {"p.yaml", "p.yml", "P.YAML"}) {
    const auto palettes = load_palettes(write(dir, name, text));
    ASSERT_EQ(palettes.size(), 2u) << name;
    EXPECT_EQ(palettes[0].name, "night");
    EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(13, 2, 33), rgb(84, 19, 136)}));
    EXPECT_EQ(palettes[1].name, "day");
    EXPECT_EQ(palettes[1].colours, (std::vector<Colour>{rgb(253, 253, 150), rgb(45, 226, 230)}));
  }
  // A YAML bare list is one palette named after the file.
  const auto bare = load_palettes(write(dir, "list.yaml", "- \"#010203\"\n- \"#a0b0c0\"\n"));
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].name, "list");
  EXPECT_EQ(bare[0].colours, (std::vector<Colour>{rgb(1, 2, 3), rgb(160, 176, 192)}));
}

TEST(PaletteFile, GimpPalette) {
  test::TempDir dir;
  const auto path = write(dir, "harbour.gpl",
                          "GIMP Palette\n"
                          "Name: Harbour Lights\n"
                          "Columns: 3\n"
                          "#\n"
                          "# a comment line\n"
                          "\n"
                          "  4  38  61\tDeep\n"
                          " 11  94 124\tTeal blue\n"
                          "255 255 255\n");
  const auto palettes = load_palettes(path);
  ASSERT_EQ(palettes.size(), 1u);
  EXPECT_EQ(palettes[0].name, "Harbour Lights");
  EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(4, 38, 61), rgb(11, 94, 124), rgb(255, 255, 255)}));

  // Without "Name:" the file names the palette; CRLF line ends (files saved on Windows) read the same.
  const auto crlf =
      load_palettes(write(dir, "Plain.GPL", "GIMP Palette\r\nColumns: 0\r\n0 0 0 black\r\n1 2 3\r\n"));
  ASSERT_EQ(crlf.size(), 1u);
  EXPECT_EQ(crlf[0].name, "Plain");
  EXPECT_EQ(crlf[0].colours, (std::vector<Colour>{rgb(0, 0, 0), rgb(1, 2, 3)}));
}

TEST(PaletteFile, PlainHexLines) {
  test::TempDir dir;
  const auto palettes = load_palettes(write(dir, "mine.txt",
                                            "#112233\n"
                                            "\n"
                                            "// a comment\n"
                                            "#abc\n"
                                            "   #FFFFFF   \n"
                                            "#00000080\n"));
  ASSERT_EQ(palettes.size(), 1u);
  EXPECT_EQ(palettes[0].name, "mine");
  // #abc is #aabbcc; the 8-digit form carries alpha 0x80 = 128.
  EXPECT_EQ(palettes[0].colours, (std::vector<Colour>{rgb(17, 34, 51), rgb(170, 187, 204), rgb(255, 255, 255),
                                                      Colour{0, 0, 0, 128}}))
      << pretty(palettes[0].colours);
}

// Messages name the file and the line, never what the line holds: a chain that names a file it
// should not read (/etc/shadow) learns nothing of it.
TEST(PaletteFile, BadHexInJsonNamesFileAndLineWithoutQuotingIt) {
  test::TempDir dir;
  const auto path = write(dir, "bad.json", R"({
  "good": ["#000", "#fff"],
  "bad": [
    "#123456",
    "#12345g"
  ]
}
)");
  const auto message = test::config_error([&] { load_palettes(path); });
  EXPECT_THAT(message, HasSubstr(path.string() + ":5:"));
  EXPECT_THAT(message, HasSubstr("not a colour"));
  EXPECT_THAT(message, Not(HasSubstr("#12345g")));
}

TEST(PaletteFile, NonStringColourAndNonListPalette) {
  test::TempDir dir;
  const auto nested = write(dir, "nested.json", "{\n  \"a\": [\"#000\",\n        [\"#fff\"]]\n}\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(nested); }), HasSubstr(nested.string() + ":3:"));
  const auto scalar = write(dir, "scalar.json", "{\n  \"a\": \"#fff\"\n}\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(scalar); }), HasSubstr(scalar.string() + ":2:"));
}

TEST(PaletteFile, BadGimpLineNamesFileAndLineWithoutQuotingIt) {
  test::TempDir dir;
  const auto range = write(dir, "range.gpl", "GIMP Palette\nName: x\n# c\n0 0 0 black\n12 300 4 bad\n");
  auto message = test::config_error([&] { load_palettes(range); });
  EXPECT_THAT(message, HasSubstr(range.string() + ":5:"));
  EXPECT_THAT(message, Not(HasSubstr("12 300 4 bad")));

  const auto short_line = write(dir, "short.gpl", "GIMP Palette\n10 20\n");
  message = test::config_error([&] { load_palettes(short_line); });
  EXPECT_THAT(message, HasSubstr(short_line.string() + ":2:"));
  EXPECT_THAT(message, HasSubstr("R G B"));
  EXPECT_THAT(message, Not(HasSubstr("10 20")));

  const auto negative = write(dir, "negative.gpl", "GIMP Palette\n1 2 3\n\n-1 2 3\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(negative); }), HasSubstr(negative.string() + ":4:"));
}

TEST(PaletteFile, GimpPaletteNeedsItsHeaderAndColours) {
  test::TempDir dir;
  const auto headless = write(dir, "headless.gpl", "Name: x\n0 0 0\n");
  const auto message = test::config_error([&] { load_palettes(headless); });
  EXPECT_THAT(message, HasSubstr(headless.string() + ":1:"));
  EXPECT_THAT(message, HasSubstr("GIMP Palette"));
  const auto empty = write(dir, "empty.gpl", "GIMP Palette\nName: nothing\n# no colours\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(empty); }), HasSubstr(empty.string()));
  const auto blank = write(dir, "blank.gpl", "");
  EXPECT_THAT(test::config_error([&] { load_palettes(blank); }), HasSubstr(blank.string()));
}

TEST(PaletteFile, EmptyListsAreRefused) {
  test::TempDir dir;
  const auto json = write(dir, "empty.json", "{\n  \"none\": []\n}\n");
  auto message = test::config_error([&] { load_palettes(json); });
  EXPECT_THAT(message, HasSubstr(json.string() + ":2:"));
  const auto bare = write(dir, "bare.json", "[]");
  EXPECT_THAT(test::config_error([&] { load_palettes(bare); }), HasSubstr(bare.string()));
  const auto nothing = write(dir, "nothing.json", "\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(nothing); }), HasSubstr(nothing.string()));
  const auto text = write(dir, "comments.txt", "// only\n\n// comments\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(text); }), HasSubstr(text.string()));
}

TEST(PaletteFile, AtMost256ColoursInEveryFormat) {
  test::TempDir dir;
  auto json_list = [](int n) {
    std::string items;
    for (int i = 0; i < n; ++i)
      items += fmt::format("{}\"#{:02x}{:02x}00\"", i ? ", " : "", i % 256, i / 256);
    return "{\n  \"many\": [" + items + "]\n}\n";
  };
  EXPECT_EQ(load_palettes(write(dir, "full.json", json_list(256)))[0].colours.size(), 256u);
  const auto json = write(dir, "over.json", json_list(257));
  auto message = test::config_error([&] { load_palettes(json); });
  EXPECT_THAT(message, HasSubstr(json.string() + ":2:"));
  EXPECT_THAT(message, HasSubstr("257"));

  // The line-based formats stop at the line of the 257th colour.
  EXPECT_EQ(load_palettes(write(dir, "full.txt", hex_lines(256)))[0].colours.size(), 256u);
  const auto text = write(dir, "over.txt", hex_lines(257));
  EXPECT_THAT(test::config_error([&] { load_palettes(text); }), HasSubstr(text.string() + ":257:"));

  std::string gpl = "GIMP Palette\n";
  for (int i = 0; i < 257; ++i) gpl += fmt::format("{} {} 0\n", i % 256, i / 256);
  const auto gimp = write(dir, "over.gpl", gpl);
  EXPECT_THAT(test::config_error([&] { load_palettes(gimp); }), HasSubstr(gimp.string() + ":258:"));
}

TEST(PaletteFile, UnreadableAndInvalidFiles) {
  test::TempDir dir;
  const auto missing = dir / "missing.json";
  EXPECT_THAT(test::config_error([&] { load_palettes(missing); }), HasSubstr(missing.string()));
  // A stray ']' on line 3.
  const auto invalid =
      write(dir, "invalid.json", "{\n  \"a\": [\"#000\", \"#fff\"],\n  \"b\": [\"#000\"]],\n}\n");
  const auto message = test::config_error([&] { load_palettes(invalid); });
  EXPECT_THAT(message, HasSubstr(invalid.string() + ":3:"));
  EXPECT_THAT(message, HasSubstr("not valid JSON"));
}

TEST(PaletteFile, NamesThatWouldEscapeTheOutputFolderAreRefused) {
  test::TempDir dir;
  for (const char* name : {"../up", "a/b", "a\\\\b", "..", "."}) {
    const auto path =
        write(dir, "names.json", fmt::format("{{\n  \"ok\": [\"#000\"],\n  \"{}\": [\"#fff\"]\n}}\n", name));
    const auto message = test::config_error([&] { load_palettes(path); });
    EXPECT_THAT(message, HasSubstr(path.string() + ":3:")) << name;
  }
  const auto empty = write(dir, "empty-name.json", "{\"\": [\"#fff\"]}");
  EXPECT_THAT(test::config_error([&] { load_palettes(empty); }), HasSubstr(empty.string() + ":1:"));
  const auto gpl = write(dir, "escape.gpl", "GIMP Palette\nName: ../../x\n0 0 0\n");
  EXPECT_THAT(test::config_error([&] { load_palettes(gpl); }), HasSubstr(gpl.string() + ":2:"));
}

TEST(PaletteList, CommasAndSpaces) {
  const Palette two = parse_palette_list("#000,#fff");
  EXPECT_EQ(two.name, "palette");
  EXPECT_EQ(two.colours, (std::vector<Colour>{rgb(0, 0, 0), rgb(255, 255, 255)}));

  const Palette mixed = parse_palette_list("  #102030 ,  #405060   #708090,,#a0b0c0 ", "mixed");
  EXPECT_EQ(mixed.name, "mixed");
  EXPECT_EQ(mixed.colours,
            (std::vector<Colour>{rgb(16, 32, 48), rgb(64, 80, 96), rgb(112, 128, 144), rgb(160, 176, 192)}));
}

TEST(PaletteList, BadTokenAndNothingAreConfigErrors) {
  const auto message = test::config_error([] { parse_palette_list("#000,#12345,#fff", "inline"); });
  EXPECT_THAT(message, HasSubstr("#12345"));
  EXPECT_THAT(message, HasSubstr("inline"));
  test::config_error([] { parse_palette_list(""); });
  test::config_error([] { parse_palette_list(" , ,"); });
}

TEST(LoadMask, GreyPngIsTheMask) {
  test::TempDir dir;
  const cv::Mat grey = pattern(40, 23, 0);
  const cv::Mat mask = load_mask(test::write_png(dir, "grey.png", grey));
  EXPECT_EQ(mask.type(), CV_8UC1);
  EXPECT_TRUE(test::identical(mask, grey));
}

TEST(LoadMask, GreyAlphaPngGivesItsAlpha) {
  test::TempDir dir;
  const cv::Mat grey = pattern(40, 23, 100), alpha = pattern(40, 23, 5);
  cv::Mat grey_alpha;
  cv::merge(std::vector<cv::Mat>{grey, alpha}, grey_alpha);
  const cv::Mat mask = load_mask(test::write_png(dir, "grey-alpha.png", grey_alpha));
  EXPECT_EQ(mask.type(), CV_8UC1);
  EXPECT_TRUE(test::identical(mask, alpha));
}

TEST(LoadMask, SixteenBitIsReducedToEight) {
  test::TempDir dir;
  // v * 257 is the 16-bit value of the 8-bit v, so the mask must give v back exactly.
  const cv::Mat grey8 = pattern(31, 17, 3), alpha8 = pattern(31, 17, 77);
  cv::Mat grey16, alpha16, grey_alpha16;
  grey8.convertTo(grey16, CV_16U, 257);
  alpha8.convertTo(alpha16, CV_16U, 257);
  cv::merge(std::vector<cv::Mat>{grey16, alpha16}, grey_alpha16);
  EXPECT_TRUE(test::identical(load_mask(test::write_png(dir, "grey16.png", grey16)), grey8));
  EXPECT_TRUE(test::identical(load_mask(test::write_png(dir, "grey-alpha16.png", grey_alpha16)), alpha8));
}

TEST(LoadMask, ColourImageGivesItsFirstChannel) {
  test::TempDir dir;
  const cv::Mat r = pattern(20, 12, 0), g = pattern(20, 12, 50), b = pattern(20, 12, 99);
  cv::Mat rgb_pixels;
  cv::merge(std::vector<cv::Mat>{r, g, b}, rgb_pixels);
  EXPECT_TRUE(test::identical(load_mask(test::write_png(dir, "rgb.png", rgb_pixels)), r));
}

TEST(LoadMask, MissingFileIsAnError) {
  test::TempDir dir;
  EXPECT_THROW(load_mask(dir / "missing.png"), Error);
}

TEST(PaletteList, HoldsAtMost256Colours) {
  std::string many;
  for (int i = 0; i < 257; ++i) many += "#000000,";
  const std::string message = test::config_error([&] { parse_palette_list(many, "big"); });
  EXPECT_NE(message.find("257 colours"), std::string::npos) << message;
  many.resize(many.size() - 8);  // 256 colours: fine
  EXPECT_EQ(parse_palette_list(many, "full").colours.size(), 256u);
}
