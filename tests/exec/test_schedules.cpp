// One engine, several schedules. Every registered operation's example parameters give the same
// pixels run on the whole image in memory and streamed through libvips regions (or are refused
// by the streaming schedule with a reason), and a streamed and an in-memory job of one chain
// write the same bytes: PNG, WebP and TIFF byte for byte, JPEG with the same decoded pixels
// (its optimised Huffman tables need statistics over the whole image, which a streamed
// output does not hold). Whole image against TBB tiles is tests/exec/test_tiled_parity.cpp.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;

namespace {

// Small real photos of each layout streaming takes: 8-bit RGB, 8-bit RGBA, 16-bit grey.
// Each is larger than libvips's 128-pixel tiles, so every output is computed in many regions.
std::vector<fs::path> inputs() {
  return {test::photo("fruits.jpg"), test::photo("opencv-logo-rgba.png"),
          test::photo("chessboard_GRAY_U16.tif")};
}

// What streamed and in-memory pixels may differ by. Exact but for one case: resize's area
// downscale of an image without alpha, which in memory is OpenCV's own 8-/16-bit INTER_AREA
// and streamed the same weights summed in float (region.hpp cannot call OpenCV's whole-image
// resize on a region): one level of rounding.
double tolerance(const OpDescriptor& d) {
  return d.name == "resize" ? 1.0 : 0.0;
}

}  // namespace

TEST(Schedules, EveryOperationStreamsAsItRunsWhole) {
  test::TempDir dir;
  std::set<std::string> streamed_ops;
  for (const auto& [name, descriptor] : Registry::global().all()) {
    for (const auto& example : descriptor.examples_or_defaults()) {
      ChainFile file;
      file.chain.then(descriptor, validate_params(descriptor, example));
      file.output.format = Format::png;
      file.output.allow_indexed = false;
      for (const fs::path& input : inputs()) {
        const std::string what =
            fmt::format("{} {} on {}", name, file.chain.canonical(), input.filename().string());
        std::string why;
        if (!can_stream(file.chain, probe(input), file.context.quality, &why)) {
          EXPECT_FALSE(why.empty()) << what;
          EXPECT_NE(descriptor.footprint, Footprint::point)
              << what << ": a point operation must stream: " << why;
          continue;
        }
        const fs::path out = dir / "streamed.png";
        try {
          stream_file(file, input, out, file.context);
        } catch (const std::exception& e) {
          ADD_FAILURE() << what << ": " << e.what();
          continue;
        }
        const Image whole = file.chain.run(load(input), file.context);
        const Image streamed = load(out);
        ASSERT_EQ(whole.pixels.size(), streamed.pixels.size()) << what;
        ASSERT_EQ(whole.pixels.type(), streamed.pixels.type()) << what;
        EXPECT_LE(test::max_abs_diff(whole.pixels, streamed.pixels), tolerance(descriptor)) << what;
        streamed_ops.insert(name);
      }
    }
  }
  // The schedule is not vacuous: point, neighbourhood, geometry and analysis steps all stream.
  for (const char* expected : {"adjust_colors", "grayscale", "gaussian_blur", "sharpen", "median", "crop",
                               "flip", "resize", "auto_orient", "complexity", "palette"})
    EXPECT_TRUE(streamed_ops.count(expected)) << expected << " never streamed";
}

namespace {

const char* const kChain = R"(chain:
  - adjust_colors: {brightness: 1.1, contrast: 1.15}
  - gaussian_blur: {sigma: 1.2}
  - resize: {width: 900}
  - sharpen: {amount: 0.6}
)";

}  // namespace

TEST(Schedules, StreamedAndInMemoryJobsWriteTheSameFiles) {
  test::TempDir dir;
  const ChainFile file = parse_chain(kChain, "chain.yaml");
  // A 2560x1600 photo: the resize is an area downscale, not the first step (so no
  // shrink-on-load in memory), and the image spans many tiles and libvips regions.
  const fs::path input = test::photo("autumn-2560x1600.jpg");
  for (const Format format : {Format::png, Format::webp, Format::tiff, Format::jpeg}) {
    SaveOptions save = file.output;
    save.format = format;
    const std::string ext(extension_of(format));
    Job memory(file, input, file.context);
    ASSERT_EQ(memory.schedule(), Schedule::in_memory);
    memory.run(dir / ("memory." + ext), save);
    Job streamed(file, input, file.context, {.stream = true});
    ASSERT_EQ(streamed.schedule(), Schedule::streamed);
    streamed.run(dir / ("streamed." + ext), save);
    const auto a = test::read_file(dir / ("memory." + ext)), b = test::read_file(dir / ("streamed." + ext));
    if (format == Format::jpeg) {
      EXPECT_TRUE(test::identical(load(dir / "memory.jpg").pixels, load(dir / "streamed.jpg").pixels));
      EXPECT_LE(a.size(), b.size()) << "optimised Huffman tables make the in-memory JPEG the smaller";
    } else {
      EXPECT_EQ(a, b) << ext << ": " << a.size() << " bytes in memory, " << b.size() << " streamed";
    }
  }
}

TEST(Schedules, StreamedPngWithMetadataKeptIsTheInMemoryFile) {
  // PNG goes through one libpng writer in both schedules, EXIF and ICC included.
  test::TempDir dir;
  const ChainFile file =
      parse_chain("chain:\n  - adjust_colors: {brightness: 1.1}\noutput: {metadata: keep, format: png}\n");
  const fs::path input = test::photo("hubble_deep_field.jpg");  // EXIF and an ICC profile
  Job memory(file, input, file.context);
  memory.run(dir / "memory.png", file.output);
  Job streamed(file, input, file.context, {.stream = true});
  ASSERT_EQ(streamed.schedule(), Schedule::streamed);
  streamed.run(dir / "streamed.png", file.output);
  const auto a = test::read_file(dir / "memory.png"), b = test::read_file(dir / "streamed.png");
  EXPECT_EQ(a, b);
  const Image back = load(dir / "streamed.png");
  EXPECT_FALSE(back.exif.empty());
  EXPECT_FALSE(back.icc.empty());
}

TEST(Schedules, WebpTargetSizeWorksStreamed) {
  test::TempDir dir;
  ChainFile file =
      parse_chain("chain:\n  - resize: {width: 1200}\noutput: {format: webp, target_size: 60KB}\n");
  const fs::path input = test::photo("autumn-2560x1600.jpg");
  Job memory(file, input, file.context);
  memory.run(dir / "memory.webp", file.output);
  Job streamed(file, input, file.context, {.stream = true});
  streamed.run(dir / "streamed.webp", file.output);
  EXPECT_EQ(test::read_file(dir / "memory.webp"), test::read_file(dir / "streamed.webp"));
  EXPECT_LE(fs::file_size(dir / "streamed.webp"), 60u * 1000u * 11u / 10u);
}

TEST(Schedules, PaletteVariantsWrittenFromIndicesAreTheFilesOfTheFullImages) {
  // A job writing palette PNGs asks the last step for indices only (Context::indexed_output);
  // the files must be those of the variants made with pixels.
  test::TempDir dir;
  ChainFile file = parse_chain("chain:\n  - palette: {colors: \"#102030,#d0a060,#f0f0e0\", k: 3}\n");
  SaveOptions png;
  png.format = Format::png;
  const fs::path input = test::photo("fruits.jpg");
  Job job(file, input, file.context);
  const auto encoded = job.encode(png);
  ASSERT_EQ(encoded.size(), 1u);
  const std::vector<Variant> full = file.chain.run_variants(load(input), file.context);
  ASSERT_EQ(full.size(), 1u);
  ASSERT_FALSE(full.front().image.empty());
  EXPECT_EQ(encoded.front().bytes, encode(full.front().image, png));
  EXPECT_EQ(encoded.front().size, full.front().image.pixels.size());
}
