// Job::draft and Job::run with a preview: the draft comes first, at the draft preset and the
// preview size, looks like the final at a smaller scale (geometry in pixels included), one per
// variant, and its errors are the run's.
#include <gtest/gtest.h>

#include <chrono>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

namespace fs = std::filesystem;

// autumn-2560x1600.jpg: a real photo larger than the preview, 16:10.
constexpr int kAutumnWidth = 2560, kAutumnHeight = 1600;

SaveOptions png() {
  SaveOptions save;
  save.format = Format::png;
  return save;
}

cv::Mat decoded(const std::vector<std::uint8_t>& bytes) {
  return load_buffer(bytes, "draft").pixels;
}

// The final shrunk as the preview shrinks (area averaging) to `size`.
cv::Mat shrunk(const cv::Mat& final_pixels, cv::Size size) {
  cv::Mat out;
  cv::resize(final_pixels, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

}  // namespace

TEST(Preview, TheDraftIsWrittenAndHandedOnBeforeTheFinalIsComputed) {
  test::TempDir dir;
  const ChainFile file =
      parse_chain("chain:\n  - adjust_colors: {contrast: 1.2}\n  - sharpen: {amount: 0.5}\n");
  Job job(file, test::photo("autumn-2560x1600.jpg"), file.context);
  std::vector<std::string> events;
  bool final_existed_at_draft = true;
  PreviewOptions preview;
  preview.path = dir / "draft.png";
  preview.on_draft = [&](const Draft& draft) {
    events.push_back("draft");
    final_existed_at_draft = fs::exists(dir / "final.png");
    EXPECT_TRUE(fs::exists(dir / "draft.png"));  // written before it is handed on
    ASSERT_EQ(draft.written.size(), 1u);
    EXPECT_EQ(draft.written.front().path, dir / "draft.png");
    EXPECT_GT(draft.seconds, 0.0);
  };
  const JobResult result = job.run(dir / "final.png", png(), preview);
  events.push_back("final");
  EXPECT_EQ(events, (std::vector<std::string>{"draft", "final"}));
  EXPECT_FALSE(final_existed_at_draft);
  EXPECT_LE(fs::last_write_time(dir / "draft.png"), fs::last_write_time(dir / "final.png"));
  ASSERT_EQ(result.outputs.size(), 1u);
  EXPECT_EQ(result.outputs.front().size, cv::Size(kAutumnWidth, kAutumnHeight));
  EXPECT_EQ(load(dir / "draft.png").pixels.size(), cv::Size(512, 320));
}

TEST(Preview, TheFinalIsTheSameWithOrWithoutADraft) {
  test::TempDir dir;
  const ChainFile file =
      parse_chain("chain:\n  - resize: {width: 700}\n  - adjust_colors: {saturation: 1.3}\n");
  Job plain(file, test::photo("autumn-2560x1600.jpg"), file.context);
  plain.run(dir / "plain.png", png());
  Job previewed(file, test::photo("autumn-2560x1600.jpg"), file.context);
  previewed.run(dir / "previewed.png", png(), {.max_side = 200, .path = dir / "draft.png", .on_draft = {}});
  EXPECT_EQ(test::read_file(dir / "plain.png"), test::read_file(dir / "previewed.png"));
}

// A decoded input (no shrink-on-load) through a chain of one proportional step, a resize by a
// factor: the draft is that step at the draft preset (nearest neighbour) on the input shrunk
// by area to the preview size — exactly, and not what the balanced preset (area) gives.
TEST(Preview, TheDraftRunsTheChainAtTheDraftPresetOnTheShrunkInput) {
  const cv::Mat pixels = test::make_image(1024, 768, 3);
  const ChainFile file = parse_chain("chain:\n  - resize: {scale: 0.5}\n");
  Job job(file, Image(pixels), file.context);
  const Draft draft = job.draft(png());
  EXPECT_EQ(draft.full_size_steps, 0u);
  ASSERT_EQ(draft.outputs.size(), 1u);
  EXPECT_EQ(draft.outputs.front().size, cv::Size(256, 192));

  Context at_draft = file.context;
  at_draft.quality = QualityPreset::draft;
  const Image small =
      Chain().then("resize", {{"max_side", 512}, {"kernel", "area"}}).run(Image(pixels), at_draft);
  const cv::Mat expected = file.chain.run(small, at_draft).pixels;
  EXPECT_TRUE(test::identical(decoded(draft.outputs.front().bytes), expected));
  Context balanced = file.context;
  balanced.quality = QualityPreset::balanced;
  EXPECT_FALSE(test::identical(decoded(draft.outputs.front().bytes), file.chain.run(small, balanced).pixels));
}

// Steps in pixels — a crop, a resize to a width, a border — would give another picture on a
// shrunk input (a crop at (1200, 400) of a 512-pixel thumbnail is outside it; a 600-pixel
// resize of it enlarges). They run at full size first, so the draft is the final, smaller.
TEST(Preview, GeometryInPixelsRunsAtFullSizeSoTheDraftLooksLikeTheFinal) {
  test::TempDir dir;
  const ChainFile file = parse_chain(
      "chain:\n  - crop: {left: 1200, top: 400, width: 1000, height: 800}\n  - resize: {width: 600}\n"
      "  - border: {size: 20}\n  - adjust_colors: {contrast: 1.1}\n");
  Job job(file, test::photo("autumn-2560x1600.jpg"), file.context);
  Draft draft;
  job.run(dir / "final.png", png(),
          {.max_side = 320, .path = {}, .on_draft = [&](const Draft& d) { draft = d; }});
  EXPECT_EQ(draft.full_size_steps, 3u);  // up to the border; adjust_colors on the small image
  ASSERT_EQ(draft.outputs.size(), 1u);
  const cv::Mat final_pixels = load(dir / "final.png").pixels;
  ASSERT_EQ(final_pixels.size(), cv::Size(640, 520));
  EXPECT_EQ(draft.outputs.front().size, cv::Size(320, 260));
  const cv::Mat draft_pixels = decoded(draft.outputs.front().bytes);
  EXPECT_GT(test::psnr(draft_pixels, shrunk(final_pixels, draft_pixels.size())), 28.0);
}

TEST(Preview, ADraftOfAPointChainRunsWhollyOnTheShrunkInput) {
  test::TempDir dir;
  const ChainFile file = parse_chain("chain:\n  - adjust_colors: {brightness: 1.1, saturation: 1.2}\n");
  Job job(file, test::photo("autumn-2560x1600.jpg"), file.context);
  Draft draft;
  job.run(dir / "final.png", png(),
          {.max_side = 0, .path = {}, .on_draft = [&](const Draft& d) { draft = d; }});
  EXPECT_EQ(draft.full_size_steps, 0u);
  EXPECT_EQ(draft.outputs.front().size, cv::Size(kDefaultPreviewSide, 320));  // 0 = the default
  const cv::Mat draft_pixels = decoded(draft.outputs.front().bytes);
  EXPECT_GT(test::psnr(draft_pixels, shrunk(load(dir / "final.png").pixels, draft_pixels.size())), 28.0);
}

TEST(Preview, EveryVariantGetsItsDraftBesideThePreviewPath) {
  test::TempDir dir;
  test::write_text(
      dir / "p.json",
      R"({"warm": ["#200000", "#a04000", "#ffd080"], "cool": ["#000020", "#0040a0", "#80d0ff"]})");
  const ChainFile file = parse_chain("chain:\n  - palette: {palettes: " + (dir / "p.json").string() +
                                     ", k: 3}\n  - border: {size: 4}\n");
  Job job(file, test::photo("fruits.jpg"), file.context);  // 512x480
  std::vector<std::string> drafted;
  const JobResult result = job.run(
      dir / "fruit.png", png(), {.max_side = 128, .path = dir / "draft.png", .on_draft = [&](const Draft& d) {
                                   for (const auto& o : d.outputs) drafted.push_back(o.variant);
                                   EXPECT_FALSE(fs::exists(dir / "fruit-warm.png"));
                                 }});
  EXPECT_EQ(drafted, (std::vector<std::string>{"warm", "cool"}));
  EXPECT_EQ(result.outputs.size(), 2u);
  for (const char* name : {"draft-warm.png", "draft-cool.png"}) {
    ASSERT_TRUE(fs::exists(dir / name)) << name;
    EXPECT_EQ(load(dir / name).pixels.size(), cv::Size(128, 120)) << name;  // 520x488 shrunk
  }
  EXPECT_FALSE(fs::exists(dir / "draft.png"));
}

TEST(Preview, AFailedDraftIsTheRunsErrorAndWritesNoFinal) {
  test::TempDir dir;
  const ChainFile file = parse_chain("chain:\n  - adjust_colors: {contrast: 1.2}\n");
  Context past = file.context;
  past.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  Job job(file, test::photo("fruits.jpg"), past);
  bool handed_on = false;
  try {
    job.run(dir / "final.png", png(),
            {.max_side = 0, .path = dir / "draft.png", .on_draft = [&](const Draft&) { handed_on = true; }});
    ADD_FAILURE() << "expected Error(timeout)";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::timeout) << e.what();
  }
  EXPECT_FALSE(handed_on);
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(Preview, RefusesABadSizeAndADraftAfterDecoding) {
  const ChainFile file = parse_chain("chain:\n  - grayscale\n");
  Job job(file, test::photo("fruits.jpg"), file.context);
  const std::string message =
      test::config_error([&] { job.draft(png(), {.max_side = -1, .path = {}, .on_draft = {}}); });
  EXPECT_NE(message.find("max_side"), std::string::npos) << message;
  job.load();
  try {
    job.draft(png());
    ADD_FAILURE() << "expected Error(internal)";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::internal) << e.what();
  }
}

// A streamed input is never decoded whole: a chain that needs the full-size image for its
// draft (a blur's radius is in pixels) has none; a point chain's draft decodes a thumbnail.
TEST(Preview, AStreamedJobDraftsOnlyFromTheShrunkInput) {
  const ChainFile blur = parse_chain("chain:\n  - gaussian_blur: {sigma: 3}\n");
  Job blurred(blur, test::photo("autumn-2560x1600.jpg"), blur.context, {.stream = true});
  ASSERT_EQ(blurred.schedule(), Schedule::streamed);
  try {
    blurred.draft(png());
    ADD_FAILURE() << "expected Error(unsupported)";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::unsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("step 1: gaussian_blur"), std::string::npos) << e.what();
  }
  const ChainFile point = parse_chain("chain:\n  - grayscale\n");
  Job streamed(point, test::photo("autumn-2560x1600.jpg"), point.context, {.stream = true});
  ASSERT_EQ(streamed.schedule(), Schedule::streamed);
  const Draft draft = streamed.draft(png());
  EXPECT_EQ(draft.outputs.front().size, cv::Size(512, 320));
  // The same picture as the in-memory job's draft (libvips's thumbnail against a 1/4-scale
  // decode shrunk by area: close, not equal).
  Job in_memory(point, test::photo("autumn-2560x1600.jpg"), point.context);
  EXPECT_GT(
      test::psnr(decoded(draft.outputs.front().bytes), decoded(in_memory.draft(png()).outputs.front().bytes)),
      30.0);
  // A PNG cannot shrink on load: its streamed draft reads it top to bottom all the same.
  const ChainFile tone = parse_chain("chain:\n  - adjust_colors: {contrast: 1.2}\n");
  Job png_input(tone, test::photo("astronaut.png"), tone.context, {.stream = true});
  ASSERT_EQ(png_input.schedule(), Schedule::streamed);
  EXPECT_EQ(png_input.draft(png(), {.max_side = 100, .path = {}, .on_draft = {}}).outputs.front().size,
            cv::Size(100, 100));
}

// The draft's steps are not the run's: the caller's strategy, analysis and device lists get
// nothing from the draft of a chain with an analysis step.
TEST(Preview, TheDraftStaysOutOfTheCallersReports) {
  const ChainFile file = parse_chain("chain:\n  - palette: {palettes: centers, k: auto}\n");
  std::vector<std::string> strategies;
  std::vector<AnalysisReport> analyses;
  std::vector<DeviceRun> runs;
  Context context = file.context;
  context.strategies = &strategies;
  context.analyses = &analyses;
  context.device_runs = &runs;
  Job job(file, test::photo("autumn-2560x1600.jpg"), context);
  const Draft draft = job.draft(png());
  EXPECT_EQ(draft.outputs.size(), 1u);
  EXPECT_TRUE(strategies.empty());
  EXPECT_TRUE(analyses.empty());
  EXPECT_TRUE(runs.empty());
}
