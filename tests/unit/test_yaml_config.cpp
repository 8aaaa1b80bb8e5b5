// YAML chain files: every field of a valid file, every kind of mistake reported at its
// file:line:column with what is allowed, byte sizes, and IMGPIPE_* variables.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <imgpipe/config.hpp>
#include <map>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;
using ::testing::StartsWith;
namespace fs = std::filesystem;

namespace {

// The message of the config error that parsing `yaml` must raise.
std::string config_error(const std::string& yaml) {
  try {
    parse_chain(yaml, "chain.yml");
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return "";
}

}  // namespace

TEST(ParseChain, FullFileSetsEveryField) {
  const ChainFile f = parse_chain(R"(performance:
  device: cpu
  threads: 3
  max_memory: 2GB
  max_pixels: 1000000
  max_file_size: 10MiB
  tile_size: 256
  parallel_images: 2
  quality: high
chain:
  - resize: {width: 300, height: 200, fit: cover}
  - adjust_colors: {brightness: 1.1, contrast: 1.25}
  - grayscale
output:
  format: webp
  quality: 70
  progressive: true
  metadata: keep
  compression: 3
  indexed: false
  lossless: true
  near_lossless: 60
  alpha_quality: 50
  method: 4
  target_size: 20KB
  tiff_compression: lzw
  background: [10, 20, 30]
  path: "{stem}.webp"
  fsync: yes
on_error: continue
)",
                                  "full.yml");
  EXPECT_EQ(f.source, "full.yml");
  EXPECT_EQ(f.context.device, Device::cpu);
  EXPECT_EQ(f.context.threads, 3);
  EXPECT_EQ(f.context.max_memory, 2'000'000'000u);
  EXPECT_EQ(f.context.limits.max_input_pixels, 1'000'000u);
  EXPECT_EQ(f.context.limits.max_file_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(f.context.tile_size, 256);
  EXPECT_EQ(f.context.parallel_images, 2);
  EXPECT_EQ(f.context.quality, QualityPreset::high);

  ASSERT_EQ(f.chain.steps().size(), 3u);
  const auto& resize = f.chain.steps()[0];
  EXPECT_EQ(resize.descriptor->name, "resize");
  EXPECT_EQ(resize.params.integer("width"), 300);
  EXPECT_EQ(resize.params.integer("height"), 200);
  EXPECT_EQ(resize.params.text("fit"), "cover");
  EXPECT_EQ(resize.label, "step 1: resize");
  const auto& adjust = f.chain.steps()[1];
  EXPECT_EQ(adjust.descriptor->name, "adjust_colors");
  EXPECT_DOUBLE_EQ(adjust.params.number("brightness"), 1.1);
  EXPECT_DOUBLE_EQ(adjust.params.number("contrast"), 1.25);
  EXPECT_EQ(f.chain.steps()[2].descriptor->name, "grayscale");

  EXPECT_TRUE(f.output_format_set);
  EXPECT_EQ(f.output.format, Format::webp);
  EXPECT_EQ(f.output.quality, 70);
  EXPECT_TRUE(f.output.progressive);
  EXPECT_TRUE(f.output.keep_metadata);
  EXPECT_EQ(f.output.compression, 3);
  EXPECT_FALSE(f.output.allow_indexed);
  EXPECT_TRUE(f.output.lossless);
  EXPECT_EQ(f.output.near_lossless, 60);
  EXPECT_EQ(f.output.alpha_quality, 50);
  EXPECT_EQ(f.output.method, 4);
  EXPECT_EQ(f.output.target_size, 20'000u);
  EXPECT_EQ(f.output.tiff_compression, "lzw");
  EXPECT_EQ(f.output.background[0], 10);
  EXPECT_EQ(f.output.background[1], 20);
  EXPECT_EQ(f.output.background[2], 30);
  EXPECT_EQ(f.output_path, "{stem}.webp");
  EXPECT_TRUE(f.output.fsync);
  EXPECT_EQ(f.on_error, OnError::continue_);
}

TEST(ParseChain, MinimalFileKeepsDefaults) {
  const ChainFile f = parse_chain("chain:\n  - grayscale\n");
  const Context defaults;
  const SaveOptions output_defaults;
  EXPECT_EQ(f.context.threads, defaults.threads);
  EXPECT_EQ(f.context.quality, defaults.quality);
  EXPECT_EQ(f.context.limits.max_input_pixels, defaults.limits.max_input_pixels);
  EXPECT_FALSE(f.output_format_set);
  EXPECT_EQ(f.output.quality, output_defaults.quality);
  EXPECT_EQ(f.on_error, OnError::stop);
  EXPECT_EQ(f.source, "<string>");
}

TEST(ParseChain, ScalarStepsNullParamsAndDefaults) {
  const ChainFile f = parse_chain("chain:\n  - grayscale\n  - flip:\n  - gaussian_blur: {}\n");
  ASSERT_EQ(f.chain.steps().size(), 3u);
  EXPECT_EQ(f.chain.steps()[0].descriptor->name, "grayscale");
  EXPECT_EQ(f.chain.steps()[1].descriptor->name, "flip");
  // Omitted parameters take the defaults that `imgpipe ops` documents.
  EXPECT_EQ(f.chain.steps()[1].params.text("direction"), "horizontal");
  EXPECT_DOUBLE_EQ(f.chain.steps()[2].params.number("sigma"), 2.0);
}

TEST(ParseChain, EmptySectionsSetNothing) {
  const ChainFile f = parse_chain("performance:\noutput:\nchain:\n  - grayscale\n");
  EXPECT_EQ(f.context.threads, Context{}.threads);
  EXPECT_FALSE(f.output_format_set);
  EXPECT_EQ(f.chain.steps().size(), 1u);
}

TEST(ParseChain, EmptyChainListIsAllowed) {
  // A chain of no steps converts formats only.
  EXPECT_TRUE(parse_chain("chain: []\n").chain.empty());
}

TEST(ParseChain, ColourAsListTextOrName) {
  const ChainFile f = parse_chain(
      "chain:\n"
      "  - border: {colour: [255, 0, 0]}\n"
      "  - border: {colour: [0, 0, 255, 128]}\n"
      "  - border: {colour: \"#00ff00\"}\n"
      "  - border: {colour: transparent}\n");
  ASSERT_EQ(f.chain.steps().size(), 4u);
  EXPECT_EQ(f.chain.steps()[0].params.colour("color"), (Colour{255, 0, 0, 255}));
  EXPECT_EQ(f.chain.steps()[1].params.colour("color"), (Colour{0, 0, 255, 128}));
  EXPECT_EQ(f.chain.steps()[2].params.colour("color"), (Colour{0, 255, 0, 255}));
  EXPECT_EQ(f.chain.steps()[3].params.colour("color"), (Colour{0, 0, 0, 0}));
}

TEST(ParseChain, BritishSpellingsAreAliasesOfTheAmericanNames) {
  // Operation, parameter and choice names: colour/color, centre/center, grey/gray.
  const ChainFile british = parse_chain(
      "chain:\n"
      "  - adjust_colours: {saturation: 1.2}\n"
      "  - border: {size: 4, colour: red, mode: colour}\n"
      "  - watermark: {text: x, colour: blue, position: centre}\n");
  const ChainFile american = parse_chain(
      "chain:\n"
      "  - adjust_colors: {saturation: 1.2}\n"
      "  - border: {size: 4, color: red, mode: color}\n"
      "  - watermark: {text: x, color: blue, position: center}\n");
  EXPECT_EQ(british.chain.canonical(), american.chain.canonical());  // one cache key, one report
  EXPECT_EQ(british.chain.steps()[1].params.colour("color"), (Colour{255, 0, 0, 255}));
  EXPECT_EQ(british.chain.steps()[2].params.text("position"), "center");
  EXPECT_EQ(american_spelling("greyscale_centre_colours"), "grayscale_center_colors");
  // Both spellings of one parameter in one step: refused, at the second.
  EXPECT_THAT(config_error("chain:\n  - border: {color: red, colour: blue}\n"), HasSubstr("given twice"));
  EXPECT_THAT(test::config_error([] {
                Chain().then("border", {{"color", "red"}, {"colour", "blue"}});
              }),
              HasSubstr("given twice"));
}

TEST(LoadChainFile, RelativePathsResolveAgainstTheChainFilesFolder) {
  test::TempDir dir;
  fs::create_directories(dir / "chains");
  test::write_text(dir / "chains" / "palettes.json", "{\"bw\": [\"#000000\", \"#ffffff\"]}\n");
  test::write_text(dir / "chains" / "chain.yaml", "chain:\n  - palette: {palettes: palettes.json}\n");
  // Loaded from anywhere (the working folder holds no palettes.json), the step reads the file
  // beside the chain.
  ASSERT_FALSE(fs::exists("palettes.json"));
  const ChainFile file = load_chain_file(dir / "chains" / "chain.yaml");
  EXPECT_EQ(fs::path(file.chain.steps()[0].params.text("palettes")), dir.path() / "chains" / "palettes.json");
  const auto variants = file.chain.run_variants(Image(test::make_image(16, 16, 3)), Context{});
  ASSERT_EQ(variants.size(), 1u);
  EXPECT_EQ(variants[0].name, "bw");
  // Absolute paths stay as given; chains given as text resolve against the working folder.
  test::write_text(dir / "abs.yaml", fmt::format("chain:\n  - palette: {{palettes: {}}}\n",
                                                 (dir / "chains" / "palettes.json").string()));
  EXPECT_EQ(fs::path(load_chain_file(dir / "abs.yaml").chain.steps()[0].params.text("palettes")),
            dir.path() / "chains" / "palettes.json");
  EXPECT_THROW(parse_chain("chain:\n  - palette: {palettes: palettes.json}\n"), Error);
}

TEST(ParseChain, IntegersAreAcceptedForNumbers) {
  const ChainFile f = parse_chain("chain:\n  - gaussian_blur: {sigma: 3}\n");
  EXPECT_DOUBLE_EQ(f.chain.steps()[0].params.number("sigma"), 3.0);
}

// A chain file with one mistake: where it is (LINE:COLUMN, 1-based, counted by hand from the
// text) and what the message must say about it.
struct ErrorCase {
  std::string name;
  std::string yaml;
  std::string at;
  std::vector<std::string> says;
};

const ErrorCase kErrorCases[] = {
    {"UnknownTopLevelKey",
     "chain:\n  - grayscale\noutptu: {format: png}\n",
     "3:1",
     {"unknown key 'outptu'", "did you mean 'output'", "allowed: performance, chain, output, on_error"}},
    {"UnknownSectionKey",
     "performance:\n  thraeds: 4\nchain: []\n",
     "2:3",
     {"did you mean 'threads'", "max_memory"}},
    {"UnknownOperation",
     "chain:\n  - grayscale\n  - resise: {width: 10}\n",
     "3:5",
     {"unknown operation 'resise'", "did you mean 'resize'", "grayscale"}},
    // "  - resize: {" is 13 characters: the key starts in column 14.
    {"UnknownParameter",
     "chain:\n  - resize: {widht: 100}\n",
     "2:14",
     {"unknown parameter 'widht'", "did you mean 'width'", "allowed: ", "height", "max_side"}},
    {"TextForAnInteger",
     "chain:\n  - resize:\n      width: wide\n",
     "3:14",
     {"resize.width: expected integer 1..65535, got \"wide\""}},
    {"QuotedNumberIsText",
     "chain:\n  - resize: {width: \"100\"}\n",
     "2:21",
     {"expected integer 1..65535, got \"100\""}},
    {"FractionForAnInteger",
     "chain:\n  - resize: {width: 10.5}\n",
     "2:21",
     {"expected integer 1..65535, got 10.5"}},
    {"OutOfRange",
     "chain:\n  - resize: {width: 0}\n",
     "2:21",
     {"resize.width: expected integer 1..65535, got 0"}},
    {"OutputOutOfRange",
     "output:\n  quality: 101\nchain: []\n",
     "2:12",
     {"output.quality: expected integer 1..100, got 101"}},
    {"BadChoice",
     "chain:\n  - resize: {width: 10, fit: cove}\n",
     "2:30",
     {"one of inside, cover, fill, exact", "did you mean \"cover\""}},
    {"BadDevice",
     "performance: {device: gpu}\nchain: []\n",
     "1:23",
     {"performance.device: expected one of auto, cpu, opencl, cuda, got \"gpu\""}},
    {"BadOnError", "chain: []\non_error: ignore\n", "2:11", {"on_error: expected one of stop, continue"}},
    {"BadBoolean",
     "output:\n  progressive: maybe\nchain: []\n",
     "2:16",
     {"output.progressive: expected true or false, got \"maybe\""}},
    {"BadColour",
     "chain:\n  - border: {colour: blurple}\n",
     "2:22",
     {"border.colour: expected colour", "blurple"}},
    // The list form points at the channel that is out of range.
    {"BadColourChannel", "chain:\n  - border: {colour: [0, 300, 0]}\n", "2:26", {"0..255, got 300"}},
    {"ColourListTooShort", "chain:\n  - border: {colour: [0, 0]}\n", "2:22", {"[r, g, b] or [r, g, b, a]"}},
    {"BadByteSize",
     "performance:\n  max_memory: lots\nchain: []\n",
     "2:15",
     {"performance.max_memory: expected a size such as 4GB", "lots"}},
    {"ChainNotAList", "chain: grayscale\n", "1:8", {"expected a list of operations"}},
    {"StepWithTwoKeys",
     "chain:\n  - grayscale\n  - resize: {width: 10}\n    flip: {}\n",
     "3:5",
     {"chain[1]: expected one operation"}},
    {"ParamsNotAMapping",
     "chain:\n  - resize: [100, 200]\n",
     "2:13",
     {"resize: parameters must be a mapping"}},
    {"DuplicateKey", "chain:\n  - resize: {width: 10, width: 20}\n", "2:25", {"'width' is given twice"}},
    {"SectionNotAMapping", "performance: fast\nchain: []\n", "1:14", {"performance: expected a mapping"}},
    {"NonScalarKey", "? [a, b]\n: 1\nchain: []\n", "1:3", {"expected a name as the key"}},
    // A tab may not indent a block: the scanner stops at the '-' after it.
    {"TabIndent", "chain:\n\t- grayscale\n", "2:2", {"invalid YAML"}},
    // An unclosed flow mapping is noticed at the end of the text.
    {"UnclosedMapping", "chain:\n  - resize: {width: 100\n", "3:1", {"invalid YAML"}},
    {"EmptyFile", "", "1:1", {"empty", "chain:"}},
    {"BlankFile", "\n\n", "1:1", {"empty", "chain:"}},
    {"CommentOnly", "# only a comment\n", "1:1", {"empty", "chain:"}},
    {"MissingChain", "output: {format: png}\n", "1:1", {"missing 'chain:'"}},
    {"ListAtTheTop", "- grayscale\n", "1:1", {"expected a mapping"}},
    // watermark needs text or image: a check across parameters, reported at the step.
    {"CrossParameterCheck", "chain:\n  - grayscale\n  - watermark: {opacity: 0.5}\n", "3:5", {"watermark"}},
};

class ParseChainErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ParseChainErrors, NamesLineColumnAndWhatIsAllowed) {
  const ErrorCase& c = GetParam();
  const std::string m = config_error(c.yaml);
  EXPECT_THAT(m, StartsWith("chain.yml:" + c.at + ": "));
  for (const auto& part : c.says) EXPECT_THAT(m, HasSubstr(part));
}

INSTANTIATE_TEST_SUITE_P(Mistakes, ParseChainErrors, ::testing::ValuesIn(kErrorCases),
                         [](const auto& test) { return test.param.name; });

TEST(LoadChainFile, NamesThePath) {
  test::TempDir dir;
  const auto path = dir / "bad.yml";
  test::write_text(path, "chain:\n  - resize: {width: -1}\n");
  try {
    load_chain_file(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), StartsWith(path.string() + ":2:21: "));
  }
  try {
    load_chain_file(dir / "missing.yml");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_THAT(e.what(), HasSubstr((dir / "missing.yml").string()));
  }
  try {
    load_chain_file(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("is a directory"));
  }
}

TEST(ParseByteSize, UnitsDecimalAndBinary) {
  EXPECT_EQ(parse_byte_size("4GB"), 4'000'000'000u);
  EXPECT_EQ(parse_byte_size("512MiB"), 512u * 1024 * 1024);
  EXPECT_EQ(parse_byte_size("1.5G"), 1'500'000'000u);
  EXPECT_EQ(parse_byte_size("100"), 100u);
  EXPECT_EQ(parse_byte_size("0"), 0u);
  EXPECT_EQ(parse_byte_size("2 kb"), 2000u);
  EXPECT_EQ(parse_byte_size("1KiB"), 1024u);
  EXPECT_EQ(parse_byte_size("3B"), 3u);
  EXPECT_EQ(parse_byte_size("2TiB"), 2ull << 40);
  EXPECT_EQ(parse_byte_size("1e3"), 1000u);
}

TEST(ParseByteSize, RefusesMalformed) {
  for (const char* bad :
       {"", "GB", "-1", "-1GB", "4XB", "abc", "1.5.5G", "nan", "inf", "4 G B", "20000000TB"})
    EXPECT_FALSE(parse_byte_size(bad).has_value()) << bad;
}

namespace {

// An environment for apply_environment: exactly these variables are set.
struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::function<const char*(const char*)> getter() const {
    return [this](const char* name) -> const char* {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : it->second.c_str();
    };
  }
};

const char* kFileWithEverySetting = R"(performance:
  device: cpu
  threads: 2
  max_memory: 1GB
  max_pixels: 100
  max_file_size: 1MB
  tile_size: 128
  parallel_images: 3
  quality: fast
chain:
  - grayscale
output:
  format: png
  quality: 50
on_error: stop
)";

}  // namespace

TEST(ApplyEnvironment, EveryVariableOverridesTheFile) {
  ChainFile f = parse_chain(kFileWithEverySetting);
  const FakeEnv env{{{"IMGPIPE_THREADS", "7"},
                     {"IMGPIPE_DEVICE", "cpu"},
                     {"IMGPIPE_MAX_MEMORY", "512MiB"},
                     {"IMGPIPE_MAX_PIXELS", "5000"},
                     {"IMGPIPE_MAX_FILE_SIZE", "2MB"},
                     {"IMGPIPE_TILE_SIZE", "1024"},
                     {"IMGPIPE_PARALLEL_IMAGES", "5"},
                     {"IMGPIPE_PRESET", "ultra"},
                     {"IMGPIPE_FORMAT", "jpeg"},
                     {"IMGPIPE_QUALITY", "90"},
                     {"IMGPIPE_ON_ERROR", "continue"}}};
  apply_environment(f, env.getter());
  EXPECT_EQ(f.context.threads, 7);
  EXPECT_EQ(f.context.device, Device::cpu);
  EXPECT_EQ(f.context.max_memory, 512u * 1024 * 1024);
  EXPECT_EQ(f.context.limits.max_input_pixels, 5000u);
  EXPECT_EQ(f.context.limits.max_file_bytes, 2'000'000u);
  EXPECT_EQ(f.context.tile_size, 1024);
  EXPECT_EQ(f.context.parallel_images, 5);
  EXPECT_EQ(f.context.quality, QualityPreset::ultra);
  EXPECT_EQ(f.output.format, Format::jpeg);
  EXPECT_TRUE(f.output_format_set);
  EXPECT_EQ(f.output.quality, 90);
  EXPECT_EQ(f.on_error, OnError::continue_);
}

TEST(ApplyEnvironment, ADeviceThisProcessCannotUseIsRefusedAtOnce) {
  // Before any image is opened, as Error(device) naming the origin and what is missing. Here
  // there is no CUDA device, and OpenCL only where OPENCV_OPENCL_DEVICE selects PoCL.
  for (const Device device : {Device::opencl, Device::cuda}) {
    const DeviceStatus& status = device_status(device);
    if (status.usable) continue;
    const std::string name(to_string(device));
    ChainFile f = parse_chain("chain: [grayscale]\n");
    const FakeEnv env{{{"IMGPIPE_DEVICE", name.c_str()}}};
    try {
      apply_environment(f, env.getter());
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::device);
      EXPECT_THAT(e.what(), HasSubstr("IMGPIPE_DEVICE")) << e.what();
      EXPECT_THAT(e.what(), HasSubstr("device " + name + ": " + status.problem)) << e.what();
    }
    try {
      parse_chain("performance: {device: " + name + "}\nchain: [grayscale]\n", "chain.yml");
      ADD_FAILURE() << name << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::device);
      EXPECT_THAT(e.what(), HasSubstr("chain.yml:1:")) << e.what();
    }
  }
}

TEST(ApplyEnvironment, UnsetOrEmptyVariablesLeaveTheFile) {
  ChainFile f = parse_chain(kFileWithEverySetting);
  const FakeEnv env{{{"IMGPIPE_THREADS", ""}, {"IMGPIPE_UNRELATED", "1"}}};
  apply_environment(f, env.getter());
  EXPECT_EQ(f.context.threads, 2);
  EXPECT_EQ(f.context.device, Device::cpu);
  EXPECT_EQ(f.context.max_memory, 1'000'000'000u);
  EXPECT_EQ(f.context.limits.max_input_pixels, 100u);
  EXPECT_EQ(f.context.quality, QualityPreset::fast);
  EXPECT_EQ(f.output.format, Format::png);
  EXPECT_EQ(f.output.quality, 50);
  EXPECT_EQ(f.on_error, OnError::stop);
}

TEST(ApplyEnvironment, BadValuesNameTheVariable) {
  const std::map<std::string, std::string> bad = {
      {"IMGPIPE_THREADS", "lots"},        {"IMGPIPE_DEVICE", "gpu"},      {"IMGPIPE_MAX_MEMORY", "huge"},
      {"IMGPIPE_MAX_PIXELS", "-1"},       {"IMGPIPE_MAX_FILE_SIZE", "x"}, {"IMGPIPE_TILE_SIZE", "8"},
      {"IMGPIPE_PARALLEL_IMAGES", "1.5"}, {"IMGPIPE_PRESET", "best"},     {"IMGPIPE_FORMAT", "bmp"},
      {"IMGPIPE_QUALITY", "101"},         {"IMGPIPE_ON_ERROR", "ignore"}};
  for (const auto& [name, value] : bad) {
    ChainFile f = parse_chain("chain: []\n");
    const FakeEnv env{{{name, value}}};
    try {
      apply_environment(f, env.getter());
      ADD_FAILURE() << name << "=" << value << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::config);
      EXPECT_THAT(e.what(), StartsWith(name + ": expected ")) << e.what();
      EXPECT_THAT(e.what(), HasSubstr(value)) << e.what();
    }
  }
}

TEST(ApplySetting, NamesTheOriginAndConvertsText) {
  ChainFile f = parse_chain("chain: []\n");
  apply_setting(f, "output.quality", "42", "--quality");
  EXPECT_EQ(f.output.quality, 42);
  apply_setting(f, "performance.max_memory", "3GB", "--max-memory");
  EXPECT_EQ(f.context.max_memory, 3'000'000'000u);
  try {
    apply_setting(f, "performance.threads", "-2", "--threads");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config);
    EXPECT_STREQ(e.what(), "--threads: expected integer 0..1024, got -2");
  }
}
