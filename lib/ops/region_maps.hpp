#pragma once
// Region forms shared by geometry operations (Operation::region_map).

#include <imgpipe/operation.hpp>
#include <memory>

namespace imgpipe::ops {

// The output is the input itself.
std::shared_ptr<const RegionMap> identity_map(cv::Size size);

// The output is the rectangle `rect` of the input.
std::shared_ptr<const RegionMap> crop_map(cv::Rect rect);

}  // namespace imgpipe::ops
