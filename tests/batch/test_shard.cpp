// Sharding: --shard and the job schedulers' variables, and a stable split of the inputs.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <imgpipe/batch.hpp>
#include <map>
#include <random>
#include <string>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "test_support.hpp"

using namespace imgpipe;
using imgpipe::test::config_error;

namespace {

// A fake environment for resolve_shard.
struct Env {
  std::map<std::string, std::string> values;
  std::function<const char*(const char*)> getenv() const {
    return [this](const char* name) -> const char* {
      auto it = values.find(name);
      return it == values.end() ? nullptr : it->second.c_str();
    };
  }
};

std::optional<Shard> resolve(const Env& env, std::optional<std::string> flag = std::nullopt,
                             std::optional<int> count = std::nullopt) {
  return resolve_shard(flag, count, env.getenv());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> generated_relpaths(std::size_t n) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < n; ++i)
    paths.push_back(fmt::format("{}/{}/img_{:04}.{}", 2000 + i % 7, i % 3 == 0 ? "beach" : "city", i,
                                i % 2 ? "jpg" : "png"));
  return paths;
}

}  // namespace

// ---- in_shard ------------------------------------------------------------------------------

TEST(InShard, EveryPathIsInExactlyOneShard) {
  const auto paths = generated_relpaths(1000);
  for (int count : {1, 2, 3, 7}) {
    SCOPED_TRACE(count);
    std::vector<std::size_t> sizes(static_cast<std::size_t>(count), 0);
    for (const auto& path : paths) {
      int memberships = 0;
      for (int index = 0; index < count; ++index) {
        if (in_shard(Shard{index, count, "test"}, path)) {
          ++memberships;
          ++sizes[static_cast<std::size_t>(index)];
        }
      }
      EXPECT_EQ(memberships, 1) << path;
    }
    // A hash spreads 1000 paths roughly evenly: no shard is empty or holds twice its share.
    for (std::size_t size : sizes) {
      EXPECT_GT(size, 0u);
      EXPECT_LT(size, 2 * paths.size() / static_cast<std::size_t>(count) + 1);
    }
  }
}

TEST(InShard, IsXxh3OfThePathModuloTheCount) {
  // Workers on other machines and other builds must agree, so the hash is fixed: XXH3-64.
  for (const auto& path : generated_relpaths(200)) {
    const std::uint64_t hash = XXH3_64bits(path.data(), path.size());
    for (int count : {2, 3, 7, 1000}) {
      const int index = static_cast<int>(hash % static_cast<std::uint64_t>(count));
      EXPECT_TRUE(in_shard(Shard{index, count, "test"}, path)) << path;
    }
  }
}

TEST(InShard, AssignmentDependsOnlyOnThePath) {
  auto paths = generated_relpaths(1000);
  const Shard shard{2, 7, "test"};
  std::map<std::string, bool> first;
  for (const auto& path : paths) first[path] = in_shard(shard, path);
  std::mt19937 random(123);
  std::shuffle(paths.begin(), paths.end(), random);
  for (const auto& path : paths) EXPECT_EQ(in_shard(shard, path), first[path]) << path;
}

TEST(InShard, UsesForwardSlashes) {
  // The same relative path built from components or from text is the same input.
  const std::filesystem::path built = std::filesystem::path("2024") / "beach" / "a.jpg";
  for (int index = 0; index < 5; ++index)
    EXPECT_EQ(in_shard(Shard{index, 5, "test"}, built),
              in_shard(Shard{index, 5, "test"}, "2024/beach/a.jpg"));
}

// ---- resolve_shard -------------------------------------------------------------------------

TEST(ResolveShard, NothingSaysMeansOneWorker) {
  EXPECT_FALSE(resolve(Env{}).has_value());
}

TEST(ResolveShard, FlagComesFirst) {
  Env env{{{"CLOUD_RUN_TASK_INDEX", "1"}, {"CLOUD_RUN_TASK_COUNT", "2"}, {"SLURM_ARRAY_TASK_ID", "5"}}};
  auto shard = resolve(env, "3/4");
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 3);
  EXPECT_EQ(shard->count, 4);
  EXPECT_EQ(shard->origin, "--shard");
  shard = resolve(Env{}, "0/1");
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->count, 1);
}

TEST(ResolveShard, MalformedFlagIsRefused) {
  for (const char* bad : {"4/4", "-1/4", "1/0", "0/-2", "1", "1/", "/4", "a/b", "1/4/5", " 1/4", "1/4 ",
                          "+1/4", "1.0/4", "99999999999/99999999999", ""}) {
    SCOPED_TRACE(bad);
    std::string message = config_error([&] { resolve(Env{}, bad); });
    EXPECT_TRUE(contains(message, "--shard")) << message;
    EXPECT_TRUE(contains(message, "0 <= I < N")) << message;
  }
}

TEST(ResolveShard, CloudRun) {
  Env env{{{"CLOUD_RUN_TASK_INDEX", "2"},
           {"CLOUD_RUN_TASK_COUNT", "5"},
           {"JOB_COMPLETION_INDEX", "0"},
           {"IMGPIPE_SHARD_COUNT", "9"}}};
  auto shard = resolve(env);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 5);
  EXPECT_EQ(shard->origin, "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT");
}

TEST(ResolveShard, CloudRunMalformedIsRefused) {
  for (const auto& values : std::vector<std::map<std::string, std::string>>{
           {{"CLOUD_RUN_TASK_INDEX", "5"}, {"CLOUD_RUN_TASK_COUNT", "5"}},
           {{"CLOUD_RUN_TASK_INDEX", "x"}, {"CLOUD_RUN_TASK_COUNT", "5"}},
           {{"CLOUD_RUN_TASK_INDEX", "1"}, {"CLOUD_RUN_TASK_COUNT", "0"}},
           {{"CLOUD_RUN_TASK_INDEX", "1"}},
           {{"CLOUD_RUN_TASK_COUNT", "3"}}}) {
    std::string message = config_error([&] { resolve(Env{values}); });
    EXPECT_TRUE(contains(message, "CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT")) << message;
  }
}

TEST(ResolveShard, KubernetesIndexedJob) {
  // The count from the caller wins over IMGPIPE_SHARD_COUNT.
  Env env{{{"JOB_COMPLETION_INDEX", "3"}, {"IMGPIPE_SHARD_COUNT", "4"}}};
  auto shard = resolve(env, std::nullopt, 10);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 3);
  EXPECT_EQ(shard->count, 10);
  EXPECT_TRUE(contains(shard->origin, "JOB_COMPLETION_INDEX"));
  shard = resolve(env);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 3);
  EXPECT_EQ(shard->count, 4);
  EXPECT_EQ(shard->origin, "JOB_COMPLETION_INDEX/IMGPIPE_SHARD_COUNT");
}

TEST(ResolveShard, KubernetesWithoutCountIsRefused) {
  std::string message = config_error([] { resolve(Env{{{"JOB_COMPLETION_INDEX", "3"}}}); });
  EXPECT_TRUE(contains(message, "JOB_COMPLETION_INDEX")) << message;
  EXPECT_TRUE(contains(message, "IMGPIPE_SHARD_COUNT")) << message;
  EXPECT_TRUE(contains(message, "Kubernetes")) << message;
  message = config_error([] { resolve(Env{{{"JOB_COMPLETION_INDEX", "4"}, {"IMGPIPE_SHARD_COUNT", "4"}}}); });
  EXPECT_TRUE(contains(message, "JOB_COMPLETION_INDEX")) << message;
  message = config_error([] {
    resolve(Env{{{"JOB_COMPLETION_INDEX", "1"}, {"IMGPIPE_SHARD_COUNT", "four"}}});
  });
  EXPECT_TRUE(contains(message, "IMGPIPE_SHARD_COUNT")) << message;
  config_error([] { resolve(Env{{{"JOB_COMPLETION_INDEX", "-1"}, {"IMGPIPE_SHARD_COUNT", "4"}}}); });
}

TEST(ResolveShard, SlurmDenseArray) {
  Env env{{{"SLURM_ARRAY_TASK_ID", "2"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "4"}}};
  auto shard = resolve(env);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 2);
  EXPECT_EQ(shard->count, 4);
  EXPECT_EQ(shard->origin, "SLURM_ARRAY_TASK_ID");
}

TEST(ResolveShard, SlurmSparseIdsMapToConsecutiveShards) {
  // --array=1-9:4 gives ids 1, 5 and 9.
  const std::map<std::string, std::string> array{
      {"SLURM_ARRAY_TASK_MIN", "1"}, {"SLURM_ARRAY_TASK_STEP", "4"}, {"SLURM_ARRAY_TASK_COUNT", "3"}};
  const std::pair<const char*, int> expected[] = {{"1", 0}, {"5", 1}, {"9", 2}};
  for (auto [id, index] : expected) {
    Env env{array};
    env.values["SLURM_ARRAY_TASK_ID"] = id;
    auto shard = resolve(env);
    ASSERT_TRUE(shard) << id;
    EXPECT_EQ(shard->index, index) << id;
    EXPECT_EQ(shard->count, 3) << id;
  }
  for (const char* unmapped : {"6", "0", "13", "-3"}) {
    Env env{array};
    env.values["SLURM_ARRAY_TASK_ID"] = unmapped;
    std::string message = config_error([&] { resolve(env); });
    EXPECT_TRUE(contains(message, std::string("SLURM_ARRAY_TASK_ID=") + unmapped)) << message;
    EXPECT_TRUE(contains(message, "--shard I/N")) << message;
    EXPECT_TRUE(contains(message, "1, 5, 9")) << message;
  }
}

TEST(ResolveShard, SlurmMalformedIsRefused) {
  const std::vector<std::map<std::string, std::string>> cases{
      {{"SLURM_ARRAY_TASK_ID", "3"}},  // no MIN or COUNT
      {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_COUNT", "5"}},
      {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "0"}},
      {{"SLURM_ARRAY_TASK_ID", "3x"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "5"}},
      {{"SLURM_ARRAY_TASK_ID", "3"}, {"SLURM_ARRAY_TASK_MIN", "0"}, {"SLURM_ARRAY_TASK_COUNT", "0"}},
      {{"SLURM_ARRAY_TASK_ID", "3"},
       {"SLURM_ARRAY_TASK_MIN", "0"},
       {"SLURM_ARRAY_TASK_COUNT", "5"},
       {"SLURM_ARRAY_TASK_STEP", "0"}},
  };
  for (const auto& values : cases) {
    std::string message = config_error([&] { resolve(Env{values}); });
    EXPECT_TRUE(contains(message, "SLURM_ARRAY_TASK")) << message;
  }
}

TEST(ResolveShard, CloudRunComesBeforeKubernetesAndKubernetesBeforeSlurm) {
  Env env{{{"JOB_COMPLETION_INDEX", "1"},
           {"IMGPIPE_SHARD_COUNT", "2"},
           {"SLURM_ARRAY_TASK_ID", "0"},
           {"SLURM_ARRAY_TASK_MIN", "0"},
           {"SLURM_ARRAY_TASK_COUNT", "3"}}};
  auto shard = resolve(env);
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 1);
  EXPECT_EQ(shard->count, 2);
}

TEST(ResolveShard, ProcessEnvironmentWhenNoGetenvIsGiven) {
  // Assumes the test does not itself run as a sharded job.
  ::setenv("CLOUD_RUN_TASK_INDEX", "1", 1);
  ::setenv("CLOUD_RUN_TASK_COUNT", "3", 1);
  auto shard = resolve_shard(std::nullopt);
  ::unsetenv("CLOUD_RUN_TASK_INDEX");
  ::unsetenv("CLOUD_RUN_TASK_COUNT");
  ASSERT_TRUE(shard);
  EXPECT_EQ(shard->index, 1);
  EXPECT_EQ(shard->count, 3);
}
