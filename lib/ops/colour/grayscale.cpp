// grayscale: luma from RGB with Rec. 709 (default) or Rec. 601 weights, or the plain mean.
// Alpha is kept (RGBA → grey + alpha). With keep_channels the grey is written to all three
// colour channels, for outputs that must stay RGB.

#include <fmt/format.h>

#include <array>
#include <imgpipe/kernels/colour.hpp>
#include <opencv2/core.hpp>
#include <vector>

#include "../device_ops.hpp"
#include "../pixels.hpp"
#include "../register.hpp"
#include "../spec.hpp"

namespace imgpipe::kernels {

namespace {

std::array<float, 3> luma_weights(LumaWeights weights) {
  return weights == LumaWeights::rec601    ? std::array{0.299f, 0.587f, 0.114f}
         : weights == LumaWeights::average ? std::array{1 / 3.0f, 1 / 3.0f, 1 / 3.0f}
                                           : std::array{0.2126f, 0.7152f, 0.0722f};
}

// grayscale() per pixel in OpenCL C, as cv::transform's per-pixel path computes it: the weighted
// sum in float, left to right without fused multiply-adds, rounded to nearest (ties to even) and
// saturated. T, CN (input channels) and OUT (output colour channels: 1, or 3 for keep_channels)
// come as -D options; alpha is copied.
constexpr const char* kGreySource = R"CL(
#pragma OPENCL FP_CONTRACT OFF
__kernel void grayscale(__global const uchar* src, int src_step, int src_offset,
                        __global uchar* dst, int dst_step, int dst_offset, int rows, int cols,
                        float w0, float w1, float w2) {
  const int x = get_global_id(0), y = get_global_id(1);
  if (x >= cols || y >= rows) return;
  __global const T* s = (__global const T*)(src + src_offset + y * src_step) + x * CN;
  __global T* d = (__global T*)(dst + dst_offset + y * dst_step) + x * (OUT + CN - 3);
  const float v = w0 * (float)s[0] + w1 * (float)s[1] + w2 * (float)s[2];
  const T grey = CONVERT(v);
  for (int c = 0; c < OUT; ++c) d[c] = grey;
  if (CN == 4) d[OUT] = s[3];
}
)CL";

// grayscale() on OpenCL with imgpipe's own kernel (cv::transform has no OpenCL path).
void grayscale_opencl(const cv::UMat& src, cv::UMat& dst, const GrayscaleOptions& options) {
  const std::array<float, 3> w = luma_weights(options.weights);
  const int out_colour = options.keep_channels ? 3 : 1;
  const bool wide = src.depth() == CV_16U;
  static const cv::ocl::ProgramSource source(kGreySource);
  const std::string build =
      fmt::format("-D T={} -D CONVERT={} -D CN={} -D OUT={}", wide ? "ushort" : "uchar",
                  wide ? "convert_ushort_sat_rte" : "convert_uchar_sat_rte", src.channels(), out_colour);
  dst.create(src.size(), CV_MAKETYPE(src.depth(), out_colour + (src.channels() == 4 ? 1 : 0)));
  ops::run_opencl_kernel("grayscale", source, build, src, dst, w[0], w[1], w[2]);
}

}  // namespace

void grayscale(cv::InputArray src, cv::OutputArray dst, const GrayscaleOptions& options) {
  if (ops::colour_channels(src) == 1) return src.copyTo(dst);
  const bool alpha = ops::has_alpha(src);
  const std::array<float, 3> weights = luma_weights(options.weights);
  // One output channel: cv::transform's per-pixel path, the same at every position (its SIMD
  // path for 3 → 3 channels rounds the row's tail differently, so a tile would differ from the
  // whole image by one level). Copies of the grey and the untouched alpha are merged after.
  cv::Mat m = cv::Mat::zeros(1, src.channels(), CV_32F);
  for (int c = 0; c < 3; ++c) m.at<float>(0, c) = weights[static_cast<std::size_t>(c)];
  cv::Mat grey;
  cv::transform(src, grey, m);
  if (!options.keep_channels && !alpha) {
    dst.assign(grey);
    return;
  }
  std::vector<cv::Mat> planes(options.keep_channels ? 3 : 1, grey);
  if (alpha) {
    planes.emplace_back();
    cv::extractChannel(src, planes.back(), 3);
  }
  cv::merge(planes, dst);
}

}  // namespace imgpipe::kernels

namespace imgpipe::ops {

namespace {

class Grayscale final : public Operation {
 public:
  explicit Grayscale(const Params& p) {
    const auto& w = p.text("weights");
    options_.weights = w == "rec601"    ? kernels::LumaWeights::rec601
                       : w == "average" ? kernels::LumaWeights::average
                                        : kernels::LumaWeights::rec709;
    options_.keep_channels = p.boolean("keep_channels");
  }

  Image apply(const Image& input, const Context&) const override {
    if (input.colour_channels() == 1) return input;
    cv::Mat out;
    kernels::grayscale(input.pixels, out, options_);
    return input.with_pixels(out);
  }

  bool runs_on(Device device, int channels, int, QualityPreset) const override {
    return channels >= 3 && (device == Device::opencl || device == Device::cuda);
  }

  void apply_on(DeviceImage& image, const Context&) const override {
    if (image.device == Device::opencl) {
      cv::UMat out;
      kernels::grayscale_opencl(image.umat, out, options_);
      image.umat = std::move(out);
      return;
    }
    const int alpha = image.channels() == 4 ? 1 : 0;
    on_cuda(image, image.size(), (options_.keep_channels ? 3 : 1) + alpha, "grayscale",
            [&](const cuda::Api& api, auto* context, auto* in, auto* out) {
              return api.grayscale(context, in, out, static_cast<int>(options_.weights),
                                   options_.keep_channels);
            });
  }

 private:
  kernels::GrayscaleOptions options_;
};

}  // namespace

IMGPIPE_REGISTER_OPERATION(grayscale) {
  registry.add(OpDescriptor{
      .name = "grayscale",
      .family = "colour",
      .summary = "Convert to grey (luma), keeping alpha.",
      .footprint = Footprint::point,
      .params =
          {
              spec::choice("weights", "rec709", {"rec709", "rec601", "average"},
                           "Luma weights: Rec. 709 (sRGB primaries), Rec. 601 (as OpenCV's COLOR_RGB2GRAY), "
                           "or the plain mean."),
              spec::boolean("keep_channels", false, "Write the grey to three RGB channels instead of one."),
          },
      .examples = {{{"weights", "rec709"}}, {{"weights", "rec601"}, {"keep_channels", true}}},
      .create = [](const Params& p) { return std::make_unique<Grayscale>(p); },
  });
}

}  // namespace imgpipe::ops
