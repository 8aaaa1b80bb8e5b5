#pragma once
// Pixel helpers shared by operations: alpha premultiplication, colours as cv::Scalar,
// widening an image so it can hold a colour (grey → RGB, opaque → with alpha), regions and
// blending. They take cv::InputArray / cv::OutputArray and keep their temporaries of the
// caller's kind, so kernels built on them run on cv::Mat and cv::UMat alike.

#include <functional>
#include <imgpipe/kernels/geometry.hpp>
#include <imgpipe/params.hpp>
#include <opencv2/core/mat.hpp>
#include <type_traits>

namespace imgpipe::ops {

inline bool has_alpha(cv::InputArray m) {
  return m.channels() == 2 || m.channels() == 4;
}
inline int colour_channels(cv::InputArray m) {
  return has_alpha(m) ? m.channels() - 1 : m.channels();
}
inline double max_value(cv::InputArray m) {
  return m.depth() == CV_16U ? 65535.0 : 255.0;
}

// Whether `m` is the one header of a buffer OpenCV allocated, so that changing its pixels
// changes no other image's (a header over someone else's memory has no `u`).
inline bool sole_owner(const cv::Mat& m) {
  return m.u != nullptr && m.u->refcount == 1;
}

// The array as cv::Mat or cv::UMat, whichever `Array` is.
template <typename Array>
Array as_kind(cv::InputArray array) {
  if constexpr (std::is_same_v<Array, cv::UMat>)
    return array.getUMat();
  else
    return array.getMat();
}

// Calls `body` with the array as its own kind (cv::UMat on the OpenCL path, cv::Mat
// otherwise), so that one generic body serves both and its temporaries stay on the device.
// The header `body` gets also holds the input's data while an output that is the same array
// is reallocated, which is what lets kernels run in place: OpenCV's CPU fallback for a
// cv::UMat maps its input while it reallocates its output, and fails if that frees the input.
// For the same reason kernels keep intermediate results in temporaries, not in their output.
template <typename Body>
void with_kind(cv::InputArray array, Body&& body) {
  if (array.isUMat())
    body(array.getUMat());
  else
    body(array.getMat());
}

// A filter from CV_32F to CV_32F, of the same kind of array as it is given.
using ArrayFilter = std::function<void(cv::InputArray, cv::OutputArray)>;

// Runs a filter on colour premultiplied by alpha, so that the colour of transparent pixels
// does not bleed into visible ones; writes the result un-premultiplied at the input depth.
// Images without alpha go straight to the filter (in CV_32F).
void filter_premultiplied(cv::InputArray src, cv::OutputArray dst, const ArrayFilter& filter);
// The same for cv::Mat, returning the result.
cv::Mat filter_premultiplied(const cv::Mat& input, const std::function<cv::Mat(const cv::Mat&)>& filter);

// OpenCV's interpolation flag for a kernel. Area averages only when shrinking; otherwise (and
// for warps, which have no area kernel) it is linear.
int cv_interpolation(kernels::Interpolation kernel, bool shrinking);

// The colour as a Scalar for an image with the given channels and depth.
cv::Scalar to_scalar(const Colour& colour, int channels, int depth);

// Writes `src` widened to `dst`: grey (+ alpha) becomes RGB (+ alpha) when `to_rgb`, and an
// opaque alpha channel is added when `add_alpha` and there is none. Returns false, leaving
// `dst` untouched, when nothing needs widening.
bool widen(cv::InputArray src, cv::OutputArray dst, bool to_rgb, bool add_alpha);
// widen() so that the image can show `colour`: RGB unless the colour is grey, alpha unless
// the colour is opaque.
bool widen_for(cv::InputArray src, cv::OutputArray dst, const Colour& colour);
// `image` as widen_for() would make it: `image` itself when that is enough, else `storage`.
template <typename Array>
const Array& widened_for(const Array& image, Array& storage, const Colour& colour) {
  return widen_for(image, storage, colour) ? storage : image;
}

// Copies a rectangle of `src` (which must lie inside it) to `dst`.
void copy_region(cv::InputArray src, cv::OutputArray dst, cv::Rect region);

// Blends `overlay` (CV_32F with the colour channels of `base`, in the base's value scale)
// over `base` in place (an OutputArray so that a kernel can blend into its own output) at `at` with per-pixel
// `coverage` (CV_32FC1, 0..1, the size of `overlay`); what falls outside `base` is clipped. Colour becomes
// overlay * coverage + colour * (1 - coverage); alpha becomes coverage + alpha * (1 - coverage).
void blend_into(cv::OutputArray base, cv::InputArray overlay, cv::InputArray coverage, cv::Point at);

}  // namespace imgpipe::ops
