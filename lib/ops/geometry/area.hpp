#pragma once
// Area-averaging downscale (OpenCV's INTER_AREA weights), shared by resize's whole-image and
// region forms.

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <utility>
#include <vector>

namespace imgpipe::ops {

// The weights along one axis. Each output pixel averages the input cells it covers, partial
// cells by their covered fraction (computeResizeAreaTab in OpenCV's imgproc/resize.cpp), kept
// twice: in float as OpenCV keeps them, for images in float; and in fixed point, every output
// reading the same number of inputs, for 8-bit images.
class AreaTable {
 public:
  AreaTable(int source_size, int target_size);

  struct Tap {
    int source;
    float weight;
  };
  // The float taps of output i.
  std::pair<const Tap*, const Tap*> taps(int i) const {
    const auto at = static_cast<std::size_t>(i);
    return {taps_.data() + first_[at], taps_.data() + first_[at + 1]};
  }

  // The fixed-point form: output i reads inputs [start(i), start(i) + width()) with weights
  // weights(i) in 1/16384, which sum to 16384 exactly; the inputs it does not cover weigh 0.
  int width() const noexcept { return width_; }
  int start(int i) const noexcept { return start_[static_cast<std::size_t>(i)]; }
  const std::int16_t* weights(int i) const noexcept { return &fixed_[static_cast<std::size_t>(i * width_)]; }

  // The inputs [begin, end) that outputs [from, to) read, in either form.
  std::pair<int, int> span(int from, int to) const;

  // Whether every output averages the same whole number of inputs (a 2x, 3x … shrink).
  bool whole_factor() const noexcept { return whole_factor_; }

 private:
  std::vector<Tap> taps_;
  std::vector<std::size_t> first_;  // taps of output i: [first_[i], first_[i + 1])
  int width_ = 0;
  bool whole_factor_ = false;
  std::vector<int> start_;
  std::vector<std::int16_t> fixed_;
};

// Area downscale of 8-bit pixels (any channel count): the output rectangle `want`, in the
// whole downscale's coordinates, into `out` (want's size, the source's type), from `source`,
// whose top-left pixel is input pixel `origin` and which holds at least the inputs span()
// gives for `want`. Whole factors go to OpenCV's vectorised INTER_AREA (each output's inputs
// are then its own cells, so a region of them is exact); other scales to a fixed-point
// kernel (rows averaged first, then columns), within one level of OpenCV's float sums and
// twice as fast as its generic, unvectorised path. The same pixels whatever the region.
void area_downscale_8u(const cv::Mat& source, cv::Point origin, const AreaTable& columns,
                       const AreaTable& rows, const cv::Rect& want, cv::Mat& out);

// cv::resize(src, dst, target, 0, 0, cv::INTER_AREA) of a whole image, 8-bit shrinks by other
// than whole factors through area_downscale_8u in row bands on every core; whole factors,
// other depths and enlargements stay with OpenCV (which splits its work itself).
void area_downscale(cv::InputArray src, cv::OutputArray dst, cv::Size target);

}  // namespace imgpipe::ops
