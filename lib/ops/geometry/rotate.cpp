// rotate: right angles exactly (a transpose and flip, no resampling); any other angle with
// bilinear or bicubic resampling on premultiplied alpha, onto an expanded canvas filled with
// the background colour.

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../builtin.hpp"
#include "../pixels.hpp"
#include "../spec.hpp"

namespace imgpipe::ops {

namespace {

class Rotate final : public Operation {
 public:
  explicit Rotate(const Params& p)
      : angle_(p.number("angle")), background_(p.colour("background")), expand_(p.boolean("expand")) {}

  Image apply(const Image& input, const Context& context) const override {
    // Clockwise degrees, normalised to [0, 360).
    double angle = std::fmod(angle_, 360.0);
    if (angle < 0) angle += 360.0;
    cv::Mat out;
    if (angle == 0) return input;
    if (angle == 90) cv::rotate(input.pixels, out, cv::ROTATE_90_CLOCKWISE);
    else if (angle == 180) cv::rotate(input.pixels, out, cv::ROTATE_180);
    else if (angle == 270) cv::rotate(input.pixels, out, cv::ROTATE_90_COUNTERCLOCKWISE);
    else out = rotate_any(input.pixels, angle, context.quality);
    return input.with_pixels(out);
  }

 private:
  cv::Mat rotate_any(const cv::Mat& src, double angle, QualityPreset quality) const {
    const cv::Mat widened = widen_for(src, background_);
    const cv::Point2f centre((src.cols - 1) / 2.0f, (src.rows - 1) / 2.0f);
    // OpenCV's angle is counter-clockwise; ours is clockwise like every image viewer's.
    cv::Mat m = cv::getRotationMatrix2D(centre, -angle, 1.0);
    cv::Size size = src.size();
    if (expand_) {
      const double rad = angle * CV_PI / 180.0;
      const double c = std::fabs(std::cos(rad)), s = std::fabs(std::sin(rad));
      size = cv::Size(static_cast<int>(std::ceil(src.cols * c + src.rows * s - 1e-9)),
                      static_cast<int>(std::ceil(src.cols * s + src.rows * c - 1e-9)));
      m.at<double>(0, 2) += (size.width - 1) / 2.0 - static_cast<double>(centre.x);
      m.at<double>(1, 2) += (size.height - 1) / 2.0 - static_cast<double>(centre.y);
    }
    const int interpolation =
        quality == QualityPreset::ultra || quality == QualityPreset::high ? cv::INTER_CUBIC : cv::INTER_LINEAR;
    const cv::Scalar fill = to_scalar(background_, widened.channels(), widened.depth());
    return filter_premultiplied(widened, [&](const cv::Mat& in) {
      // The fill goes through premultiplication too: premultiply it here.
      cv::Scalar premultiplied = fill;
      if (has_alpha(in)) {
        const double a = fill[in.channels() - 1] / max_value(widened);
        for (int c = 0; c + 1 < in.channels(); ++c) premultiplied[c] *= a;
      }
      cv::Mat out;
      cv::warpAffine(in, out, m, size, interpolation, cv::BORDER_CONSTANT, premultiplied);
      return out;
    });
  }

  double angle_;
  Colour background_;
  bool expand_;
};

}  // namespace

void register_rotate(Registry& registry) {
  registry.add(OpDescriptor{
      .name = "rotate",
      .family = "geometry",
      .summary = "Rotate clockwise: multiples of 90 degrees exactly, other angles resampled onto the background.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::number("angle", 90.0, -360, 360, "Clockwise angle in degrees."),
              spec::colour("background", "black", "Colour of the corners uncovered by a rotation that is not a right angle (may be transparent)."),
              spec::boolean("expand", true, "Grow the canvas so the whole rotated image fits; false keeps the input size."),
          },
      .create = [](const Params& p) { return std::make_unique<Rotate>(p); },
  });
}

}  // namespace imgpipe::ops
