#pragma once
// What the fuzz targets share: imgpipe::Error is the expected answer to bad input, except
// Error(internal), which means a bug. Anything else thrown escapes to libFuzzer, which reports
// it as a crash ("deadly signal" after std::terminate).
#include <cstdio>
#include <cstdlib>
#include <imgpipe/error.hpp>

namespace imgpipe::fuzz {

template <class F>
void expect_user_errors(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    if (e.category() == ErrorCategory::internal) {
      std::fprintf(stderr, "imgpipe::Error(internal) escaped: %s\n", e.what());
      std::abort();
    }
  }
}

}  // namespace imgpipe::fuzz
