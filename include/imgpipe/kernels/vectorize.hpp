#pragma once
/// \file
/// Vectorize: an image's colour regions as SVG.
///
/// ```cpp
/// std::string svg = imgpipe::kernels::vectorize(imgpipe::load("photo.jpg"), {.colors = 12});
/// ```
///
/// The colours are clustered with the palette engine (imgpipe::cluster, Lab k-means), every
/// cluster's regions are traced with cv::findContours (RETR_CCOMP, so holes are kept), the
/// outlines are simplified with cv::approxPolyDP and optionally smoothed into cubic Béziers
/// (Catmull-Rom through the simplified points).
///
/// The SVG: viewBox "0 0 W H" and width/height of the image's size; a background rectangle in
/// the most frequent colour (when some pixels are left out, the outline of the drawn pixels
/// instead, as that colour's first path); then one
/// `<g fill="#rrggbb">` per colour, most frequent colour first, holding one `<path>` per region (an
/// outer outline and its holes, fill-rule evenodd), larger regions first. Outlines run through
/// the centres of a region's edge pixels and every group is stroked with its own colour, 1 px
/// wide with mitred joins: the stroke reaches out half a pixel, to the pixel edges, so
/// neighbouring regions meet without hairline gaps. A region of one pixel, or one pixel wide,
/// is written as a thin quadrilateral that the stroke widens to its pixels.
///
/// Pixels the clustering leaves out (alpha < 128, see ClusterOptions::mask) get no path. The
/// input may be grey, grey + alpha, RGB or RGBA, 8- or 16-bit (16-bit is clustered on its high
/// byte, as cluster() does).

#include <cstdint>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/palette.hpp>
#include <opencv2/core/mat.hpp>
#include <string>

namespace imgpipe::kernels {

/// The settings of vectorize().
struct VectorizeOptions {
  int colors = 16;         ///< clusters, 1..254; 0 = choose from the image (2..16)
  double tolerance = 1.0;  ///< approxPolyDP distance in pixels, >= 0 (0 keeps every corner)
  bool smooth = false;     ///< cubic Béziers through the simplified points instead of polygons
  /// Most path nodes (outline points) in the whole SVG; 0 = no budget. The tolerance is raised
  /// until the outlines fit; when even a coarse tolerance leaves too many, the smallest regions
  /// are left out.
  int max_nodes = 0;
  /// Regions (8-connected pixels of one cluster) smaller than this many pixels are given to
  /// the nearest larger region before tracing; 0 keeps every pixel as clustered.
  int min_area = 4;
  std::uint64_t seed = 12345;                       ///< k-means++ seed; the same seed gives the same SVG
  QualityPreset quality = QualityPreset::balanced;  ///< the preset the clustering takes its effort from
};

/// The SVG text of an image's colour regions (see the file's description).
std::string vectorize(const Image& image, const VectorizeOptions& options = {});
/// The same for bare pixels (RGB(A) order, 1..4 channels, CV_8U or CV_16U).
std::string vectorize(cv::InputArray pixels, const VectorizeOptions& options = {});
/// The SVG of a clustering done already (colors, seed and quality are then not used).
std::string vectorize(const Clustering& clustering, const VectorizeOptions& options = {});

/// The clustering's label image (CV_8UC1, 255 where a pixel was left out) with every region
/// smaller than min_area pixels given to its surroundings: filled from its edge inwards, each
/// pixel taking the most common label among its 8 neighbours outside small regions. These
/// are the regions vectorize() traces. min_area <= 1 gives the labels as they are.
cv::Mat region_labels(const Clustering& clustering, int min_area);

}  // namespace imgpipe::kernels
