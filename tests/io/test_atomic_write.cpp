// Atomic writes: a complete file or none, permissions from the umask, no temporary files
// left behind, existing files replaced in one step.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <thread>

#include "test_support.hpp"

using namespace imgpipe;
namespace fs = std::filesystem;

namespace {

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return bytes;
}

mode_t mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 0777;
}

// Sets the process umask for the scope of one test.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(previous_); }

 private:
  mode_t previous_;
};

TEST(AtomicWrite, WritesTheBytesAndNothingElse) {
  test::TempDir dir;
  const auto bytes = pattern(300000, 7);
  write_file_atomic(dir / "out.bin", bytes);
  EXPECT_EQ(test::read_file(dir / "out.bin"), bytes);
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"out.bin"});

  write_file_atomic(dir / "synced.bin", bytes, /*fsync=*/true);
  EXPECT_EQ(test::read_file(dir / "synced.bin"), bytes);
  write_file_atomic(dir / "empty.bin", {});
  EXPECT_EQ(fs::file_size(dir / "empty.bin"), 0u);
  EXPECT_EQ(test::entries(dir.path()), (std::vector<std::string>{"empty.bin", "out.bin", "synced.bin"}));
}

TEST(AtomicWrite, PermissionsFollowTheUmask) {
  test::TempDir dir;
  for (const auto& [mask, expected] :
       {std::pair<mode_t, mode_t>{022, 0644}, {027, 0640}, {077, 0600}, {0, 0666}}) {
    ScopedUmask scoped(mask);
    const auto path = dir / ("mode" + std::to_string(mask) + ".bin");
    write_file_atomic(path, pattern(10, 1));
    EXPECT_EQ(mode_of(path), expected) << "umask " << std::oct << mask;
  }
}

TEST(AtomicWrite, ReplacesAnExistingFileInOneStep) {
  test::TempDir dir;
  const auto path = dir / "photo.png";
  const auto old_bytes = pattern(5000, 1), new_bytes = pattern(3000, 2);
  write_file_atomic(path, old_bytes);
  // A reader that opened the old file keeps reading the old file, whole: the new one is a
  // different inode renamed over the name, never the old one truncated and rewritten.
  std::ifstream reader(path, std::ios::binary);
  struct stat before {};
  ASSERT_EQ(::stat(path.c_str(), &before), 0);

  write_file_atomic(path, new_bytes);
  EXPECT_EQ(test::read_file(path), new_bytes);
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_NE(before.st_ino, after.st_ino);
  std::vector<std::uint8_t> seen((std::istreambuf_iterator<char>(reader)), std::istreambuf_iterator<char>());
  EXPECT_EQ(seen, old_bytes);
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"photo.png"});
}

TEST(AtomicWrite, ConcurrentWritersLeaveOneCompleteFile) {
  test::TempDir dir;
  const auto path = dir / "shared.bin";
  std::vector<std::vector<std::uint8_t>> contents;
  for (int i = 0; i < 4; ++i)
    contents.push_back(pattern(200000 + static_cast<std::size_t>(i) * 1000, static_cast<std::uint8_t>(i)));
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i)
    writers.emplace_back([&, i] {
      for (int round = 0; round < 5; ++round) write_file_atomic(path, contents[static_cast<std::size_t>(i)]);
    });
  for (auto& t : writers) t.join();
  const auto final_bytes = test::read_file(path);
  EXPECT_NE(std::find(contents.begin(), contents.end(), final_bytes), contents.end())
      << "the file is exactly one writer's bytes, never a mix";
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"shared.bin"});
}

TEST(AtomicWrite, FailuresLeaveNoFileAndNoTemporary) {
  test::TempDir dir;
  const auto bytes = pattern(100, 3);
  auto expect_io_error = [&](const fs::path& path) {
    try {
      write_file_atomic(path, bytes);
      ADD_FAILURE() << "no error writing " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.category(), ErrorCategory::io);
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
  };
  expect_io_error(dir / "no-such-folder" / "out.bin");  // the directory is missing
  test::write_text(dir / "plain-file", "x");
  expect_io_error(dir / "plain-file" / "out.bin");  // a file where a directory should be
  fs::create_directory(dir / "occupied");
  expect_io_error(dir / "occupied");  // the target is a directory: the rename fails
  EXPECT_EQ(test::entries(dir.path()), (std::vector<std::string>{"occupied", "plain-file"}));
  EXPECT_TRUE(fs::is_empty(dir / "occupied"));
}

TEST(AtomicWrite, AFailedWriteHalfwayRemovesTheTemporary) {
  test::TempDir dir;
  const auto path = dir / "big.bin";
  write_file_atomic(path, pattern(100, 9));  // an older version that must survive
  // Limit the size of files this process may write: write() then fails part way (EFBIG)
  // instead of raising SIGXFSZ, which is ignored for the test.
  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto previous_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = saved;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool failed = false;
  try {
    write_file_atomic(path, pattern(100000, 4));
  } catch (const Error& e) {
    failed = true;
    EXPECT_EQ(e.category(), ErrorCategory::io);
    EXPECT_NE(std::string(e.what()).find("write failed"), std::string::npos) << e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);
  EXPECT_TRUE(failed);
  EXPECT_EQ(test::read_file(path), pattern(100, 9));
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"big.bin"});
}

TEST(AtomicWrite, LongFileNamesAndRelativePaths) {
  test::TempDir dir;
  const std::string long_name = std::string(250, 'n') + ".png";  // 254 characters, NAME_MAX 255
  write_file_atomic(dir / long_name, pattern(64, 5));
  EXPECT_EQ(test::read_file(dir / long_name), pattern(64, 5));
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{long_name});

  // A bare file name goes to the working directory.
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  write_file_atomic("bare.bin", pattern(8, 6));
  fs::current_path(previous);
  EXPECT_EQ(test::read_file(dir / "bare.bin"), pattern(8, 6));
}

TEST(Save, WritesADecodableFileAtomically) {
  test::TempDir dir;
  const auto path = dir / "out.png";
  test::write_text(path, "an older, different file");
  const Image image(test::make_image(64, 48, 4, CV_16U));
  SaveOptions options;
  options.format = Format::png;
  save(image, path, options);
  EXPECT_TRUE(test::identical(load(path).pixels, image.pixels));
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"out.png"});
}

TEST(Save, AnEncodeErrorLeavesTheOldFileAlone) {
  test::TempDir dir;
  const auto path = dir / "out.tif";
  test::write_text(path, "previous");
  SaveOptions options;
  options.format = Format::tiff;
  options.tiff_compression = "jpeg";  // cannot hold 16-bit
  EXPECT_THROW(save(Image(test::make_image(8, 8, 3, CV_16U)), path, options), Error);
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "previous");
  EXPECT_EQ(test::entries(dir.path()), std::vector<std::string>{"out.tif"});
}

}  // namespace
