// MemoryGovernor: admission by estimated working set, waiting (a batch) or refusing after a
// bounded wait (a service).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <imgpipe/batch.hpp>
#include <thread>

namespace imgpipe::test {
namespace {

using namespace std::chrono_literals;

TEST(MemoryGovernor, AdmitsWhileTheSumFitsAndCountsWhatItHolds) {
  MemoryGovernor governor(100);
  EXPECT_TRUE(governor.try_admit(60, 0ms));
  EXPECT_TRUE(governor.try_admit(40, 0ms));
  EXPECT_EQ(governor.used(), 100u);
  EXPECT_EQ(governor.in_flight(), 2);
  EXPECT_FALSE(governor.try_admit(1, 0ms));
  EXPECT_EQ(governor.used(), 100u) << "a refusal holds nothing";
  governor.release(60);
  EXPECT_TRUE(governor.try_admit(50, 0ms));
  EXPECT_EQ(governor.used(), 90u);
}

TEST(MemoryGovernor, OneOverTheBudgetRunsAloneButNotBesideAnother) {
  MemoryGovernor governor(100);
  EXPECT_TRUE(governor.try_admit(500, 0ms)) << "nothing else in flight: it may run alone";
  EXPECT_FALSE(governor.try_admit(1, 0ms));
  governor.release(500);
  EXPECT_TRUE(governor.try_admit(10, 0ms));
  EXPECT_FALSE(governor.try_admit(500, 0ms));
}

TEST(MemoryGovernor, NoBudgetAdmitsEverything) {
  MemoryGovernor governor(0);
  EXPECT_TRUE(governor.try_admit(1ull << 40, 0ms));
  EXPECT_TRUE(governor.try_admit(1ull << 40, 0ms));
  EXPECT_EQ(governor.budget(), 0u);
}

TEST(MemoryGovernor, TryAdmitWaitsForARelease) {
  MemoryGovernor governor(100);
  ASSERT_TRUE(governor.try_admit(80, 0ms));
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    governor.release(80);
  });
  const auto begun = std::chrono::steady_clock::now();
  EXPECT_TRUE(governor.try_admit(80, 10s));
  EXPECT_GE(std::chrono::steady_clock::now() - begun, 40ms);
  releaser.join();
}

TEST(MemoryGovernor, TryAdmitGivesUpAfterItsWait) {
  MemoryGovernor governor(100);
  ASSERT_TRUE(governor.try_admit(80, 0ms));
  const auto begun = std::chrono::steady_clock::now();
  EXPECT_FALSE(governor.try_admit(80, 30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - begun, 25ms);
  EXPECT_EQ(governor.in_flight(), 1);
}

TEST(MemoryGovernor, AdmitWaitsUntilAStopRequest) {
  MemoryGovernor governor(100);
  ASSERT_TRUE(governor.try_admit(80, 0ms));
  std::stop_source stop;
  std::atomic<bool> admitted{true};
  std::thread waiter([&] { admitted = governor.admit(80, stop.get_token()); });
  std::this_thread::sleep_for(20ms);
  stop.request_stop();
  waiter.join();
  EXPECT_FALSE(admitted);
  EXPECT_EQ(governor.used(), 80u);
}

TEST(MemoryGovernor, NeverHoldsMoreThanTheBudgetUnderContention) {
  MemoryGovernor governor(100);
  std::atomic<std::uint64_t> held{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      const std::uint64_t bytes = 20 + 10 * (t % 4);
      for (int i = 0; i < 200; ++i) {
        if (!governor.try_admit(bytes, 1s)) continue;
        const std::uint64_t now = held += bytes;
        std::uint64_t seen = most;
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        held -= bytes;
        governor.release(bytes);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 100u);
  EXPECT_EQ(governor.used(), 0u);
  EXPECT_EQ(governor.in_flight(), 0);
}

}  // namespace
}  // namespace imgpipe::test
