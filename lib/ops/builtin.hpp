#pragma once
#include <imgpipe/operation.hpp>

namespace imgpipe::ops {

// Adds every built-in operation to the registry. Generated at build time from the
// IMGPIPE_REGISTER_OPERATION markers of the operation files (lib/ops/register.hpp).
void register_builtin(Registry& registry);

}  // namespace imgpipe::ops
