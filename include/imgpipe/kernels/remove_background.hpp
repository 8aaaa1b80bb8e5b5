#pragma once
/// \file
/// Foreground estimation and background removal: the pixel work of `remove_background`, and the
/// foreground mask on its own for other users (the palette engine can weight by it).
///
/// Inputs are what imgpipe::Image holds: RGB(A) order, 1 to 4 channels, CV_8U or CV_16U. Masks
/// are CV_32FC1 in 0..1 (1 = foreground) at the input's size, or CV_8UC1 in 0..255 on request.

#include <array>
#include <filesystem>
#include <imgpipe/operation.hpp>
#include <imgpipe/params.hpp>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imgpipe::kernels {

/// Edge-aware smoothing of `src` guided by `guide` (He, Sun and Tang, "Guided Image Filtering"),
/// with normalised box windows of side 2 * radius + 1 and mirrored edges (BORDER_REFLECT_101):
///   a = cov(I, p) / (var(I) + eps), b = mean(p) - a * mean(I), q = mean(a) * I + mean(b).
/// guide and src are single-channel, the same size; both are converted to CV_32F, so a guide
/// in 0..1 makes eps a variance on that scale. dst is CV_32FC1 and is not clamped.
void guided_filter(cv::InputArray guide, cv::InputArray src, cv::OutputArray dst, int radius, double eps);

/// The settings of a SegmentationModel: a segmentation network in ONNX, run through OpenCV's
/// dnn module. The image is resized to size x size (RGB, samples scaled to 0..1, then
/// (x - mean) / std per channel) and given as a 1x3xSxS blob. Output blob `output_index` (in
/// the order the model lists its outputs) may be 1xHxW, 1x1xHxW or 1xCxHxW:
///   one channel: the foreground; values outside 0..1 mark logits, which go through a sigmoid,
///                otherwise the values are taken as probabilities;
///   C channels:  channel 0 is the background class and the foreground is 1 - its probability
///                (a softmax over the channels when the values are logits, i.e. not all in 0..1
///                or not summing to 1).
/// `invert` swaps foreground and background. Loading throws Error(io) for a missing file and
/// Error(config) for a file OpenCV cannot read as a network.
struct SegmentationModelOptions {
  std::string path;                                 ///< the ONNX file
  int size = 320;                                   ///< the side S of the square the image is resized to
  std::array<double, 3> mean{0.485, 0.456, 0.406};  ///< per channel (R, G, B), subtracted first
  std::array<double, 3> std{0.229, 0.224, 0.225};   ///< per channel (R, G, B), divided by next
  int output_index = 0;                             ///< the output blob that holds the mask
  bool invert = false;                              ///< swap foreground and background
};

/// Models known by name, with the preprocessing they were trained with:
///   isnet: ISNet (Qin et al., "Highly Accurate Dichotomous Image Segmentation", 2022) as
///     `tools/fetch-model isnet` installs it: size 1024, (x - 128) / 256 on RGB 0..255, i.e.
///     mean 128/255 and std 256/255 per channel on 0..1; output 0, already a probability.
/// Returns the options with `path` empty; nullopt for any other name.
std::optional<SegmentationModelOptions> known_segmentation_model(std::string_view name);

/// Whether a `model` value is a name to look up rather than a path: no '/' and no ".onnx" ending.
bool is_segmentation_model_name(std::string_view value);

/// The folders a model name is looked up in, in this order: $IMGPIPE_MODEL_DIR (when set and
/// not empty), ${XDG_DATA_HOME:-$HOME/.local/share}/imgpipe/models, and the install prefix's
/// share/imgpipe/models (compiled in).
std::vector<std::filesystem::path> segmentation_model_folders();

/// The first `<folder>/<name>.onnx` that is a regular file, over segmentation_model_folders();
/// nullopt when there is none.
std::optional<std::filesystem::path> find_segmentation_model(std::string_view name);

/// A segmentation network loaded once, giving the foreground probability of images.
class SegmentationModel {
 public:
  /// Loads the network `options.path` names. Throws Error(io) for a missing file,
  /// Error(config) for a file OpenCV cannot read as a network and Error(unsupported) when the
  /// cv::dnn plugin cannot be loaded.
  explicit SegmentationModel(const SegmentationModelOptions& options);
  /// Frees the network.
  ~SegmentationModel();
  SegmentationModel(const SegmentationModel&) = delete;
  SegmentationModel& operator=(const SegmentationModel&) = delete;

  /// Foreground probability (CV_32FC1, 0..1) of an image (any layout imgpipe::Image holds;
  /// alpha is ignored), at the model's output resolution. Thread-safe: calls are serialised.
  cv::Mat predict(cv::InputArray image) const;
  /// The options it was loaded with.
  const SegmentationModelOptions& options() const { return options_; }

 private:
  struct Impl;
  SegmentationModelOptions options_;
  std::unique_ptr<Impl> impl_;
};

/// How the foreground is found.
///   classical: at analysis_size (long side; smaller images as they are, shrunk with
///     INTER_AREA; with strategy direct the image itself), pixels within `border` (a fraction
///     of the short side) of the edge are probable background. A colour saliency — the CIELAB
///     distance of each pixel to the nearest of eight k-means colours of that border band —
///     marks distinct pixels as probable foreground (the centre third when nothing stands
///     out). cv::grabCut refines this in `iterations` rounds on the candidates' bounding box
///     plus a margin (outside it is background), shrunk to at most 64 Ki pixels at
///     analysis_size 512 (the budget follows the analysed area) to bound its cost; with
///     strategy direct it is not shrunk at all (about 1 s a megapixel). The random state is
///     fixed, so an image always gives the same mask. The binary result is scaled to full size
///     (linear) and refined with guided_filter on the luma, so edges follow the image. Subjects
///     that share the colours of the border (a close-up filling the frame) are found only in
///     part: this estimates "what differs from the surroundings", not objects.
///   model: `model` gives the probability at its own resolution, scaled (linear) to full size
///     and refined the same way.
/// With strategy pyramid, after scaling the mask up, the pixels near its edge (within the
/// grabCut-to-analysis scale factor, in analysis pixels, of it) are decided again at full
/// resolution: cv::grabCut runs on 32-pixel tiles that touch that band (with 12 pixels of
/// context), every pixel outside the band fixed to the reduced result, starting from the
/// reduced analysis's colour models and re-learning them from the tile's own pixels. Its cost
/// follows the length of the edge, not the image's area. (model mode first learns colour
/// models from the network's mask at the reduced size.)
/// The guided filter's radius is in full-size pixels; 0 picks 2 * the scale factor + 4 (at least
/// 4), enough to span the blocks of a scaled-up mask (after the pyramid pass, the scale is 1).
/// An input alpha is multiplied in, so pixels already transparent stay transparent.
struct ForegroundOptions {
  Strategy strategy = Strategy::scaled;  ///< direct, scaled (at analysis_size) or pyramid; see above
  int analysis_size = 512;               ///< classical: long side analysed, 64..8192
  int iterations = 2;                    ///< classical: grabCut rounds, >= 1
  double border = 0.06;                  ///< classical: background band, fraction of the short side
  /// classical: which pixels start as probable foreground. false: the salient ones (colours far
  /// from every border colour), which finds a subject anywhere by its colour; true: the whole
  /// frame inside the band except colours close to the border's (GrabCut's rectangle), which
  /// keeps more of a centred subject whose colours are partly close to the background's, as
  /// in most product and portrait photos.
  bool frame = false;
  int radius = 0;                                  ///< guided filter radius in pixels; 0 = automatic
  double eps = 1e-3;                               ///< guided filter regularisation (the guide is in 0..1)
  std::shared_ptr<const SegmentationModel> model;  ///< set: the model; null: classical
};

/// The foreground mask of `src`, CV_32FC1 (0..1) or CV_8UC1 (0..255, rounded) per `depth`.
cv::Mat foreground_mask(cv::InputArray src, const ForegroundOptions& options = {}, int depth = CV_32F);

/// What remove_background() puts where the background was.
enum class BackgroundOutput {
  rgba,    ///< colours unchanged, alpha = mask (the image gains alpha when it has none)
  colour,  ///< colour = c * m + background * (1 - m); with alpha in the result,
           ///< alpha = m + bg_alpha * (1 - m)
  blur,    ///< every channel = c * m + gaussian_blur(c, blur_sigma) * (1 - m)
};

/// The settings of remove_background() and apply_foreground_mask().
struct RemoveBackgroundOptions {
  ForegroundOptions foreground;                      ///< how the mask is found (remove_background() only)
  BackgroundOutput output = BackgroundOutput::rgba;  ///< what replaces the background
  /// For BackgroundOutput::colour: grey input becomes RGB for a non-grey colour, opaque input
  /// gains alpha for a translucent one.
  Colour background{255, 255, 255, 255};
  double blur_sigma = 12.0;  ///< blur: Gaussian sigma in pixels
};

/// Applies an already computed mask (CV_32FC1 0..1 or CV_8UC1 0..255, the size of src) as
/// `output` describes; results are rounded to the input depth.
void apply_foreground_mask(cv::InputArray src, cv::InputArray mask, cv::OutputArray dst,
                           const RemoveBackgroundOptions& options = {});

/// foreground_mask followed by apply_foreground_mask.
void remove_background(cv::InputArray src, cv::OutputArray dst, const RemoveBackgroundOptions& options = {});

}  // namespace imgpipe::kernels
