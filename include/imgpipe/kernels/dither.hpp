#pragma once
/// \file
/// Dithering: reduce an image to a few grey levels or to the colours of a palette, spreading
/// the quantisation error (error diffusion) or breaking ties with a threshold matrix (ordered).
///
/// Input: what imgpipe::Image holds (1..4 channels, RGB(A) order, CV_8U or CV_16U). 16-bit
/// input is first reduced to 8 bits (v / 257, rounded), alpha included; everything below works
/// on those 8-bit values. The output is always 8-bit:
///   levels:  grey (+ alpha). Colour input is converted to grey first (Rec. 601 luma, as
///            OpenCV's COLOR_RGB2GRAY). The levels are round(i * 255 / (levels - 1)).
///   palette: RGB (+ alpha). Grey input is treated as R = G = B.
/// Alpha is copied unchanged (after the 16-bit reduction) and takes no part in the dithering.
///
/// Quantisation decisions are always made in the target space. With levels a working value
/// goes to the nearest level (a tie goes to the brighter one). With a palette the working value
/// is clamped and rounded to an 8-bit sRGB colour, which goes to the palette colour nearest in
/// CIE Lab (D65; the first of equally near colours wins). The palette's Lab is computed once
/// with imgpipe::srgb_to_lab; the pixels' with the library's table-driven converter, which is
/// within 0.002 Lab units of it.
///
/// Error diffusion works in float. Errors that would leave the image are dropped. With
/// `serpentine` odd rows run right to left with the kernel mirrored.
///
/// `linear`: the working values are linear light (each 8-bit sRGB sample decoded through a
/// 256-entry table of the exact sRGB curve) and the error is measured and diffused in linear
/// light. The decision still happens in sRGB: for levels the working value is compared with the
/// midpoints between adjacent levels taken in sRGB and decoded to linear light (the same choice
/// as encoding the value and picking the nearest level); for a palette each channel is rounded
/// to the 8-bit code whose sRGB value is nearest (by comparing with the decoded midpoints
/// between codes), and that colour is matched in Lab as above.
///
/// Ordered (Bayer) dithering uses the n x n threshold matrix M (bayer_matrix) with thresholds
/// t = (M + 0.5) / n^2. For levels, a pixel between the levels below and above it (in the
/// working space, so linear light with `linear`) takes the upper one when its fraction of the
/// way up exceeds t. For a palette, (t - 0.5) * spread is added to each channel before the
/// nearest-colour decision, where spread is the step of a uniform colour cube with about as
/// many colours as the palette: 255 / (m - 1) with m = max(2, round(cbrt(palette size))), or
/// 1 / (m - 1) in linear light.
///
/// Error diffusion is inherently sequential along the scan order; `dither` runs rows as a
/// wavefront on the caller's TBB arena (row y may take pixel x once row y - 1 has finished
/// every pixel within the kernel's reach of x, plus one), with the same arithmetic in the same
/// order as `dither_sequential`, so both give bit-identical output for every method. With
/// serpentine scanning a row's first pixel depends (through the previous row) on every pixel
/// of the previous row, so rows cannot overlap: the wavefront would degenerate to one row after
/// the other with threads handing rows to each other, and dither() runs serpentine diffusion
/// on one thread instead. Ordered dithering runs rows in parallel.

#include <imgpipe/params.hpp>
#include <opencv2/core/mat.hpp>
#include <vector>

namespace imgpipe::kernels {

/// How dither() reaches the target colours: error diffusion with one of four kernels (the
/// fractions of the error each neighbour receives), or ordered dithering with a Bayer matrix.
enum class DitherMethod {
  floyd_steinberg,      ///< 7 3 5 1 / 16
  atkinson,             ///< six neighbours 1/8 each; a quarter of the error is dropped
  jarvis_judice_ninke,  ///< 12 neighbours over 3 rows, / 48
  sierra,               ///< the 3-row Sierra: 10 neighbours, / 32
  bayer2,               ///< ordered, 2x2 matrix
  bayer4,               ///< ordered, 4x4 matrix
  bayer8,               ///< ordered, 8x8 matrix
};

/// The settings of dither() and dither_sequential(): the method and the target colours.
struct DitherOptions {
  DitherMethod method = DitherMethod::floyd_steinberg;  ///< error diffusion kernel or Bayer matrix
  /// Target colours (1..255 of them); empty = grey levels.
  std::vector<Colour> palette;
  int levels = 2;          ///< 2..256 grey levels when there is no palette; 2 = 1-bit
  bool serpentine = true;  ///< odd rows run right to left; error diffusion only
  bool linear = false;     ///< work and diffuse the error in linear light (see the file's description)
  /// Rows in flight at once (TBB tasks on the caller's arena); 0 = the arena's concurrency, 1 = one
  /// row after the other on the calling thread.
  int threads = 0;
};

/// Dithers `src` into `dst` as the file's description says, rows as a wavefront (serpentine
/// diffusion on one thread). Throws Error(config) for levels outside 2..256 or a palette of
/// more than 255 colours, Error(unsupported) for an input that is not 8- or 16-bit with 1..4
/// channels.
void dither(cv::InputArray src, cv::OutputArray dst, const DitherOptions& options = {});
/// The reference: one row after the other on the calling thread. Same output as dither().
void dither_sequential(cv::InputArray src, cv::OutputArray dst, const DitherOptions& options = {});

/// The n x n Bayer index matrix (n a power of two, 1..256) as CV_32SC1 with values 0..n^2-1,
/// from the recursive definition M(1) = [0], M(2n) = [[4M, 4M+2], [4M+3, 4M+1]]. Throws
/// Error(config) for any other n.
cv::Mat bayer_matrix(int n);

}  // namespace imgpipe::kernels
