// What the complexity rules chose reaches the user as numbers: `-v` prints each analysis step's
// report, `--profile-json` has the numbers under the step's scope, and the batch report has them
// as "analyses" (docs/quality.md, "Complexity rules"). Runs the real binary.
#include <gtest/gtest.h>

#include <filesystem>
#include <imgpipe/io.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
namespace fs = std::filesystem;

namespace {

constexpr const char* kChain = "chain:\n  - palette: {palettes: centers, k: auto}\n";

// fruits.jpg enlarged past the pyramid threshold (2000 px), so R1 and R3 both apply.
fs::path large_photo(const test::TempDir& dir) {
  const cv::Mat pixels = load(test::photo("fruits.jpg")).pixels;
  cv::Mat large;
  cv::resize(pixels, large, {}, 2200.0 / pixels.cols, 2200.0 / pixels.cols, cv::INTER_CUBIC);
  return test::write_png(dir, "large.png", large);
}

// The scope whose name starts with `prefix`, anywhere in the profile's tree.
const nlohmann::json* find_scope(const nlohmann::json& scopes, const std::string& prefix) {
  for (const auto& scope : scopes) {
    if (scope["name"].get<std::string>().rfind(prefix, 0) == 0) return &scope;
    if (const auto* found = find_scope(scope["children"], prefix)) return found;
  }
  return nullptr;
}

}  // namespace

TEST(CliAnalyses, VerboseProfileAndBatchReportCarryTheNumbers) {
  const test::TempDir dir;
  const fs::path input = large_photo(dir);
  test::write_text(dir / "chain.yaml", kChain);

  const auto r = run_cli({"-v", "run", (dir / "chain.yaml").string(), input.string(),
                          (dir / "out.png").string(), "--profile-json", (dir / "profile.json").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("step 1: palette: pyramid 512x480, k "), std::string::npos) << r.err;
  for (const char* name : {"; complexity 0.", ", k ", ", k_max ", ", stride "})
    EXPECT_NE(r.err.find(name), std::string::npos) << name << " missing from:\n" << r.err;

  const auto profile = nlohmann::json::parse(test::read_text(dir / "profile.json"));
  const nlohmann::json* step = find_scope(profile["scopes"], "step 1: palette");
  ASSERT_NE(step, nullptr) << profile.dump(2);
  ASSERT_TRUE(step->contains("values")) << step->dump(2);
  for (const char* name : {"complexity", "k", "k_max", "stride"}) {
    ASSERT_TRUE((*step)["values"].contains(name)) << name;
    EXPECT_TRUE((*step)["values"][name].is_number()) << name;
  }
  const double c = (*step)["values"]["complexity"];
  EXPECT_GT(c, 0.0);
  EXPECT_LT(c, 1.0);
  EXPECT_LE((*step)["values"]["k"].get<double>(), (*step)["values"]["k_max"].get<double>());

  const fs::path report_path = dir / "report.jsonl";
  const auto b = run_cli({"batch", (dir / "chain.yaml").string(), "--input", input.string(), "--output",
                          (dir / "batch").string(), "--no-cache", "--report", report_path.string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const test::BatchReport report = test::read_report(report_path);
  ASSERT_EQ(report.inputs.size(), 1u);
  const nlohmann::json& record = report.inputs.front();
  ASSERT_TRUE(record.contains("analyses")) << record.dump(2);
  const nlohmann::json& analysis = record["analyses"].at(0);
  EXPECT_EQ(analysis["step"], 1);
  EXPECT_EQ(analysis["operation"], "palette");
  EXPECT_EQ(analysis["strategy"], "pyramid");
  EXPECT_TRUE(analysis["analysed"].at(0).is_number());
  for (const char* name : {"complexity", "k", "k_max", "stride"})
    EXPECT_TRUE(analysis[name].is_number()) << name;
  // The same image, the same measure, in both runs (the report rounds to 4 decimals).
  EXPECT_NEAR(analysis["complexity"].get<double>(), c, 1e-4);
}
