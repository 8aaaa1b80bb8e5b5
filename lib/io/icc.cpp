#include "icc.hpp"

#include <lcms2.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <imgpipe/image.hpp>
#include <iterator>
#include <memory>

namespace imgpipe::detail {

namespace {

constexpr std::uint8_t kSrgbProfile[] = {
#include "srgb_profile.inc"
};

struct ProfileCloser {
  void operator()(void* profile) const { cmsCloseProfile(profile); }
};
struct TransformDeleter {
  void operator()(void* transform) const { cmsDeleteTransform(transform); }
};
using Profile = std::unique_ptr<void, ProfileCloser>;
using Transform = std::unique_ptr<void, TransformDeleter>;

}  // namespace

std::vector<std::uint8_t> srgb_profile() {
  return {std::begin(kSrgbProfile), std::end(kSrgbProfile)};
}

std::optional<cv::Mat> icc_to_srgb(const cv::Mat& pixels, std::span<const std::uint8_t> profile) {
  const int channels = pixels.channels();
  const bool sixteen = pixels.depth() == CV_16U;
  if ((channels != 3 && channels != 4) || (!sixteen && pixels.depth() != CV_8U)) return std::nullopt;
  // libvips's checks on an embedded profile (vips_icc_load_profile_blob); it falls back to its
  // own profile where they fail, which is left to it.
  const Profile in(cmsOpenProfileFromMem(profile.data(), static_cast<cmsUInt32Number>(profile.size())));
  if (!in || cmsGetColorSpace(in.get()) != cmsSigRgbData ||
      !cmsIsIntentSupported(in.get(), INTENT_RELATIVE_COLORIMETRIC, LCMS_USED_AS_INPUT))
    return std::nullopt;
  const Profile out(cmsOpenProfileFromMem(kSrgbProfile, sizeof kSrgbProfile));
  if (!out) return std::nullopt;
  // libvips transforms the three colour bands and passes alpha on: COPY_ALPHA does that in one.
  const cmsUInt32Number type =
      channels == 4 ? (sixteen ? TYPE_RGBA_16 : TYPE_RGBA_8) : (sixteen ? TYPE_RGB_16 : TYPE_RGB_8);
  const cmsUInt32Number flags = cmsFLAGS_NOCACHE | (channels == 4 ? cmsFLAGS_COPY_ALPHA : 0);
  const Transform transform(
      cmsCreateTransform(in.get(), type, out.get(), type, INTENT_RELATIVE_COLORIMETRIC, flags));
  if (!transform) return std::nullopt;
  cv::Mat converted;
  converted.allocator = large_page_allocator();
  converted.create(pixels.size(), pixels.type());
  // NOCACHE makes the transform safe to share between threads.
  tbb::parallel_for(tbb::blocked_range<int>(0, pixels.rows, 64), [&](const tbb::blocked_range<int>& rows) {
    cmsDoTransformLineStride(
        transform.get(), pixels.ptr(rows.begin()), converted.ptr(rows.begin()),
        static_cast<cmsUInt32Number>(pixels.cols), static_cast<cmsUInt32Number>(rows.size()),
        static_cast<cmsUInt32Number>(pixels.step[0]), static_cast<cmsUInt32Number>(converted.step[0]), 0, 0);
  });
  return converted;
}

}  // namespace imgpipe::detail
