// Deadlines and stop requests during a run of several local steps done tile by tile as one:
// checked between tiles, so a request's time limit holds inside such a run, not only between
// steps.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <imgpipe/imgpipe.hpp>
#include <thread>

#include "test_support.hpp"

namespace imgpipe::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

Chain slow_chain() {
  return Chain()
      .then("median", {{"radius", 4}})
      .then("median", {{"radius", 4}})
      .then("median", {{"radius", 4}});
}

Image large_photo() {
  return load(photo("shell-5120x2880.jpg"));
}

// How long a run takes to reach its first check (before step 1): the work before the steps,
// which a sanitizer build makes many times slower.
Clock::duration time_to_first_check(const Image& image) {
  Context context;
  context.threads = 1;
  context.deadline = Clock::now() - 1ms;
  const auto begun = Clock::now();
  try {
    slow_chain().run(image, context);
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("before step 1"));
  }
  return Clock::now() - begun;
}

TEST(TiledDeadline, ADeadlinePassedDuringTheTiledRunEndsIt) {
  const Image image = large_photo();
  Context context;
  context.threads = 1;
  // After the checks before the steps (with a wide margin), long before the end.
  const auto margin = 50ms + 4 * time_to_first_check(image);
  const auto begun = Clock::now();
  context.deadline = begun + margin;
  try {
    slow_chain().run(image, context);
    FAIL() << "the run went past its deadline";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::timeout);
    EXPECT_THAT(e.what(), HasSubstr("during"));
  }
  // Three 9x9 medians of 14.7 megapixels take seconds; stopping at a tile boundary takes one
  // tile's time.
  EXPECT_LT(Clock::now() - context.deadline, 1500ms);
}

TEST(TiledDeadline, AStopRequestDuringTheTiledRunEndsIt) {
  const Image image = large_photo();
  std::stop_source stop;
  Context context;
  context.cancel = stop.get_token();
  std::thread stopper([&] {
    std::this_thread::sleep_for(50ms);
    stop.request_stop();
  });
  try {
    slow_chain().run(image, context);
    ADD_FAILURE() << "the run ignored the stop request";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::cancelled);
  }
  stopper.join();
}

TEST(TiledDeadline, WithoutADeadlineTheTiledRunIsTheWholeImageRun) {
  const Image image = load(photo("fruits.jpg"));
  Context tiled;
  tiled.tile_size = 128;
  Context whole;
  whole.tile_size = 0;
  whole.deadline = Clock::now() + 1h;
  EXPECT_TRUE(identical(slow_chain().run(image, tiled).pixels, slow_chain().run(image, whole).pixels));
}

}  // namespace
}  // namespace imgpipe::test
