// Which files a chain's steps may read (FileAccess, include/imgpipe/chain.hpp): an untrusted
// chain reads only regular files under its allowed folders, whatever "..", symbolic links or
// relative parts its paths hold, and no message quotes what a refused file contains.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <map>
#include <string>

#include "test_support.hpp"

using namespace imgpipe;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

namespace fs = std::filesystem;

const char* const kPalette = R"({"warm": ["#2b1d0e", "#a0522d", "#ffd39b"]})";

std::string palette_chain(const fs::path& palettes) {
  return fmt::format("chain:\n  - palette: {{palettes: \"{}\", k: 4}}\n", palettes.string());
}

// The config error parsing `yaml` gives with `access`, or "" when it loads.
std::string refusal(const std::string& yaml, const FileAccess& access) {
  try {
    parse_chain(yaml, "chain.yaml", access);
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::config) << e.what();
    return e.what();
  }
  return {};
}

struct Folders {
  test::TempDir dir;
  fs::path allowed = dir / "allowed", outside = dir / "outside";
  Folders() {
    fs::create_directories(allowed / "sub");
    fs::create_directories(outside);
    test::write_text(allowed / "sub" / "warm.json", kPalette);
    test::write_text(outside / "secret.txt", "root:x:0:0:SECRET-LINE\n");
    test::write_text(outside / "warm.json", kPalette);
  }
  FileAccess access() const { return {.untrusted = true, .allowed = {allowed}}; }
};

}  // namespace

TEST(FileAccess, TrustedChainsReadAnyRegularFile) {
  Folders f;
  EXPECT_EQ(refusal(palette_chain(f.outside / "warm.json"), {}), "");
  // A file that is no palette: refused by line, without quoting the line.
  const std::string message = refusal(palette_chain(f.outside / "secret.txt"), {});
  EXPECT_THAT(message, HasSubstr("secret.txt:1"));
  EXPECT_THAT(message, Not(HasSubstr("SECRET")));
}

TEST(FileAccess, UntrustedChainsReadOnlyUnderAllowedFolders) {
  Folders f;
  const ChainFile file =
      parse_chain(palette_chain(f.allowed / "sub" / "warm.json"), "chain.yaml", f.access());
  ASSERT_EQ(file.chain.steps().size(), 1u);
  // The step reads the resolved path.
  EXPECT_EQ(file.chain.steps()[0].params.text("palettes"),
            fs::canonical(f.allowed / "sub" / "warm.json").string());

  for (const fs::path& path : {f.outside / "warm.json", f.outside / "secret.txt", fs::path("/etc/passwd")}) {
    const std::string message = refusal(palette_chain(path), f.access());
    EXPECT_THAT(message, HasSubstr("outside the folders an untrusted chain may read")) << path;
    EXPECT_THAT(message, HasSubstr("palette.palettes"));
    EXPECT_THAT(message, Not(HasSubstr("SECRET")));
    EXPECT_THAT(message, Not(HasSubstr("root:")));
  }
}

TEST(FileAccess, DotDotSymlinkEscapesAndNonFilesAreRefused) {
  Folders f;
  // ".." is refused even where it would stay inside.
  EXPECT_THAT(refusal(palette_chain(f.allowed / "sub" / ".." / "sub" / "warm.json"), f.access()),
              HasSubstr("\"..\""));
  // A link inside the allowed folder to a file outside it.
  fs::create_symlink(f.outside / "warm.json", f.allowed / "link.json");
  EXPECT_THAT(refusal(palette_chain(f.allowed / "link.json"), f.access()), HasSubstr("outside the folders"));
  // A link to a folder outside.
  fs::create_directory_symlink(f.outside, f.allowed / "linked");
  EXPECT_THAT(refusal(palette_chain(f.allowed / "linked" / "warm.json"), f.access()),
              HasSubstr("outside the folders"));
  // A link that stays inside is followed.
  fs::create_symlink(f.allowed / "sub" / "warm.json", f.allowed / "inside.json");
  EXPECT_EQ(refusal(palette_chain(f.allowed / "inside.json"), f.access()), "");
  // A folder, a missing file, a device allowed by its folder.
  EXPECT_THAT(refusal(palette_chain(f.allowed / "sub"), f.access()), HasSubstr("not a regular file"));
  EXPECT_THAT(refusal(palette_chain(f.allowed / "missing.json"), f.access()), HasSubstr("cannot open"));
  EXPECT_THAT(refusal(palette_chain("/dev/zero"), {.untrusted = true, .allowed = {"/dev"}}),
              HasSubstr("not a regular file"));
  // A folder named like the allowed one but beside it is not inside it.
  fs::create_directories(f.dir / "allowed2");
  test::write_text(f.dir / "allowed2" / "warm.json", kPalette);
  EXPECT_THAT(refusal(palette_chain(f.dir / "allowed2" / "warm.json"), f.access()),
              HasSubstr("outside the folders"));
}

TEST(FileAccess, NoFolderAllowedMeansNoFileAndEveryPathParameterIsChecked) {
  Folders f;
  const FileAccess none{.untrusted = true, .allowed = {}};
  EXPECT_THAT(refusal(palette_chain(f.allowed / "sub" / "warm.json"), none),
              HasSubstr("may read no file unless a folder is allowed"));
  // The other parameters that name files: a watermark image, a palette mask, a model.
  const std::string outside = (f.outside / "secret.txt").string();
  for (const std::string& step :
       {fmt::format("watermark: {{image: \"{}\"}}", outside),
        fmt::format("palette: {{colors: \"#000,#fff\", mask: \"{}\"}}", outside),
        fmt::format("remove_background: {{mode: model, model: \"{}\"}}", outside)}) {
    const std::string message = refusal("chain:\n  - " + step + "\n", f.access());
    EXPECT_THAT(message, HasSubstr("outside the folders")) << step;
    EXPECT_THAT(message, Not(HasSubstr("SECRET"))) << step;
  }
  // Words that are not paths pass: mask alpha and none, palettes centers, inline colours.
  EXPECT_EQ(refusal("chain:\n  - palette: {colors: \"#000,#fff\", mask: none}\n", none), "");
  EXPECT_EQ(refusal("chain:\n  - palette: {palettes: centers}\n", none), "");
  EXPECT_EQ(refusal("chain:\n  - watermark: {text: hello}\n", none), "");
}

TEST(FileAccess, TheChainBuiltInCxxChecksToo) {
  Folders f;
  Chain chain(f.access());
  EXPECT_NO_THROW(chain.then("palette", {{"palettes", (f.allowed / "sub" / "warm.json").string()}}));
  const std::string message = test::config_error([&] {
    chain.then("palette", {{"palettes", (f.outside / "warm.json").string()}});
  });
  EXPECT_THAT(message, HasSubstr("outside the folders"));
}

TEST(FileAccess, FromTheEnvironment) {
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_FALSE(file_access_from_environment(getenv).untrusted);
  env["IMGPIPE_UNTRUSTED"] = "1";
  EXPECT_TRUE(file_access_from_environment(getenv).untrusted);
  env["IMGPIPE_UNTRUSTED"] = "0";
  env["IMGPIPE_ALLOW_PATHS"] = "/srv/palettes::/srv/marks";
  const FileAccess access = file_access_from_environment(getenv);
  EXPECT_TRUE(access.untrusted);  // a folder implies untrusted
  EXPECT_EQ(access.allowed, (std::vector<fs::path>{"/srv/palettes", "/srv/marks"}));
  env["IMGPIPE_UNTRUSTED"] = "maybe";
  EXPECT_THAT(test::config_error([&] { file_access_from_environment(getenv); }),
              HasSubstr("IMGPIPE_UNTRUSTED"));
}
