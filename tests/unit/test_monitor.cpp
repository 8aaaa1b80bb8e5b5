// PerformanceMonitor: the scope tree, statistics from known durations, thread safety, the
// JSON and text reports, and the process's resident memory.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <imgpipe/monitor.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

const PerformanceMonitor::Stats* find(const std::vector<PerformanceMonitor::Stats>& all,
                                      const std::string& path) {
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& s) { return s.path == path; });
  return it == all.end() ? nullptr : &*it;
}

std::vector<std::string> paths(const std::vector<PerformanceMonitor::Stats>& all) {
  std::vector<std::string> out;
  for (const auto& s : all) out.push_back(s.path);
  return out;
}

// run { decode, step (twice) { inner }, encode } and a second root.
void track_a_run(PerformanceMonitor& mon) {
  {
    auto run = mon.track("run");
    { auto decode = mon.track("decode"); }
    for (int i = 0; i < 2; ++i) {
      auto step = mon.track("step");
      auto inner = mon.track("inner");
    }
    { auto encode = mon.track("encode"); }
  }
  auto other = mon.track("other");
}

}  // namespace

TEST(PerformanceMonitor, NestedScopesBuildATreeInDepthFirstOrder) {
  PerformanceMonitor mon;
  track_a_run(mon);
  const auto all = mon.stats();
  EXPECT_EQ(paths(all), (std::vector<std::string>{"run", "run/decode", "run/step", "run/step/inner",
                                                  "run/encode", "other"}));
  const std::vector<std::pair<std::string, int>> depths = {
      {"run", 0}, {"run/decode", 1}, {"run/step", 1}, {"run/step/inner", 2}, {"run/encode", 1}, {"other", 0}};
  for (const auto& [path, depth] : depths) {
    const auto* s = find(all, path);
    ASSERT_NE(s, nullptr) << path;
    EXPECT_EQ(s->depth, depth) << path;
    EXPECT_EQ(s->name, path.substr(path.rfind('/') + 1)) << path;
  }
  EXPECT_EQ(find(all, "run")->count, 1u);
  EXPECT_EQ(find(all, "run/step")->count, 2u);
  EXPECT_EQ(find(all, "run/step/inner")->count, 2u);
  EXPECT_EQ(find(all, "other")->count, 1u);
}

TEST(PerformanceMonitor, SameNameUnderDifferentParentsIsTwoNodes) {
  PerformanceMonitor mon;
  {
    auto a = mon.track("a");
    auto x = mon.track("x");
  }
  {
    auto b = mon.track("b");
    auto x = mon.track("x");
    auto y = mon.track("x");  // x inside x: a child, not the same node
  }
  EXPECT_EQ(paths(mon.stats()), (std::vector<std::string>{"a", "a/x", "b", "b/x", "b/x/x"}));
}

TEST(PerformanceMonitor, DurationsAreNonNegativeAndNestedTimesAddUp) {
  PerformanceMonitor mon;
  track_a_run(mon);
  for (const auto& s : mon.stats()) {
    EXPECT_GE(s.p50_ms, 0) << s.path;
    EXPECT_LE(s.p50_ms, s.p95_ms) << s.path;
    EXPECT_LE(s.p95_ms, s.max_ms) << s.path;
    EXPECT_LE(s.max_ms, s.total_ms) << s.path;
    EXPECT_NEAR(s.mean_ms * static_cast<double>(s.count), s.total_ms, 1e-9) << s.path;
  }
  // A parent scope encloses its children, so it lasts at least as long as they do together.
  const auto all = mon.stats();
  const double children =
      find(all, "run/decode")->total_ms + find(all, "run/step")->total_ms + find(all, "run/encode")->total_ms;
  EXPECT_GE(find(all, "run")->total_ms, children);
  EXPECT_GE(find(all, "run/step")->total_ms, find(all, "run/step/inner")->total_ms);
}

TEST(PerformanceMonitor, StatisticsFromKnownDurations) {
  PerformanceMonitor mon;
  {
    auto parent = mon.track("batch");
    // 1..20 ms in a shuffled order: statistics must not depend on the order of arrival.
    for (int ms : {7, 3, 20, 1, 14, 9, 18, 2, 11, 5, 16, 4, 13, 19, 6, 10, 15, 8, 17, 12})
      mon.record("image", ms);
  }
  const auto all = mon.stats();
  const auto* s = find(all, "batch/image");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->count, 20u);
  EXPECT_DOUBLE_EQ(s->total_ms, 210.0);  // 20 * 21 / 2
  EXPECT_DOUBLE_EQ(s->mean_ms, 10.5);
  // Nearest rank: p50 is the ceil(0.50 * 20) = 10th smallest, p95 the ceil(0.95 * 20) = 19th.
  EXPECT_DOUBLE_EQ(s->p50_ms, 10.0);
  EXPECT_DOUBLE_EQ(s->p95_ms, 19.0);
  EXPECT_DOUBLE_EQ(s->max_ms, 20.0);
}

TEST(PerformanceMonitor, PercentilesOfFewSamples) {
  PerformanceMonitor mon;
  mon.record("one", 4.0);
  for (double ms : {30.0, 10.0, 20.0}) mon.record("three", ms);
  const auto all = mon.stats();
  EXPECT_DOUBLE_EQ(find(all, "one")->p50_ms, 4.0);
  EXPECT_DOUBLE_EQ(find(all, "one")->p95_ms, 4.0);
  // ceil(0.5 * 3) = 2nd smallest; ceil(0.95 * 3) = 3rd.
  EXPECT_DOUBLE_EQ(find(all, "three")->p50_ms, 20.0);
  EXPECT_DOUBLE_EQ(find(all, "three")->p95_ms, 30.0);
  EXPECT_DOUBLE_EQ(find(all, "three")->mean_ms, 20.0);
}

TEST(PerformanceMonitor, MovedScopeRecordsOnce) {
  PerformanceMonitor mon;
  {
    auto first = mon.track("moved");
    PerformanceMonitor::Scope second(std::move(first));
  }
  EXPECT_EQ(mon.stats().at(0).count, 1u);
}

TEST(PerformanceMonitor, MonitorsDoNotNestIntoEachOther) {
  PerformanceMonitor a, b;
  {
    auto outer = a.track("outer");
    auto inner = b.track("inner");
    auto nested = a.track("nested");
  }
  EXPECT_EQ(paths(a.stats()), (std::vector<std::string>{"outer", "outer/nested"}));
  EXPECT_EQ(paths(b.stats()), (std::vector<std::string>{"inner"}));
}

TEST(PerformanceMonitor, ManyThreadsCountsAddUp) {
  PerformanceMonitor mon;
  constexpr int kThreads = 8, kIterations = 400;
  {
    auto main_scope = mon.track("main");
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&mon] {
        for (int i = 0; i < kIterations; ++i) {
          auto work = mon.track("work");
          auto inner = mon.track("inner");
          mon.record("measured", 1.0);
        }
      });
    for (auto& t : threads) t.join();
  }
  const auto all = mon.stats();
  // Scopes nest per thread: the workers' scopes are roots, not children of "main".
  EXPECT_EQ(paths(all), (std::vector<std::string>{"main", "work", "work/inner", "work/inner/measured"}));
  constexpr auto kTotal = static_cast<std::uint64_t>(kThreads) * kIterations;
  EXPECT_EQ(find(all, "main")->count, 1u);
  EXPECT_EQ(find(all, "work")->count, kTotal);
  EXPECT_EQ(find(all, "work/inner")->count, kTotal);
  EXPECT_EQ(find(all, "work/inner/measured")->count, kTotal);
  EXPECT_DOUBLE_EQ(find(all, "work/inner/measured")->total_ms, static_cast<double>(kTotal));
}

TEST(PerformanceMonitor, JsonHasTheTreeShape) {
  PerformanceMonitor mon;
  track_a_run(mon);
  const auto doc = nlohmann::json::parse(mon.report_json());
  ASSERT_TRUE(doc.contains("scopes"));
  EXPECT_GT(doc["peak_rss_bytes"].get<std::uint64_t>(), 0u);
  const auto& scopes = doc["scopes"];
  ASSERT_EQ(scopes.size(), 2u);
  EXPECT_EQ(scopes[0]["name"], "run");
  EXPECT_EQ(scopes[1]["name"], "other");
  const auto& children = scopes[0]["children"];
  ASSERT_EQ(children.size(), 3u);
  EXPECT_EQ(children[0]["name"], "decode");
  EXPECT_EQ(children[1]["name"], "step");
  EXPECT_EQ(children[2]["name"], "encode");
  EXPECT_EQ(children[1]["count"], 2);
  ASSERT_EQ(children[1]["children"].size(), 1u);
  EXPECT_EQ(children[1]["children"][0]["path"], "run/step/inner");
  EXPECT_TRUE(children[1]["children"][0]["children"].empty());
  for (const char* field : {"total_ms", "mean_ms", "p50_ms", "p95_ms", "max_ms", "peak_rss_bytes"})
    EXPECT_TRUE(scopes[0].contains(field)) << field;
  EXPECT_GT(scopes[0]["peak_rss_bytes"].get<std::uint64_t>(), 0u);
}

TEST(PerformanceMonitor, EmptyMonitorReportsNoScopes) {
  PerformanceMonitor mon;
  EXPECT_TRUE(mon.stats().empty());
  EXPECT_TRUE(nlohmann::json::parse(mon.report_json())["scopes"].empty());
}

TEST(PerformanceMonitor, TextReportIndentsByDepth) {
  PerformanceMonitor mon;
  track_a_run(mon);
  const std::string text = mon.report_text();
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  ASSERT_EQ(lines.size(), 7u);  // a header and one line a scope
  EXPECT_EQ(lines[1].rfind("run ", 0), 0u);
  EXPECT_EQ(lines[2].rfind("  decode ", 0), 0u);
  EXPECT_EQ(lines[3].rfind("  step ", 0), 0u);
  EXPECT_EQ(lines[4].rfind("    inner ", 0), 0u);
  EXPECT_EQ(lines[5].rfind("  encode ", 0), 0u);
  EXPECT_EQ(lines[6].rfind("other ", 0), 0u);
}

TEST(MaybeScope, RecordsOnlyWithAMonitor) {
  PerformanceMonitor mon;
  { MaybeScope nothing(nullptr, "ignored"); }
  {
    MaybeScope outer(&mon, "outer");
    MaybeScope inner(&mon, "inner");
  }
  EXPECT_EQ(paths(mon.stats()), (std::vector<std::string>{"outer", "outer/inner"}));
}

TEST(ResidentMemory, PeakIsPositiveAndCoversWhatIsInUse) {
  // 64 MiB written page by page is resident; the peak read afterwards must include it.
  constexpr std::size_t kBytes = 64u << 20;
  auto block = std::make_unique<char[]>(kBytes);
  std::memset(block.get(), 1, kBytes);
  const std::uint64_t current = current_rss_bytes();
  const std::uint64_t peak = peak_rss_bytes();
  EXPECT_GE(current, kBytes);
  EXPECT_GE(peak, current);
  EXPECT_GT(block[kBytes - 1], 0);  // keeps the block from being optimised away
}
