// `imgpipe info` and `imgpipe ops` through the real binary.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace imgpipe;
using test::run_cli;
using ::testing::HasSubstr;

namespace {

namespace fs = std::filesystem;

nlohmann::json info_json(const std::vector<std::string>& args, const std::string& stdin_file = "") {
  const auto r = run_cli(args, stdin_file);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  return nlohmann::json::parse(r.out);
}

// The operations every build has, whatever else is registered.
const std::vector<std::string> kFoundationOps = {"resize",      "crop",          "rotate",    "flip",
                                                 "auto_orient", "adjust_colors", "grayscale", "gaussian_blur",
                                                 "sharpen",     "edges",         "border",    "watermark"};

}  // namespace

// Sizes and bands below are those SOURCES.md lists for each photo.
TEST(CliInfo, TextNamesTheFileSizeAndBands) {
  const auto path = test::photo("rocket.jpg");
  const auto r = run_cli({"info", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(r.out, HasSubstr(path.string() + ": jpeg 640x427, 3 bands"));
  EXPECT_THAT(r.out, HasSubstr("8-bit"));
  EXPECT_THAT(r.out, HasSubstr(std::to_string(fs::file_size(path)) + " bytes"));
}

TEST(CliInfo, JsonFieldsMatchThePhotos) {
  const auto rocket_path = test::photo("rocket.jpg");
  const auto rocket = info_json({"info", "--json", rocket_path.string()});
  EXPECT_EQ(rocket["file"], rocket_path.string());
  EXPECT_EQ(rocket["format"], "jpeg");
  EXPECT_EQ(rocket["width"], 640);
  EXPECT_EQ(rocket["height"], 427);
  EXPECT_EQ(rocket["bands"], 3);
  EXPECT_EQ(rocket["bit_depth"], 8);
  EXPECT_EQ(rocket["has_alpha"], false);
  EXPECT_EQ(rocket["pages"], 1);
  EXPECT_EQ(rocket["file_bytes"].get<std::uintmax_t>(), fs::file_size(rocket_path));

  const auto logo = info_json({"info", "--json", test::photo("logo.png").string()});
  EXPECT_EQ(logo["format"], "png");
  EXPECT_EQ(logo["width"], 500);
  EXPECT_EQ(logo["height"], 500);
  EXPECT_EQ(logo["bands"], 4);
  EXPECT_EQ(logo["has_alpha"], true);

  const auto chess = info_json({"info", "--json", test::photo("chessboard_GRAY_U16.tif").string()});
  EXPECT_EQ(chess["format"], "tiff");
  EXPECT_EQ(chess["width"], 200);
  EXPECT_EQ(chess["bands"], 1);
  EXPECT_EQ(chess["bit_depth"], 16);

  const auto gif = info_json({"info", "--json", test::photo("no_time_for_that_tiny.gif").string()});
  EXPECT_EQ(gif["format"], "gif");
  EXPECT_EQ(gif["width"], 14);
  EXPECT_EQ(gif["height"], 25);
  EXPECT_GT(gif["pages"].get<int>(), 1);  // animated
}

TEST(CliInfo, FromStdin) {
  const auto j = info_json({"info", "--json", "-"}, test::photo("chelsea.png").string());
  EXPECT_EQ(j["file"], "<stdin>");
  EXPECT_EQ(j["width"], 451);
  EXPECT_EQ(j["height"], 300);
  const auto r = run_cli({"info", "-"}, test::photo("chelsea.png").string());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("<stdin>: png 451x300"));
}

TEST(CliInfo, BrokenMissingAndEmptyInputsFail) {
  test::TempDir dir;
  test::write_text(dir / "notes.jpg", "these are words, not pixels\n");
  test::write_text(dir / "empty.png", "");
  for (const auto& path : {dir / "notes.jpg", dir / "empty.png", dir / "missing.png"}) {
    const auto r = run_cli({"info", path.string()});
    EXPECT_EQ(r.exit_code, 1) << path;
    EXPECT_EQ(r.out, "") << path;
    EXPECT_THAT(r.err, HasSubstr(path.string()));
  }
  const auto r = run_cli({"info", "-"}, (dir / "notes.jpg").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("<stdin>"));
}

TEST(CliOps, ListsEveryOperation) {
  const auto r = run_cli({"ops"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  // One line an operation, starting with its name; operations added since are listed too.
  const std::string lines = "\n" + r.out;
  for (const auto& name : kFoundationOps) EXPECT_THAT(lines, HasSubstr("\n" + name + " (")) << name;
  for (const auto& name : Registry::global().names())
    EXPECT_THAT(lines, HasSubstr("\n" + name + " (")) << name;
}

TEST(CliOps, OneOperationShowsItsParameters) {
  const auto r = run_cli({"ops", "resize"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("resize (geometry", 0), 0u);
  for (const char* text : {"width", "height", "max_side", "scale", "fit", "kernel", "enlarge", "background",
                           "integer 1..65535", "one of inside, cover, fill, exact", "default \"inside\""})
    EXPECT_THAT(r.out, HasSubstr(text)) << text;
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("gaussian_blur")));
}

TEST(CliOps, JsonDescribesNamesParamsTypesAndDefaults) {
  const auto r = run_cli({"ops", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto all = nlohmann::json::parse(r.out);
  ASSERT_TRUE(all.is_array());
  EXPECT_EQ(all.size(), Registry::global().names().size());
  std::map<std::string, nlohmann::json> by_name;
  for (const auto& op : all) {
    ASSERT_TRUE(op.contains("name"));
    ASSERT_TRUE(op["params"].is_array()) << op["name"];
    for (const auto& p : op["params"]) {
      EXPECT_TRUE(p.contains("name") && p.contains("type") && p.contains("default") && p.contains("doc"))
          << op["name"];
      EXPECT_NE(p["doc"], "") << op["name"] << "." << p["name"];
    }
    by_name[op["name"]] = op;
  }
  for (const auto& name : kFoundationOps) EXPECT_TRUE(by_name.count(name)) << name;
  // Values from resize's and grayscale's documented parameters.
  auto param = [&](const std::string& op, const std::string& name) {
    for (const auto& p : by_name[op]["params"])
      if (p["name"] == name) return p;
    ADD_FAILURE() << op << "." << name << " missing";
    return nlohmann::json();
  };
  EXPECT_EQ(param("resize", "width")["type"], "integer");
  EXPECT_EQ(param("resize", "width")["min"], 1);
  EXPECT_EQ(param("resize", "width")["max"], 65535);
  EXPECT_TRUE(param("resize", "width")["default"].is_null());
  EXPECT_EQ(param("resize", "fit")["type"], "choice");
  EXPECT_EQ(param("resize", "fit")["default"], "inside");
  EXPECT_EQ(param("resize", "fit")["choices"], (nlohmann::json{"inside", "cover", "fill", "exact"}));
  EXPECT_EQ(param("resize", "enlarge")["type"], "boolean");
  EXPECT_EQ(param("gaussian_blur", "sigma")["type"], "number");
  EXPECT_EQ(param("gaussian_blur", "sigma")["default"], 2.0);
  EXPECT_EQ(by_name["resize"]["family"], "geometry");

  const auto one = nlohmann::json::parse(run_cli({"ops", "--json", "flip"}).out);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["name"], "flip");
}

TEST(CliOps, Markdown) {
  const auto r = run_cli({"ops", "--markdown"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("# Operations\n", 0), 0u);
  for (const auto& name : kFoundationOps) {
    EXPECT_THAT(r.out, HasSubstr("\n## " + name + "\n")) << name;
    EXPECT_THAT(r.out, HasSubstr("| [" + name + "](#" + name + ") |")) << name;
  }
  EXPECT_THAT(r.out, HasSubstr("| `width` | integer 1..65535 |"));
  EXPECT_EQ(run_cli({"ops", "--markdown", "--json"}).exit_code, 2);
}

TEST(CliOps, UnknownOperationSuggests) {
  auto r = run_cli({"ops", "resise"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("unknown operation 'resise'"));
  EXPECT_THAT(r.err, HasSubstr("did you mean 'resize'"));
  r = run_cli({"ops", "nosuch"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("unknown operation 'nosuch'"));
  EXPECT_THAT(r.err, HasSubstr("available: "));
}
