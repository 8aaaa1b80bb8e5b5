#pragma once
// Plugins: shared libraries beside libimgpipe loaded on first use (the cv::dnn model backend,
// the CUDA kernels), so that a process that never needs them never pays for their libraries.

#include <string>

namespace imgpipe::detail {

// A loaded plugin: its handle, or why there is none.
struct Plugin {
  void* handle = nullptr;
  std::string path;     // where it was looked for
  std::string problem;  // when handle is null: why it did not load, naming the file

  // The address of `symbol`, or null (with `problem` set to say so).
  void* symbol(const char* name);
};

// Loads `file_name` (libimgpipe_dnn.so) from IMGPIPE_PLUGIN_DIR, else from the folder
// libimgpipe itself was loaded from (where the build and `cmake --install` put plugins).
Plugin load_plugin(const char* file_name);

}  // namespace imgpipe::detail
