#include "region_maps.hpp"

namespace imgpipe::ops {

namespace {

class CropMap final : public RegionMap {
 public:
  CropMap(cv::Rect rect, bool identity) : rect_(rect), identity_(identity) {}
  cv::Size output_size() const override { return rect_.size(); }
  cv::Rect input_rect(const cv::Rect& output) const override { return output + rect_.tl(); }
  void compute(const cv::Mat& in, const cv::Rect&, cv::Mat& out) const override { in.copyTo(out); }
  bool identity() const override { return identity_; }

 private:
  cv::Rect rect_;
  bool identity_;
};

}  // namespace

std::shared_ptr<const RegionMap> identity_map(cv::Size size) {
  return std::make_shared<CropMap>(cv::Rect(cv::Point(0, 0), size), true);
}

std::shared_ptr<const RegionMap> crop_map(cv::Rect rect) {
  return std::make_shared<CropMap>(rect, false);
}

}  // namespace imgpipe::ops
