#pragma once
// Embedded ICC profiles converted to sRGB by lcms2 directly, as libvips's icc_transform
// (8.14, libvips/colour/icc_transform.c) converts a decoded image: one lcms transform from the
// embedded profile to libvips's own sRGB profile, relative colorimetric intent, no black
// point compensation, 8 bits to 8 and 16 to 16, alpha passed through — the same library with
// the same arguments, so the same pixels, without loading libvips.

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <span>
#include <vector>

namespace imgpipe::detail {

// `pixels` (8- or 16-bit RGB or RGBA, as decoded) converted from `profile` to sRGB; nullopt
// when the profile is not one this converts (unreadable, not RGB, without a relative
// colorimetric intent): libvips's transform then (load.cpp), which has fallbacks of its own.
std::optional<cv::Mat> icc_to_srgb(const cv::Mat& pixels, std::span<const std::uint8_t> profile);

// libvips's sRGB profile, which an image converted by icc_to_srgb carries.
std::vector<std::uint8_t> srgb_profile();

}  // namespace imgpipe::detail
