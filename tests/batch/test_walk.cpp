// Finding inputs: the glob rules, recursive walks with filters, hidden names, links and loops,
// skipped folders, order, and errors.
#include <gtest/gtest.h>

#include <imgpipe/batch.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;
using imgpipe::test::TempDir;

namespace {

// Creates `relpath` below `root` (and its folders) holding `text`.
void touch(const fs::path& root, const std::string& relpath, const std::string& text = "x") {
  fs::create_directories((root / relpath).parent_path());
  imgpipe::test::write_text(root / relpath, text);
}

std::vector<std::string> relpaths(const std::vector<InputFile>& inputs) {
  std::vector<std::string> names;
  for (const auto& input : inputs) names.push_back(input.relpath.generic_string());
  return names;
}

using Names = std::vector<std::string>;

}  // namespace

// ---- glob_match ----------------------------------------------------------------------------

TEST(Glob, StarAndQuestionStayWithinOneComponent) {
  EXPECT_TRUE(glob_match("a/*.jpg", "a/b.jpg"));
  EXPECT_TRUE(glob_match("a/*.jpg", "a/.jpg"));
  EXPECT_FALSE(glob_match("a/*.jpg", "a/b/c.jpg"));
  EXPECT_FALSE(glob_match("*/x.png", "a/b/x.png"));
  EXPECT_TRUE(glob_match("*/x.png", "a/x.png"));
  EXPECT_TRUE(glob_match("a/?.png", "a/b.png"));
  EXPECT_FALSE(glob_match("a/?.png", "a/bc.png"));
  EXPECT_FALSE(glob_match("a?b/c", "a/b/c"));
  EXPECT_FALSE(glob_match("a*b/c", "a/b/c"));
  EXPECT_TRUE(glob_match("img_*_*.jpg", "img_2024_01.jpg"));
  EXPECT_FALSE(glob_match("img_*_*.jpg", "img_2024.jpg"));
  EXPECT_TRUE(glob_match("*a*a*a", "aaaaaa"));
  EXPECT_FALSE(glob_match("*a*a*a*b", "aaaaaaaaaa"));
}

TEST(Glob, DoubleStarSpansAnyNumberOfComponents) {
  EXPECT_TRUE(glob_match("**/*.jpg", "a.jpg"));
  EXPECT_TRUE(glob_match("**/*.jpg", "a/b.jpg"));
  EXPECT_TRUE(glob_match("**/*.jpg", "a/b/c/d.jpg"));
  EXPECT_FALSE(glob_match("**/*.jpg", "a/b/c/d.png"));
  EXPECT_TRUE(glob_match("raw/**", "raw/a.png"));
  EXPECT_TRUE(glob_match("raw/**", "raw/x/y/a.png"));
  EXPECT_FALSE(glob_match("raw/**", "cooked/a.png"));
  EXPECT_TRUE(glob_match("a/**/b/*.png", "a/b/x.png"));
  EXPECT_TRUE(glob_match("a/**/b/*.png", "a/1/2/b/x.png"));
  EXPECT_FALSE(glob_match("a/**/b/*.png", "a/1/2/c/x.png"));
  EXPECT_TRUE(glob_match("a/**/b/**/c", "a/x/b/y/b/z/c"));
  EXPECT_FALSE(glob_match("a/**/b/**/c", "a/x/b/y/d"));
  EXPECT_TRUE(glob_match("**/2024/**/*.jpg", "trips/2024/beach/img.jpg"));
}

TEST(Glob, Classes) {
  EXPECT_TRUE(glob_match("img[0-9].png", "img7.png"));
  EXPECT_FALSE(glob_match("img[0-9].png", "imgx.png"));
  EXPECT_TRUE(glob_match("[abc].png", "b.png"));
  EXPECT_FALSE(glob_match("[abc].png", "d.png"));
  EXPECT_TRUE(glob_match("[!abc].png", "d.png"));
  EXPECT_FALSE(glob_match("[!abc].png", "a.png"));
  EXPECT_TRUE(glob_match("[]x].png", "].png"));
  EXPECT_TRUE(glob_match("[a-].png", "-.png"));
  // An unclosed class is a plain '['.
  EXPECT_TRUE(glob_match("[ab.png", "[ab.png"));
  EXPECT_FALSE(glob_match("[ab.png", "a.png"));
  // A class never matches the separator.
  EXPECT_FALSE(glob_match("a[/]b", "a/b"));
}

TEST(Glob, PatternWithoutSlashMatchesTheFileNameAlone) {
  EXPECT_TRUE(glob_match("*.jpg", "a/b/c.jpg"));
  EXPECT_TRUE(glob_match("*.jpg", "c.jpg"));
  EXPECT_TRUE(glob_match("c.jpg", "x/y/c.jpg"));
  EXPECT_FALSE(glob_match("y", "x/y/c.jpg"));
  EXPECT_FALSE(glob_match("*.jpg", "a.jpg/b.png"));
  EXPECT_FALSE(glob_match("*.JPG", "a.jpg"));  // case matters
}

// ---- find_inputs ---------------------------------------------------------------------------

TEST(Walk, RecursiveSortedWithDefaultImageExtensions) {
  TempDir dir;
  const fs::path root = dir.path() / "photos";
  for (const char* name : {"b.jpg", "a.PNG", "z/c.webp", "z/notes.txt", "a/b/deep.TIFF", "a.b/x.gif",
                           "README", "x.jpeg", "y.tif", "w.bmp", "v.Jpg"})
    touch(root, name);
  auto inputs = find_inputs({root}, {});
  // Byte order of the '/'-separated relative path: '.' (0x2E) sorts before '/' (0x2F).
  EXPECT_EQ(relpaths(inputs),
            (Names{"a.PNG", "a.b/x.gif", "a/b/deep.TIFF", "b.jpg", "v.Jpg", "x.jpeg", "y.tif", "z/c.webp"}));
  for (const auto& input : inputs) EXPECT_EQ(input.path, root / input.relpath);
}

TEST(Walk, BytesAreTheFileSize) {
  TempDir dir;
  touch(dir.path(), "a.png", std::string(1234, 'x'));
  auto inputs = find_inputs({dir.path()}, {});
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(inputs[0].bytes, 1234u);
}

TEST(Walk, IncludeAndExclude) {
  TempDir dir;
  for (const char* name :
       {"a.jpg", "a.txt", "raw/b.jpg", "raw/c.cr2", "2024/d.jpg", "2024/thumbs/e.jpg", "2024/x/thumbs/f.jpg"})
    touch(dir.path(), name);
  WalkOptions options;
  options.include = {"*.jpg", "*.cr2"};
  options.exclude = {"raw/*.jpg", "**/thumbs/**"};
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, options)), (Names{"2024/d.jpg", "a.jpg", "raw/c.cr2"}));

  // With an include list, only it decides: a .txt can be taken, a .jpg left out.
  WalkOptions text_only;
  text_only.include = {"*.txt"};
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, text_only)), (Names{"a.txt"}));

  // Exclude alone narrows the default image set.
  WalkOptions no_2024;
  no_2024.exclude = {"2024/**"};
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, no_2024)), (Names{"a.jpg", "raw/b.jpg"}));
}

TEST(Walk, HiddenNamesAreSkippedUnlessAsked) {
  TempDir dir;
  for (const char* name : {"a.jpg", ".b.jpg", ".cache/c.jpg", "d/.e.jpg", "d/f.jpg"}) touch(dir.path(), name);
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, {})), (Names{"a.jpg", "d/f.jpg"}));
  WalkOptions options;
  options.hidden = true;
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, options)),
            (Names{".b.jpg", ".cache/c.jpg", "a.jpg", "d/.e.jpg", "d/f.jpg"}));
}

TEST(Walk, LinksAreNotFollowedByDefault) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  touch(root, "a.jpg");
  touch(dir.path(), "elsewhere/b.jpg");
  touch(dir.path(), "c.jpg");
  fs::create_directory_symlink(dir.path() / "elsewhere", root / "linked_dir");
  fs::create_symlink(dir.path() / "c.jpg", root / "linked_file.jpg");
  fs::create_symlink(dir.path() / "missing.jpg", root / "dangling.jpg");
  EXPECT_EQ(relpaths(find_inputs({root}, {})), (Names{"a.jpg"}));

  WalkOptions follow;
  follow.follow_symlinks = true;
  auto inputs = find_inputs({root}, follow);
  EXPECT_EQ(relpaths(inputs), (Names{"a.jpg", "linked_dir/b.jpg", "linked_file.jpg"}));
}

TEST(Walk, RootThatIsALinkIsResolved) {
  TempDir dir;
  touch(dir.path(), "real/a.jpg");
  fs::create_directory_symlink(dir.path() / "real", dir.path() / "link");
  auto inputs = find_inputs({dir.path() / "link"}, {});
  ASSERT_EQ(relpaths(inputs), (Names{"a.jpg"}));
  EXPECT_EQ(inputs[0].path, dir.path() / "link" / "a.jpg");
}

TEST(Walk, LinkLoopEndsAndListsEachFileOnce) {
  TempDir dir;
  const fs::path root = dir.path() / "root";
  touch(root, "a.jpg");
  touch(root, "sub/b.jpg");
  fs::create_directory_symlink("..", root / "sub" / "up");     // sub/up → root: a loop
  fs::create_directory_symlink(root / "sub", root / "again");  // a second path to sub
  fs::create_symlink("a.jpg", root / "z_alias.jpg");           // a second path to a.jpg
  WalkOptions follow;
  follow.follow_symlinks = true;
  auto inputs = find_inputs({root}, follow);
  // "again" sorts before "sub", so sub's files are found through it; a.jpg keeps its own name.
  EXPECT_EQ(relpaths(inputs), (Names{"a.jpg", "again/b.jpg"}));
}

TEST(Walk, FileReachedTwiceThroughTwoRootsIsListedOnce) {
  TempDir dir;
  touch(dir.path(), "photos/a.jpg");
  touch(dir.path(), "photos/sub/b.jpg");
  auto inputs = find_inputs(
      {dir.path() / "photos" / "sub", dir.path() / "photos", dir.path() / "photos" / "a.jpg"}, {});
  // Roots keep their order; each root's files are sorted.
  ASSERT_EQ(relpaths(inputs), (Names{"b.jpg", "a.jpg"}));
  EXPECT_EQ(inputs[0].path, dir.path() / "photos" / "sub" / "b.jpg");
  EXPECT_EQ(inputs[1].path, dir.path() / "photos" / "a.jpg");
}

TEST(Walk, RootsKeepTheirOrder) {
  TempDir dir;
  touch(dir.path(), "b/1.jpg");
  touch(dir.path(), "a/2.jpg");
  touch(dir.path(), "a/1.jpg");
  auto inputs = find_inputs({dir.path() / "b", dir.path() / "a"}, {});
  EXPECT_EQ(relpaths(inputs), (Names{"1.jpg", "1.jpg", "2.jpg"}));
  EXPECT_EQ(inputs[0].path, dir.path() / "b" / "1.jpg");
  EXPECT_EQ(inputs[2].path, dir.path() / "a" / "2.jpg");
}

TEST(Walk, FileGivenDirectlyIsTakenAsIs) {
  TempDir dir;
  touch(dir.path(), "deep/scan.raw", "12345");
  touch(dir.path(), "deep/.hidden.jpg");
  WalkOptions options;
  options.exclude = {"*.raw"};
  auto inputs = find_inputs({dir.path() / "deep" / "scan.raw", dir.path() / "deep" / ".hidden.jpg"}, options);
  ASSERT_EQ(relpaths(inputs), (Names{"scan.raw", ".hidden.jpg"}));
  EXPECT_EQ(inputs[0].path, dir.path() / "deep" / "scan.raw");
  EXPECT_EQ(inputs[0].bytes, 5u);
}

TEST(Walk, SkipFoldersAreNeverEntered) {
  TempDir dir;
  touch(dir.path(), "a.jpg");
  touch(dir.path(), "out/a.webp.png");
  touch(dir.path(), "out/nested/b.jpg");
  touch(dir.path(), "keep/c.jpg");
  WalkOptions options;
  // Named another way than the walk reaches it: compared as the same folder, not as text.
  options.skip = {dir.path() / "keep" / ".." / "out", dir.path() / "not-made-yet"};
  EXPECT_EQ(relpaths(find_inputs({dir.path()}, options)), (Names{"a.jpg", "keep/c.jpg"}));
}

TEST(Walk, MissingRootIsAnIoErrorNamingIt) {
  TempDir dir;
  const fs::path missing = dir.path() / "no-such-folder";
  try {
    find_inputs({missing}, {});
    FAIL() << "expected Error(io)";
  } catch (const Error& e) {
    EXPECT_EQ(e.category(), ErrorCategory::io);
    EXPECT_NE(std::string(e.what()).find(missing.string()), std::string::npos) << e.what();
  }
}

TEST(Walk, EmptyFolderGivesNothing) {
  TempDir dir;
  EXPECT_TRUE(find_inputs({dir.path()}, {}).empty());
}
