// auto_orient: apply the EXIF orientation the pixels were stored with.
//
// imgpipe::load applies the orientation already (LoadOptions::auto_orient), which is what a
// chain almost always wants; this step is for images loaded with auto_orient off, or built
// in memory with Image::orientation set.

#include "../../core/orientation.hpp"
#include "../builtin.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class AutoOrient final : public Operation {
 public:
  Image apply(const Image& input, const Context&) const override {
    Image out = input.with_pixels(detail::apply_orientation(input.pixels, input.orientation));
    out.orientation = 1;
    return out;
  }
};

}  // namespace

void register_auto_orient(Registry& registry) {
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
