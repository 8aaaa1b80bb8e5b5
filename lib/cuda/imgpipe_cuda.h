/* imgpipe's CUDA plugin (libimgpipe_cuda.so): a C interface, so that libimgpipe loads it with
 * dlopen on first use (the core library never links cudart) and a standalone harness
 * (tools/gpu-check) can drive it with nothing but libc.
 *
 * Images are interleaved 8- or 16-bit samples, 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA)
 * channels, alpha last — what imgpipe::Image holds. Every kernel gives, for the same input, what
 * the CPU kernel it names gives (include/imgpipe/kernels/ and lib/ops/): bit for bit where the CPU
 * works in integers or exact tables (point programs, geometry, palette assignment and apply,
 * ordered dithering), within one level where it filters in floating point (blur, sharpen,
 * resize).
 *
 * Every function that can fail returns 0 on success and a nonzero imgpipe_cuda_status otherwise;
 * imgpipe_cuda_last_error() then says what failed in words. Kernels and copies are queued on the
 * context's stream and may still be running when they return; imgpipe_cuda_synchronize() waits.
 * A context is used by one thread at a time. */
#ifndef IMGPIPE_CUDA_H
#define IMGPIPE_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The plugin is built with hidden visibility: what this header declares is all it exports. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
#endif

/* Bumped on every incompatible change; the loader refuses a plugin of another version. */
#define IMGPIPE_CUDA_ABI_VERSION 1

typedef enum imgpipe_cuda_status {
  IMGPIPE_CUDA_OK = 0,
  IMGPIPE_CUDA_NO_DEVICE = 1,    /* no usable device, or no driver */
  IMGPIPE_CUDA_BAD_ARGUMENT = 2, /* sizes, layouts or parameters the kernel does not take */
  IMGPIPE_CUDA_OUT_OF_MEMORY = 3,
  IMGPIPE_CUDA_FAILED = 4 /* any other CUDA error */
} imgpipe_cuda_status;

/* An image in device or host memory. `data` is the first pixel, `step` the bytes between rows. */
typedef struct imgpipe_cuda_image {
  void* data;
  size_t step;
  int width, height;
  int channels; /* 1..4 */
  int depth;    /* bytes per sample: 1 (8-bit) or 2 (16-bit) */
} imgpipe_cuda_image;

/* One device, one stream, its scratch memory and its last error. */
typedef struct imgpipe_cuda_context imgpipe_cuda_context;

int imgpipe_cuda_abi_version(void);
/* The number of usable devices; 0 with the reason (no driver, no device, a driver older than
 * the plugin needs) written to `why` (at most `size` bytes, NUL-terminated). */
int imgpipe_cuda_device_count(char* why, size_t size);
/* Opens device `device` (0 .. the count above - 1: the usable devices, compute capability 7.5
 * or newer, in CUDA's order); on failure *context is NULL and `why` says what failed. */
int imgpipe_cuda_create(int device, imgpipe_cuda_context** context, char* why, size_t size);
void imgpipe_cuda_destroy(imgpipe_cuda_context* context);
/* "NVIDIA H100 80GB HBM3 (sm_90, 80 GB)"; valid while the context lives. */
const char* imgpipe_cuda_device_name(const imgpipe_cuda_context* context);
/* What the last failing call on this context failed with; "" when none failed. */
const char* imgpipe_cuda_last_error(const imgpipe_cuda_context* context);

/* Memory. Device images are pitched allocations; pinned host memory makes copies asynchronous. */
int imgpipe_cuda_alloc(imgpipe_cuda_context* context, int width, int height, int channels, int depth,
                       imgpipe_cuda_image* image);
void imgpipe_cuda_free(imgpipe_cuda_context* context, imgpipe_cuda_image* image);
int imgpipe_cuda_host_alloc(imgpipe_cuda_context* context, size_t bytes, void** memory);
void imgpipe_cuda_host_free(imgpipe_cuda_context* context, void* memory);
/* Host → device and device → host copies of whole images of the same size and layout. */
int imgpipe_cuda_upload(imgpipe_cuda_context* context, const imgpipe_cuda_image* host,
                        const imgpipe_cuda_image* device);
int imgpipe_cuda_download(imgpipe_cuda_context* context, const imgpipe_cuda_image* device,
                          const imgpipe_cuda_image* host);
/* Waits for everything queued on the context's stream. */
int imgpipe_cuda_synchronize(imgpipe_cuda_context* context);
/* Events for timing the stream: record one, then the milliseconds between two (synchronises).
 * Events are numbered from 0 and live as long as the context. */
int imgpipe_cuda_record(imgpipe_cuda_context* context, int* event);
int imgpipe_cuda_elapsed_ms(imgpipe_cuda_context* context, int from, int to, double* milliseconds);

/* Kernels. `dst` is allocated by the caller with the size and layout the kernel gives, has
 * src's depth and is never `src`; 16-bit images' rows start at even addresses. */

/* kernels::gaussian_blur with GaussianBlurOptions{sigma}, 0 < sigma <= 1000. */
int imgpipe_cuda_gaussian_blur(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                               const imgpipe_cuda_image* dst, double sigma);
/* kernels::sharpen with SharpenOptions{amount, radius, threshold}: 0 < radius <= 1000,
 * threshold 0..1. */
int imgpipe_cuda_sharpen(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                         const imgpipe_cuda_image* dst, double amount, double radius, double threshold);

/* One stage of a PointProgram (lib/ops/point_program.hpp): a tone table of `levels` entries
 * (256 or 65536) applied to every colour channel when `table` is not NULL, else
 * out = matrix * rgb + offset as the CPU computes it. */
typedef struct imgpipe_cuda_point_stage {
  const uint16_t* table; /* host memory; NULL for a matrix stage */
  double matrix[9];      /* row-major */
  double offset[3];
} imgpipe_cuda_point_stage;
/* PointProgram::run: the stages in order; alpha passes through. */
int imgpipe_cuda_point_program(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                               const imgpipe_cuda_image* dst, const imgpipe_cuda_point_stage* stages,
                               int count);

/* kernels::resize of the whole image to dst's size (Fit::exact) with Interpolation::area (0)
 * or Interpolation::linear (1); area where no side shrinks is linear, as on the CPU. */
int imgpipe_cuda_resize(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                        const imgpipe_cuda_image* dst, int interpolation);
/* kernels::flip (horizontal: left-right, vertical: top-bottom). */
int imgpipe_cuda_flip(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                      const imgpipe_cuda_image* dst, int horizontal, int vertical);
/* kernels::rotate by quarter_turns * 90 degrees clockwise (1, 2 or 3); dst is src's size with
 * the sides swapped for 1 and 3. */
int imgpipe_cuda_rotate90(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                          const imgpipe_cuda_image* dst, int quarter_turns);
/* kernels::crop: dst's size taken from src at (left, top), which must lie inside src. */
int imgpipe_cuda_crop(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                      const imgpipe_cuda_image* dst, int left, int top);
/* kernels::grayscale; weights 0 rec709, 1 rec601, 2 average; keep_channels as GrayscaleOptions.
 * dst has 1 channel (3 with keep_channels) plus src's alpha; grey input is copied as it is. */
int imgpipe_cuda_grayscale(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                           const imgpipe_cuda_image* dst, int weights, int keep_channels);

/* ---- Palette assignment and apply, ordered dithering (palette.cu, dither.cu) ----
 *
 * These take the CPU's own tables as plain host arrays (copied to the device on each call, so
 * they may be released when the call returns); with the same tables the device does the same
 * float and double arithmetic, operation for operation, as the CPU code each function names.
 * 16-bit input is reduced to 8 bits first as convertTo(CV_8U, 1.0 / 257.0) does; grey input is
 * taken as R = G = B. */

/* palette::LabConverter's tables: `linear` (256 floats) the sRGB curve of each 8-bit code, `f`
 * (4097 floats) the Lab function f() on 0..1 in 4096 steps. Host memory. */
typedef struct imgpipe_cuda_lab_tables {
  const float* linear;
  const float* f;
} imgpipe_cuda_lab_tables;

/* The palette engine's full-resolution assignment (assign_pixels() in
 * lib/ops/palette/clustering.cpp, as imgpipe::cluster() and imgpipe::assign() run it): each pixel
 * of `src` (8- or 16-bit, 1..4 channels) gets the index of its nearest centre, the first of
 * equals, in `labels` (8-bit, 1 channel, src's size); 255 (kMasked) where it is left out.
 * Left out: where `mask` (8-bit, 1 channel, src's size, device memory; NULL for none) is 0;
 * without a mask, where alpha is below 128 if `use_alpha` is nonzero and src has alpha.
 * `centres`: k (1..254) centres as float L, a, b, host memory, in label order. Colours are
 * converted through `lab` (every preset but ultra) or, when `exact_linear` is not NULL, with
 * the exact double-precision formula of imgpipe::srgb_to_lab (ultra): `exact_linear` holds the
 * linear-light value of each 8-bit code (256 doubles, host memory) and the cube root is
 * computed correctly rounded on the device (see colour_math.hpp for where that can differ
 * from the C library's cbrt). `counts`: NULL, or k entries of host memory that receive the
 * number of pixels given each label; then the call waits for the stream. */
int imgpipe_cuda_palette_assign(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                const imgpipe_cuda_image* mask, int use_alpha, const float* centres, int k,
                                const imgpipe_cuda_lab_tables* lab, const double* exact_linear,
                                const imgpipe_cuda_image* labels, uint64_t* counts);

/* Clustering::apply() (lib/ops/palette/apply.cpp): `labels` (from imgpipe_cuda_palette_assign,
 * each < k or 255) and the source image `src` (8- or 16-bit, 1..4 channels) → `dst`, 8-bit RGB
 * (3 channels) or RGBA (4): 4 exactly when the CPU's output has alpha (src has alpha, or some
 * label is 255 and mask_mode is transparent, or fill with fill[3] < 255). `colours`: RGBA per
 * label (k entries, Clustering::colour_table()); `centres`: RGBA per label
 * (Clustering::centres_rgb()), read only with preserve_shading. mask_mode: what pixels labelled
 * 255 become: 0 keep (their source colour), 1 transparent, 2 fill with `fill` (RGBA). Host
 * memory for the tables. */
int imgpipe_cuda_palette_apply(imgpipe_cuda_context* context, const imgpipe_cuda_image* labels,
                               const imgpipe_cuda_image* src, const uint8_t* colours, const uint8_t* centres,
                               int k, int preserve_shading, int mask_mode, const uint8_t* fill,
                               const imgpipe_cuda_image* dst);

/* The tables of an ordered dithering, as kernels::dither's plan holds them (host memory). */
typedef struct imgpipe_cuda_ordered_dither {
  const float* thresholds; /* n x n, row-major: bayer_matrix(n) converted to float (M + 0.5) / n^2 */
  int n;                   /* 2, 4 or 8 for bayer2/4/8 (any power of two 1..256) */
  const float* base;       /* 256: each 8-bit sample's working value (decoded sRGB with linear) */
  /* Grey levels (palette_size 0): */
  const uint8_t* level_values; /* each level's output sample */
  const float* level_work;     /* each level's working value */
  int levels;                  /* 2..256 */
  /* A palette (palette_size 1..255): */
  const uint8_t* palette;       /* RGBA per colour */
  const float* palette_lab;     /* L, a, b per colour: srgb_to_lab in float */
  int palette_size;             /* 0 for grey levels */
  float spread;                 /* the offset scale of the thresholds */
  const float* code_thresholds; /* linear: 255 decoded midpoints between 8-bit codes; else NULL */
  imgpipe_cuda_lab_tables lab;  /* the pixels' Lab converter */
} imgpipe_cuda_ordered_dither;

/* kernels::dither with DitherMethod::bayer2/4/8 (lib/ops/effects/dither.cpp): `src` 8- or
 * 16-bit, 1..4 channels; `dst` 8-bit, grey (levels) or RGB (palette), plus alpha (copied from
 * src after the 16-bit reduction) when src has it. */
int imgpipe_cuda_dither_ordered(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                const imgpipe_cuda_image* dst, const imgpipe_cuda_ordered_dither* plan);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif /* IMGPIPE_CUDA_H */
