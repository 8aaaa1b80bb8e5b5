// rotate: right angles exactly (a transpose and flip, no resampling); any other angle with
// bilinear or bicubic resampling on premultiplied alpha, onto an expanded canvas filled with
// the background colour.

#include <cmath>
#include <imgpipe/kernels/geometry.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

void rotate_any(cv::InputArray src, cv::OutputArray dst, double angle, const RotateOptions& options) {
  const cv::Size input = src.size();
  const cv::Point2f centre((input.width - 1) / 2.0f, (input.height - 1) / 2.0f);
  // OpenCV's angle is counter-clockwise; ours is clockwise like every image viewer's.
  cv::Mat m = cv::getRotationMatrix2D(centre, -angle, 1.0);
  cv::Size size = input;
  if (options.expand) {
    const double rad = angle * CV_PI / 180.0;
    const double c = std::fabs(std::cos(rad)), s = std::fabs(std::sin(rad));
    // The epsilon keeps a canvas that fits exactly from growing by a pixel of rounding noise.
    size = cv::Size(static_cast<int>(std::ceil(input.width * c + input.height * s - 1e-9)),
                    static_cast<int>(std::ceil(input.width * s + input.height * c - 1e-9)));
    m.at<double>(0, 2) += (size.width - 1) / 2.0 - static_cast<double>(centre.x);
    m.at<double>(1, 2) += (size.height - 1) / 2.0 - static_cast<double>(centre.y);
  }
  const int interpolation = ops::cv_interpolation(options.kernel, false);  // warpAffine has no area kernel
  ops::with_kind(src, [&](auto image) {
    decltype(image) storage;
    const auto& widened = ops::widened_for(image, storage, options.background);
    // The uncovered corners go through premultiplication too, so their fill is premultiplied.
    cv::Scalar fill = ops::to_scalar(options.background, widened.channels(), widened.depth());
    if (ops::has_alpha(widened)) {
      const double alpha = fill[widened.channels() - 1] / ops::max_value(widened);
      for (int c = 0; c < ops::colour_channels(widened); ++c) fill[c] *= alpha;
    }
    ops::filter_premultiplied(widened, dst, [&](cv::InputArray in, cv::OutputArray out) {
      cv::warpAffine(in, out, m, size, interpolation, cv::BORDER_CONSTANT, fill);
    });
  });
}

}  // namespace

void rotate(cv::InputArray src, cv::OutputArray dst, const RotateOptions& options) {
  double angle = std::fmod(options.angle, 360.0);  // normalised to [0, 360)
  if (angle < 0) angle += 360.0;
  // A quarter turn changes the canvas's shape, which expand: false forbids unless it is square.
  const cv::Size size = src.size();
  const bool quarter_fits = options.expand || size.width == size.height;
  ops::with_kind(src, [&](auto image) {
    if (angle == 0)
      image.copyTo(dst);
    else if (angle == 180)
      cv::rotate(image, dst, cv::ROTATE_180);
    else if (angle == 90 && quarter_fits)
      cv::rotate(image, dst, cv::ROTATE_90_CLOCKWISE);
    else if (angle == 270 && quarter_fits)
      cv::rotate(image, dst, cv::ROTATE_90_COUNTERCLOCKWISE);
    else
      rotate_any(image, dst, angle, options);
  });
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Rotate final : public Operation {
 public:
  explicit Rotate(const Params& p)
      : options_{.angle = p.number("angle"),
                 .background = p.colour("background"),
                 .expand = p.boolean("expand")} {}

  // An upper bound, which is what it is for: the canvas that holds the turned image.
  std::optional<cv::Size> output_size(cv::Size in) const override {
    if (!options_.expand) return in;
    const double rad = options_.angle * CV_PI / 180.0;
    const double c = std::fabs(std::cos(rad)), s = std::fabs(std::sin(rad));
    return cv::Size(static_cast<int>(std::ceil(in.width * c + in.height * s - 1e-9)),
                    static_cast<int>(std::ceil(in.width * s + in.height * c - 1e-9)));
  }

  Image apply(const Image& input, const Context& context) const override {
    cv::Mat out;
    kernels::rotate(input.pixels, out, options_for(context.quality));
    return input.with_pixels(out);
  }

  // CUDA: quarter turns onto a canvas of the turned size (expand, or any half turn).
  bool runs_on(Device device, int, int, QualityPreset) const override {
    const int turns = quarter_turns();
    return device == Device::opencl ||
           (device == Device::cuda && turns > 0 && (options_.expand || turns == 2));
  }

  void apply_on(DeviceImage& image, const Context& context) const override {
    if (image.device == Device::opencl) {
      const kernels::RotateOptions options = options_for(context.quality);
      return on_umat(image,
                     [&](cv::InputArray in, cv::OutputArray out) { kernels::rotate(in, out, options); });
    }
    const int turns = quarter_turns();
    const cv::Size size = turns == 2 ? image.size() : cv::Size(image.size().height, image.size().width);
    on_cuda(image, size, image.channels(), "rotate",
            [&](const cuda::Api& api, auto* context_, auto* in, auto* out) {
              return api.rotate90(context_, in, out, turns);
            });
  }

 private:
  kernels::RotateOptions options_for(QualityPreset quality) const {
    kernels::RotateOptions options = options_;
    options.kernel = quality == QualityPreset::ultra || quality == QualityPreset::high
                         ? kernels::Interpolation::cubic
                         : kernels::Interpolation::linear;
    return options;
  }

  // 1, 2 or 3 for a clockwise quarter, half or three-quarter turn; 0 for any other angle.
  int quarter_turns() const {
    double angle = std::fmod(options_.angle, 360.0);
    if (angle < 0) angle += 360.0;
    return angle == 90 ? 1 : angle == 180 ? 2 : angle == 270 ? 3 : 0;
  }

  kernels::RotateOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(rotate) {
  registry.add(OpDescriptor{
      .name = "rotate",
      .family = "geometry",
      .summary =
          "Rotate clockwise: multiples of 90 degrees exactly, other angles resampled onto the background.",
      .footprint = Footprint::geometry,
      .params =
          {
              spec::number("angle", 90.0, -360, 360, "Clockwise angle in degrees."),
              spec::colour("background", "black",
                           "Colour of the corners uncovered by a rotation that is not a right angle (may be "
                           "transparent)."),
              spec::boolean("expand", true,
                            "Grow the canvas so the whole rotated image fits; false keeps the input size."),
          },
      .examples =
          {
              {{"angle", 90.0}},
              {{"angle", -2.5}, {"expand", false}},
              {{"angle", 30.0}, {"background", "transparent"}},
          },
      // options_for() above; right angles are exact at every preset.
      .presets = {.ultra = "angles other than right angles: cubic interpolation",
                  .high = "cubic",
                  .balanced = "linear",
                  .fast = "linear",
                  .draft = "linear"},
      .create = [](const Params& p) { return std::make_unique<Rotate>(p); },
  });
}

}  // namespace imgpipe::ops
