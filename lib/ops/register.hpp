#pragma once
// The registration marker of an operation's file. In lib/ops/<family>/<file>.cpp, inside
// namespace imgpipe::ops and at the start of a line:
//
//   IMGPIPE_REGISTER_OPERATION(median) {
//     registry.add(OpDescriptor{.name = "median", ...});
//   }
//
// declares and defines `void register_median(Registry& registry)`. The build scans
// lib/ops/**/*.cpp for the marker (cmake/GenerateRegistration.cmake) and generates the
// register_builtin() that calls every one, sorted by name, so adding an operation is adding its
// file. It is an explicit call, not a static object that registers itself, because a linker
// leaves out of a static libimgpipe every object file nothing refers to, and its constructors
// with it.

#include <imgpipe/operation.hpp>

#define IMGPIPE_REGISTER_OPERATION(name)               \
  void register_##name(::imgpipe::Registry& registry); \
  void register_##name(::imgpipe::Registry& registry)
