// auto_orient: apply the EXIF orientation the pixels were stored with.
//
// imgpipe::load applies the orientation already (LoadOptions::auto_orient), which is what a
// chain almost always wants; this step is for images loaded with auto_orient off, or built
// in memory with Image::orientation set.

#include <imgpipe/kernels/geometry.hpp>

#include "../../core/orientation.hpp"
#include "../region_maps.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

void auto_orient(cv::InputArray src, cv::OutputArray dst, const AutoOrientOptions& options) {
  if (options.orientation < 2 || options.orientation > 8) return src.copyTo(dst);
  // The mapping of a cv::UMat input ends with this statement, before dst is written.
  const cv::Mat upright = detail::apply_orientation(src.getMat(), options.orientation);
  dst.assign(upright);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class AutoOrient final : public Operation {
 public:
  Image apply(const Image& input, const Context&) const override {
    cv::Mat upright;
    kernels::auto_orient(input.pixels, upright, {.orientation = input.orientation});
    Image out = input.with_pixels(upright);
    out.orientation = 1;
    return out;
  }

  // Schedules that work on regions get images that their loader has made upright already.
  RegionMapping region_map(cv::Size input, QualityPreset) const override { return {identity_map(input), {}}; }
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(auto_orient) {
  registry.add(OpDescriptor{
      .name = "auto_orient",
      .family = "geometry",
      .summary = "Make the image upright from its EXIF orientation (already done on load unless turned off).",
      .footprint = Footprint::geometry,
      .params = {},
      .create = [](const Params&) { return std::make_unique<AutoOrient>(); },
  });
}

}  // namespace imgpipe::ops
