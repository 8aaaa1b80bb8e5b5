// border: add a solid border (per side if wanted), or extend the edge pixels outwards.

#include <opencv2/core.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Border final : public Operation {
 public:
  explicit Border(const Params& p) : colour_(p.colour("colour")), mode_(p.text("mode")) {
    const int size = static_cast<int>(p.integer("size"));
    auto side = [&](const char* name) {
      auto v = p.optional_integer(name);
      return v ? static_cast<int>(*v) : size;
    };
    top_ = side("top");
    right_ = side("right");
    bottom_ = side("bottom");
    left_ = side("left");
  }

  Image apply(const Image& input, const Context&) const override {
    cv::Mat out;
    if (mode_ == "colour") {
      cv::Mat widened = widen_for(input.pixels, colour_);
      cv::copyMakeBorder(widened, out, top_, bottom_, left_, right_, cv::BORDER_CONSTANT,
                         to_scalar(colour_, widened.channels(), widened.depth()));
    } else {
      cv::copyMakeBorder(input.pixels, out, top_, bottom_, left_, right_,
                         mode_ == "replicate" ? cv::BORDER_REPLICATE : cv::BORDER_REFLECT_101);
    }
    return input.with_pixels(out);
  }

 private:
  Colour colour_;
  std::string mode_;
  int top_ = 0, right_ = 0, bottom_ = 0, left_ = 0;
};

}  // namespace

void register_border(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "border",
      .family = "compose",
      .summary = "Add a border of a colour, or extend the edges outwards.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::integer("size", 10, 0, 10000, "Border width in pixels on every side not given below."),
              spec::integer("top", {}, 0, 10000, "Top border in pixels (default: size)."),
              spec::integer("right", {}, 0, 10000, "Right border in pixels (default: size)."),
              spec::integer("bottom", {}, 0, 10000, "Bottom border in pixels (default: size)."),
              spec::integer("left", {}, 0, 10000, "Left border in pixels (default: size)."),
              spec::colour("colour", "white", "Border colour for mode colour (may be transparent)."),
              spec::choice("mode", "colour", {"colour", "replicate", "mirror"},
                           "colour fills with the colour; replicate repeats the edge pixels; mirror reflects the image."),
          },
      .create = [](const Params& p) { return std::make_unique<Border>(p); },
  });
}

}  // namespace imgpipe::ops
