// libimgpipe_cuda.so through its C interface, loaded with dlopen as libimgpipe and
// tools/gpu-check load it (the test links libimgpipe for the CPU reference, never the plugin).
// Without a device the plugin must say why, and every test that needs one is skipped with
// that reason; with one, every kernel's output is compared with the CPU kernel's.

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>

#include "cases.hpp"

#ifndef IMGPIPE_CUDA_PLUGIN
#error "IMGPIPE_CUDA_PLUGIN (the built plugin's path) must be defined"
#endif

namespace imgpipe::test::cuda {
namespace {

// The plugin, loaded once.
class Plugin {
 public:
  static Plugin& get() {
    static Plugin* plugin = new Plugin;
    return *plugin;
  }

  void* handle() const { return handle_; }
  const std::string& problem() const { return problem_; }

  template <typename Function>
  Function function(const char* name) const {
    Function f = nullptr;
    void* address = handle_ ? dlsym(handle_, name) : nullptr;
    std::memcpy(&f, &address, sizeof f);  // object to function pointer (POSIX)
    return f;
  }

 private:
  Plugin() {
    handle_ = dlopen(IMGPIPE_CUDA_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    if (!handle_) problem_ = dlerror();
  }
  void* handle_ = nullptr;
  std::string problem_;
};

#define IMGPIPE_CUDA_CALL(name) \
  Plugin::get().function<decltype(&::imgpipe_cuda_##name)>("imgpipe_cuda_" #name)

// The functions imgpipe_cuda.h declares, read from the header itself (comments left out).
std::set<std::string> declared_functions() {
  std::ifstream file(source_dir() / "lib/cuda/imgpipe_cuda.h");
  std::stringstream text;
  text << file.rdbuf();
  const std::string code = std::regex_replace(text.str(), std::regex(R"(/\*[\s\S]*?\*/)"), " ");
  const std::regex declaration(R"(\b(imgpipe_cuda_[a-z0-9_]+)\s*\()");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(code.begin(), code.end(), declaration); it != std::sregex_iterator();
       ++it)
    names.insert((*it)[1].str());
  return names;
}

TEST(CudaPlugin, Loads) {
  ASSERT_NE(Plugin::get().handle(), nullptr) << IMGPIPE_CUDA_PLUGIN << ": " << Plugin::get().problem();
}

TEST(CudaPlugin, ExportsEveryFunctionOfTheHeader) {
  ASSERT_NE(Plugin::get().handle(), nullptr) << Plugin::get().problem();
  const std::set<std::string> names = declared_functions();
  EXPECT_GE(names.size(), 23u);  // the management functions and the kernels
  for (const std::string& name : names)
    EXPECT_NE(dlsym(Plugin::get().handle(), name.c_str()), nullptr) << name << " is not exported";
}

TEST(CudaPlugin, HasTheHeadersInterfaceVersion) {
  const auto abi_version = IMGPIPE_CUDA_CALL(abi_version);
  ASSERT_NE(abi_version, nullptr);
  EXPECT_EQ(abi_version(), IMGPIPE_CUDA_ABI_VERSION);
}

// How many devices the plugin sees, and why none when it sees none.
int device_count(std::string& why) {
  char text[512] = {};
  const int count = IMGPIPE_CUDA_CALL(device_count)(text, sizeof text);
  why = text;
  return count;
}

TEST(CudaPlugin, SaysWhyThereIsNoDevice) {
  ASSERT_NE(Plugin::get().handle(), nullptr) << Plugin::get().problem();
  std::string why;
  const int count = device_count(why);
  ASSERT_GE(count, 0);
  if (count == 0) {
    EXPECT_FALSE(why.empty()) << "no device and no reason";
  }
  std::cout << "devices: " << count << (why.empty() ? "" : " (" + why + ")") << "\n";
}

TEST(CudaPlugin, CreateFailsCleanlyWithoutADevice) {
  ASSERT_NE(Plugin::get().handle(), nullptr) << Plugin::get().problem();
  std::string why;
  if (device_count(why) > 0) GTEST_SKIP() << "a device is present, so create() succeeds";
  imgpipe_cuda_context* context = reinterpret_cast<imgpipe_cuda_context*>(&why);  // must be reset to null
  char text[512] = {};
  EXPECT_EQ(IMGPIPE_CUDA_CALL(create)(0, &context, text, sizeof text), IMGPIPE_CUDA_NO_DEVICE);
  EXPECT_EQ(context, nullptr);
  EXPECT_STRNE(text, "");
  // A tiny buffer still gets a terminated (cut) reason.
  char tiny[4] = {'x', 'x', 'x', 'x'};
  EXPECT_EQ(IMGPIPE_CUDA_CALL(device_count)(tiny, sizeof tiny), 0);
  EXPECT_EQ(tiny[3], '\0');
}

TEST(CudaPlugin, RefusesCallsWithoutAContext) {
  ASSERT_NE(Plugin::get().handle(), nullptr) << Plugin::get().problem();
  imgpipe_cuda_image image{};
  EXPECT_EQ(IMGPIPE_CUDA_CALL(alloc)(nullptr, 8, 8, 3, 1, &image), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(gaussian_blur)(nullptr, &image, &image, 2.0), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(resize)(nullptr, &image, &image, 0), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(synchronize)(nullptr), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_STREQ(IMGPIPE_CUDA_CALL(device_name)(nullptr), "");
  IMGPIPE_CUDA_CALL(destroy)(nullptr);
}

// ---- On a device ----

// A context on device 0 for the device tests; skipped, with the plugin's reason, without one.
class OnDevice : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(Plugin::get().handle(), nullptr) << Plugin::get().problem();
    std::string why;
    if (device_count(why) == 0) GTEST_SKIP() << "no CUDA device: " << why;
    char text[512] = {};
    ASSERT_EQ(IMGPIPE_CUDA_CALL(create)(0, &context_, text, sizeof text), IMGPIPE_CUDA_OK) << text;
    const std::string name = IMGPIPE_CUDA_CALL(device_name)(context_);
    ASSERT_FALSE(name.empty()) << "the device has no name";
    std::cout << "device: " << name << "\n";
  }
  void TearDown() override { IMGPIPE_CUDA_CALL(destroy)(context_); }

  std::string error() const { return IMGPIPE_CUDA_CALL(last_error)(context_); }

  // A device image of `host`'s layout, uploaded from it when `upload`.
  imgpipe_cuda_image device_copy(const cv::Mat& host, bool upload) {
    imgpipe_cuda_image image{};
    EXPECT_EQ(IMGPIPE_CUDA_CALL(alloc)(context_, host.cols, host.rows, host.channels(),
                                       static_cast<int>(host.elemSize1()), &image),
              IMGPIPE_CUDA_OK)
        << error();
    const imgpipe_cuda_image from = view(host);
    if (upload) {
      EXPECT_EQ(IMGPIPE_CUDA_CALL(upload)(context_, &from, &image), IMGPIPE_CUDA_OK) << error();
    }
    return image;
  }

  cv::Mat download(const imgpipe_cuda_image& image, int type) {
    cv::Mat host(image.height, image.width, type);
    const imgpipe_cuda_image to = view(host);
    EXPECT_EQ(IMGPIPE_CUDA_CALL(download)(context_, &image, &to), IMGPIPE_CUDA_OK) << error();
    EXPECT_EQ(IMGPIPE_CUDA_CALL(synchronize)(context_), IMGPIPE_CUDA_OK) << error();
    return host;
  }

  // Runs the case's kernel on the device: the output, of the CPU's output's layout.
  cv::Mat run(const Case& c, const cv::Mat& in, const cv::Mat& like) {
    imgpipe_cuda_image src = device_copy(in, true), dst = device_copy(like, false);
    int status = IMGPIPE_CUDA_FAILED;
    switch (c.kernel) {
      case Kernel::gaussian_blur:
        status = IMGPIPE_CUDA_CALL(gaussian_blur)(context_, &src, &dst, c.sigma);
        break;
      case Kernel::sharpen:
        status = IMGPIPE_CUDA_CALL(sharpen)(context_, &src, &dst, c.amount, c.radius, c.threshold);
        break;
      case Kernel::resize: status = IMGPIPE_CUDA_CALL(resize)(context_, &src, &dst, c.interpolation); break;
      case Kernel::flip:
        status = IMGPIPE_CUDA_CALL(flip)(context_, &src, &dst, c.horizontal, c.vertical);
        break;
      case Kernel::rotate90:
        status = IMGPIPE_CUDA_CALL(rotate90)(context_, &src, &dst, c.quarter_turns);
        break;
      case Kernel::crop: {
        const cv::Point at = crop_origin(in.size());
        status = IMGPIPE_CUDA_CALL(crop)(context_, &src, &dst, at.x, at.y);
        break;
      }
      case Kernel::grayscale:
        status = IMGPIPE_CUDA_CALL(grayscale)(context_, &src, &dst, c.weights, c.keep_channels);
        break;
    }
    EXPECT_EQ(status, IMGPIPE_CUDA_OK) << c.name << ": " << error();
    cv::Mat out = download(dst, like.type());
    IMGPIPE_CUDA_CALL(free)(context_, &src);
    IMGPIPE_CUDA_CALL(free)(context_, &dst);
    return out;
  }

  imgpipe_cuda_context* context_ = nullptr;
};

TEST_F(OnDevice, CopiesImagesThereAndBack) {
  const cv::Mat photo = imgpipe::load(test::photo("chelsea.png")).pixels;
  void* pinned = nullptr;
  const std::size_t bytes = photo.total() * photo.elemSize();
  ASSERT_EQ(IMGPIPE_CUDA_CALL(host_alloc)(context_, bytes, &pinned), IMGPIPE_CUDA_OK) << error();
  cv::Mat back(photo.size(), photo.type(), pinned);
  int from = 0, to = 0;
  ASSERT_EQ(IMGPIPE_CUDA_CALL(record)(context_, &from), IMGPIPE_CUDA_OK) << error();
  imgpipe_cuda_image image = device_copy(photo, true);
  const imgpipe_cuda_image host = view(back);
  ASSERT_EQ(IMGPIPE_CUDA_CALL(download)(context_, &image, &host), IMGPIPE_CUDA_OK) << error();
  ASSERT_EQ(IMGPIPE_CUDA_CALL(record)(context_, &to), IMGPIPE_CUDA_OK) << error();
  double ms = -1;
  ASSERT_EQ(IMGPIPE_CUDA_CALL(elapsed_ms)(context_, from, to, &ms), IMGPIPE_CUDA_OK) << error();
  EXPECT_GE(ms, 0.0);
  EXPECT_TRUE(identical(back, photo));
  IMGPIPE_CUDA_CALL(free)(context_, &image);
  IMGPIPE_CUDA_CALL(host_free)(context_, pinned);
}

TEST_F(OnDevice, RefusesBadArguments) {
  const cv::Mat small(8, 8, CV_8UC3, cv::Scalar::all(9));
  imgpipe_cuda_image src = device_copy(small, true), dst = device_copy(cv::Mat(4, 4, CV_8UC3), false);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(gaussian_blur)(context_, &src, &dst, 2.0), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_NE(error().find("gaussian_blur"), std::string::npos) << error();
  EXPECT_EQ(IMGPIPE_CUDA_CALL(gaussian_blur)(context_, &src, &src, 2.0), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(rotate90)(context_, &src, &dst, 4), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_EQ(IMGPIPE_CUDA_CALL(crop)(context_, &src, &dst, 5, 0), IMGPIPE_CUDA_BAD_ARGUMENT);
  EXPECT_NE(error().find("does not fit"), std::string::npos) << error();
  EXPECT_EQ(IMGPIPE_CUDA_CALL(resize)(context_, &src, &dst, 7), IMGPIPE_CUDA_BAD_ARGUMENT);
  double ms = 0;
  EXPECT_EQ(IMGPIPE_CUDA_CALL(elapsed_ms)(context_, 0, 99, &ms), IMGPIPE_CUDA_BAD_ARGUMENT);
  imgpipe_cuda_image none{};
  EXPECT_EQ(IMGPIPE_CUDA_CALL(alloc)(context_, 0, 5, 3, 1, &none), IMGPIPE_CUDA_BAD_ARGUMENT);
  IMGPIPE_CUDA_CALL(free)(context_, &src);
  IMGPIPE_CUDA_CALL(free)(context_, &dst);
}

class Parity : public OnDevice, public testing::WithParamInterface<Case> {};

TEST_P(Parity, MatchesTheCpuKernel) {
  const Case& c = GetParam();
  for (const Input& input : inputs()) {
    SCOPED_TRACE(input.name);
    const cv::Mat want = expected(c, input.pixels);
    const cv::Mat got = run(c, input.pixels, want);
    const Comparison result = compare(got, want);
    std::cout << c.name << " " << input.name << ": max " << result.max_diff << ", " << result.differing
              << " of " << result.samples << " samples differ\n";
    EXPECT_LE(result.max_diff, c.exact ? 0.0 : 1.0);
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, Parity, testing::ValuesIn(cases()), case_name);

}  // namespace
}  // namespace imgpipe::test::cuda
