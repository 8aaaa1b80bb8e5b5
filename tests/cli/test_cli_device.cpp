// `--device` from the command line: a device that cannot be used ends the command with exit
// code 2 naming what is missing and writes nothing; steps on OpenCL (PoCL here) are reported
// by -v and in the batch report, and the output matches the CPU's.

#include <cstdlib>
#include <imgpipe/device.hpp>

#include "test_support.hpp"

namespace imgpipe::test {
namespace {

// OpenCV uses PoCL (an OpenCL device on the CPU) only when told to; the child gets the same.
const char* const kPocl = "OPENCV_OPENCL_DEVICE=:CPU:";

fs::path chain(const TempDir& dir) {
  const fs::path path = dir / "chain.yml";
  write_text(path, "chain:\n  - resize: {width: 400}\n  - sharpen: {amount: 0.8}\n  - median: {radius: 1}\n");
  return path;
}

TEST(CliDevice, ADeviceThatCannotBeUsedIsExitTwoNamingWhatIsMissingAndWritesNothing) {
  const DeviceStatus& cuda = device_status(Device::cuda);
  if (cuda.usable) GTEST_SKIP() << "a CUDA device is usable here: " << cuda.name;
  TempDir dir;
  const fs::path out = dir / "out.png";
  for (const std::vector<std::string>& how :
       {std::vector<std::string>{"--device", "cuda"}, std::vector<std::string>{}}) {
    std::vector<std::string> args = {"run", chain(dir).string(), photo("rocket.jpg").string(), out.string()};
    args.insert(args.end(), how.begin(), how.end());
    const CommandResult r = run_cli(
        args, "", how.empty() ? std::vector<std::string>{"IMGPIPE_DEVICE=cuda"} : std::vector<std::string>{});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("device cuda: " + cuda.problem), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  // A step's own device, in the chain file: the same, naming the file.
  const fs::path step = dir / "step.yml";
  write_text(step, "chain:\n  - gaussian_blur: {sigma: 2, device: cuda}\n");
  const CommandResult r = run_cli({"run", step.string(), photo("rocket.jpg").string(), out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("device cuda: "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliDevice, StepsOnOpenclAreReportedAndMatchTheCpu) {
  setenv("OPENCV_OPENCL_DEVICE", ":CPU:", 1);
  const DeviceStatus& opencl = device_status(Device::opencl);
  if (!opencl.usable) GTEST_SKIP() << "no OpenCL device: " << opencl.problem;
  TempDir dir;
  const fs::path c = chain(dir), on_cpu = dir / "cpu.png", on_device = dir / "opencl.png";
  const std::string input = photo("rocket.jpg").string();
  CommandResult r =
      run_cli({"run", c.string(), input, on_device.string(), "--device", "opencl", "-v"}, "", {kPocl});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // resize and sharpen on the device in one run; median has no OpenCL path.
  EXPECT_NE(r.err.find("steps 1-2 on opencl (" + opencl.name + "): upload "), std::string::npos) << r.err;
  r = run_cli({"run", c.string(), input, on_cpu.string(), "--device", "cpu", "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find(" on opencl"), std::string::npos) << r.err;
  EXPECT_LE(max_abs_diff(load(on_device).pixels, load(on_cpu).pixels), 1);

  // The batch report says the same for each input.
  const fs::path report = dir / "report.jsonl", folder = dir / "batch";
  r = run_cli({"batch", c.string(), "--input", input, "--output", folder.string(), "--device", "opencl",
               "--no-cache", "--report", report.string()},
              "", {kPocl});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const BatchReport lines = read_report(report);
  ASSERT_EQ(lines.inputs.size(), 1u);
  const nlohmann::json& record = lines.inputs.front();
  ASSERT_TRUE(record.contains("devices")) << record.dump();
  ASSERT_EQ(record["devices"].size(), 1u) << record.dump();
  EXPECT_EQ(record["devices"][0]["steps"], "1-2");
  EXPECT_EQ(record["devices"][0]["device"], "opencl");
  EXPECT_EQ(record["devices"][0]["name"], opencl.name);
  EXPECT_GT(record["devices"][0]["run_ms"].get<double>(), 0.0);
}

}  // namespace
}  // namespace imgpipe::test
