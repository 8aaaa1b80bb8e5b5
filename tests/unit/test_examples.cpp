// Every registered operation's examples (OpDescriptor::examples): valid parameters, runnable on
// real photos, and shown in docs/operations.md and `imgpipe ops --json` in a form that reads
// back as the same parameters. The benchmarks and the tiled parity test run them too.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;

namespace {

using Example = std::map<std::string, Value, std::less<>>;

// A photo shrunk (area averaging) so that its long side is `side`: small enough for every
// operation to run quickly, large enough for the examples' crops.
Image shrunk_photo(const std::string& name, int side) {
  const Image full = load(test::photo(name));
  const double scale = static_cast<double>(side) / std::max(full.width(), full.height());
  cv::Mat pixels;
  cv::resize(full.pixels, pixels, cv::Size(), scale, scale, cv::INTER_AREA);
  return full.with_pixels(pixels);
}

std::string describe(const OpDescriptor& descriptor, const Example& example) {
  std::string out = descriptor.name + " {";
  for (const auto& [name, value] : example) out += " " + name + "=" + value.to_text();
  return out + " }";
}

// The YAML lines of the operation's examples block in its Markdown reference.
std::vector<std::string> yaml_example_lines(const OpDescriptor& descriptor) {
  const std::string markdown = describe_ops_markdown({&descriptor});
  const std::string open = "```yaml\n";
  const auto start = markdown.find(open);
  if (start == std::string::npos) return {};
  const auto end = markdown.find("```", start + open.size());
  std::istringstream block(markdown.substr(start + open.size(), end - start - open.size()));
  std::vector<std::string> lines;
  for (std::string line; std::getline(block, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST(Examples, EveryExampleValidates) {
  for (const auto& [name, descriptor] : Registry::global().all())
    for (const Example& example : descriptor.examples_or_defaults()) {
      try {
        (void)validate_params(descriptor, example);
      } catch (const Error& e) {
        ADD_FAILURE() << describe(descriptor, example) << ": " << e.what();
      }
    }
}

TEST(Examples, EveryExampleRunsOnRealPhotos) {
  // An RGB photo and an RGBA logo, at sizes that every example's crop fits.
  const std::vector<Image> photos = {shrunk_photo("rocket.jpg", 320),
                                     shrunk_photo("opencv-logo-rgba.png", 160)};
  ASSERT_EQ(photos[1].pixels.channels(), 4);
  for (const auto& [name, descriptor] : Registry::global().all())
    for (const Example& example : descriptor.examples_or_defaults())
      for (const Image& photo : photos) {
        const std::string what = describe(descriptor, example) + " on " + std::to_string(photo.width()) +
                                 "x" + std::to_string(photo.height()) + "x" +
                                 std::to_string(photo.pixels.channels());
        try {
          const auto variants =
              Chain().then(descriptor, validate_params(descriptor, example)).run_variants(photo, Context{});
          ASSERT_FALSE(variants.empty()) << what;
          for (const auto& variant : variants) EXPECT_FALSE(variant.image.pixels.empty()) << what;
        } catch (const std::exception& e) {
          ADD_FAILURE() << what << ": " << e.what();
        }
      }
}

TEST(Examples, TheDocumentedYamlReadsBackAsTheSameParameters) {
  for (const auto& [name, descriptor] : Registry::global().all()) {
    const auto examples = descriptor.examples_or_defaults();
    const auto lines = yaml_example_lines(descriptor);
    ASSERT_EQ(lines.size(), examples.size()) << name << ": " << describe_ops_markdown({&descriptor});
    for (std::size_t i = 0; i < examples.size(); ++i) {
      SCOPED_TRACE(lines[i]);
      const ChainFile file = parse_chain("chain:\n  " + lines[i] + "\n", name + " example");
      ASSERT_EQ(file.chain.steps().size(), 1u);
      EXPECT_EQ(file.chain.steps()[0].descriptor, &descriptor);
      EXPECT_TRUE(file.chain.steps()[0].params.values() == validate_params(descriptor, examples[i]).values());
    }
  }
}

TEST(Examples, JsonListsTheExamples) {
  const auto all = nlohmann::json::parse(describe_ops_json());
  ASSERT_EQ(all.size(), Registry::global().all().size());
  for (const auto& op : all) {
    const OpDescriptor& descriptor = Registry::global().at(op["name"].get<std::string>());
    const auto examples = descriptor.examples_or_defaults();
    ASSERT_TRUE(op["examples"].is_array()) << op["name"];
    ASSERT_EQ(op["examples"].size(), examples.size()) << op["name"];
    for (std::size_t i = 0; i < examples.size(); ++i) {
      EXPECT_EQ(op["examples"][i].size(), examples[i].size()) << op["name"];
      for (const auto& [name, value] : examples[i])
        EXPECT_TRUE(op["examples"][i].contains(name)) << op["name"] << "." << name;
    }
  }
}
