#pragma once
/// \file
/// Compose kernels: the pixel work of border and watermark, callable without a chain.
///
/// Every kernel reads `src` and writes `dst` (cv::Mat or cv::UMat; `dst` may be `src`: in-place
/// works), then takes a small options struct. Images are as in imgpipe::Image:
/// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) channels in RGB order, CV_8U or CV_16U;
/// the output keeps the input's depth. Colours are given in 8 bits and scaled to 16-bit
/// images (× 257); a non-grey colour turns a grey image into RGB and a colour that is not
/// opaque gives an opaque image an alpha channel, so nothing asked for is lost.

#include <imgpipe/params.hpp>
#include <opencv2/core/mat.hpp>
#include <string>

namespace imgpipe::kernels {

/// What fills the border border() adds.
enum class BorderMode {
  colour,     ///< a solid colour
  replicate,  ///< repeats the edge pixels
  mirror,     ///< reflects the image about its edge pixels (which are not repeated)
};
/// The border border() adds around an image.
struct BorderOptions {
  /// The border's width on each side, in pixels.
  ///@{
  int top = 0, right = 0, bottom = 0, left = 0;
  ///@}
  BorderMode mode = BorderMode::colour;  ///< what fills the border
  Colour colour{255, 255, 255, 255};     ///< for BorderMode::colour
};
/// Extends the image by the border's widths, filled as BorderOptions::mode says; a region of
/// a larger image is extended from its own edges, never from its neighbours' pixels.
void border(cv::InputArray src, cv::OutputArray dst, const BorderOptions& options);

/// Where a watermark goes: one of nine anchors, `margin` pixels from the edges it touches
/// (centred along the others).
enum class Anchor { top_left, top, top_right, left, centre, right, bottom_left, bottom, bottom_right };
/// Where a watermark goes on the image (see Anchor).
struct Placement {
  Anchor anchor = Anchor::bottom_right;  ///< the corner, edge or centre it is placed at
  int margin = 16;                       ///< its distance in pixels from the edges it touches
};

/// A text watermark for text_watermark(): a coverage mask painted in a colour.
struct TextWatermarkOptions {
  cv::Mat coverage{};                 ///< CV_8UC1, 255 = fully covered: the text as render_text() draws it
  Colour colour{255, 255, 255, 255};  ///< its alpha multiplies the opacity
  double opacity = 0.6;               ///< 0 leaves the image unchanged, 1 paints the colour
  Placement placement{};              ///< where the text goes
};
/// Paints the colour through the coverage mask: colour channels become
/// colour·k + value·(1 − k) and alpha becomes max·k + alpha·(1 − k), with
/// k = coverage/255 · opacity · colour.a/255. A grey image becomes RGB for a non-grey colour.
void text_watermark(cv::InputArray src, cv::OutputArray dst, const TextWatermarkOptions& options);

/// An image watermark for image_watermark(): an image laid over the image.
struct ImageWatermarkOptions {
  cv::Mat mark{};         ///< grey, grey + alpha, RGB or RGBA, 8- or 16-bit; its alpha is respected
  double scale = 0.2;     ///< the mark's width as a fraction of the image's width (aspect kept)
  double opacity = 0.6;   ///< multiplies the mark's alpha: 0 leaves the image unchanged
  Placement placement{};  ///< where the mark goes
};
/// Resizes the mark (premultiplied; area when shrinking, cubic when enlarging) and lays it
/// over the image ("over" compositing with the mark's alpha times the opacity). A grey image
/// becomes RGB under a colour mark. Throws Error(config) when the mark is empty.
void image_watermark(cv::InputArray src, cv::OutputArray dst, const ImageWatermarkOptions& options);

/// Renders text (UTF-8; any installed font through Pango, such as "DejaVu Sans") with a
/// nominal height of `pixel_size` pixels, as a coverage mask for text_watermark().
/// Throws Error(internal) when rendering fails.
cv::Mat render_text(const std::string& text, const std::string& font, int pixel_size);

}  // namespace imgpipe::kernels
