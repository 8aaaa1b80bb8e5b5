// imgpipe_cuda_palette_assign and imgpipe_cuda_palette_apply: the palette engine's per-pixel
// steps (lib/ops/palette/clustering.cpp assign_pixels(), lib/ops/palette/apply.cpp
// Clustering::apply()) on the device, one thread per pixel running palette_math.hpp.
//
// The CPU gives each pixel its label through a lazily filled colour → label table; an entry is
// the nearest centre of that colour whichever pixel fills it, so computing it per pixel gives
// the same labels.

#include <cstdint>
#include <cstring>
#include <string>

#include "context.hpp"
#include "imgpipe_cuda.h"
#include "palette_math.hpp"
#include "tables.hpp"

namespace imgpipe::cuda {
namespace {

constexpr int kLinearEntries = 256, kFEntries = 4097;

__global__ void assign_kernel(const unsigned char* src, size_t src_step, int channels, int depth,
                              const unsigned char* mask, size_t mask_step, bool use_alpha,
                              AssignTables tables, unsigned char* labels, size_t labels_step, int width,
                              int height, unsigned long long* counts) {
  __shared__ unsigned int block_counts[256];
  const int thread = static_cast<int>(threadIdx.y * blockDim.x + threadIdx.x);
  const int threads = static_cast<int>(blockDim.x * blockDim.y);
  if (counts)
    for (int i = thread; i < 256; i += threads) block_counts[i] = 0;
  if (counts) __syncthreads();
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x < width && y < height) {
    const Rgba8 p = load_rgba8(src + static_cast<size_t>(y) * src_step, x, channels, depth);
    const unsigned char* m = mask ? mask + static_cast<size_t>(y) * mask_step + x : nullptr;
    const std::uint8_t label = assign_pixel(tables, p, channels == 2 || channels == 4, m, use_alpha);
    labels[static_cast<size_t>(y) * labels_step + x] = label;
    if (counts && label != kMasked) atomicAdd(&block_counts[label], 1u);
  }
  if (!counts) return;
  __syncthreads();
  for (int i = thread; i < tables.k; i += threads)
    if (block_counts[i]) atomicAdd(&counts[i], static_cast<unsigned long long>(block_counts[i]));
}

__global__ void apply_kernel(const unsigned char* labels, size_t labels_step, const unsigned char* src,
                             size_t src_step, int channels, int depth, ApplyTables tables, unsigned char* dst,
                             size_t dst_step, int dst_channels, int width, int height) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= width || y >= height) return;
  const Rgba8 s = load_rgba8(src + static_cast<size_t>(y) * src_step, x, channels, depth);
  apply_pixel(tables, labels[static_cast<size_t>(y) * labels_step + x], s,
              dst + static_cast<size_t>(y) * dst_step + static_cast<size_t>(x) * dst_channels, dst_channels);
}

bool same_size(const imgpipe_cuda_image& x, const imgpipe_cuda_image& y) {
  return x.width == y.width && x.height == y.height;
}

}  // namespace
}  // namespace imgpipe::cuda

extern "C" int imgpipe_cuda_palette_assign(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                           const imgpipe_cuda_image* mask, int use_alpha,
                                           const float* centres, int k, const imgpipe_cuda_lab_tables* lab,
                                           const double* exact_linear, const imgpipe_cuda_image* labels,
                                           uint64_t* counts) {
  using namespace imgpipe::cuda;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!valid_image(src) || !valid_image(labels))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "palette_assign: src and labels must be valid images");
  if (labels->channels != 1 || labels->depth != 1 || !same_size(*src, *labels))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_assign: labels must be 8-bit, 1 channel, of src's size");
  if (mask && (!valid_image(mask) || mask->channels != 1 || mask->depth != 1 || !same_size(*src, *mask)))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_assign: the mask must be 8-bit, 1 channel, of src's size");
  if (k < 1 || k > 254 || !centres)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_assign: expected 1..254 centres, got " + std::to_string(centres ? k : 0));
  if (!exact_linear && (!lab || !lab->linear || !lab->f))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_assign: the Lab tables are needed without exact_linear");

  if (const int status =
          check(context, cudaSetDevice(context->device), "palette_assign: selecting the device"))
    return status;
  DeviceTables tables(context);
  const std::size_t centre_offset = tables.add(centres, static_cast<std::size_t>(3 * k));
  std::size_t linear_offset = 0, f_offset = 0, exact_offset = 0, count_offset = 0;
  if (exact_linear) {
    exact_offset = tables.add(exact_linear, kLinearEntries);
  } else {
    linear_offset = tables.add(lab->linear, kLinearEntries);
    f_offset = tables.add(lab->f, kFEntries);
  }
  if (counts) count_offset = tables.reserve<unsigned long long>(256);
  if (const int status = tables.allocate()) return status;
  if (const int status = tables.upload()) return status;

  AssignTables assign{};
  assign.centres = tables.device<float>(centre_offset);
  assign.k = k;
  if (exact_linear) {
    assign.linear = tables.device<double>(exact_offset);
  } else {
    assign.lab = {tables.device<float>(linear_offset), tables.device<float>(f_offset)};
  }
  // The count block is zeroed by reserve() and uploaded with the tables.
  auto* device_counts =
      counts ? const_cast<unsigned long long*>(tables.device<unsigned long long>(count_offset)) : nullptr;
  assign_kernel<<<pixel_grid(src->width, src->height), pixel_block(), 0, context->stream>>>(
      static_cast<const unsigned char*>(src->data), src->step, src->channels, src->depth,
      mask ? static_cast<const unsigned char*>(mask->data) : nullptr, mask ? mask->step : 0, use_alpha != 0,
      assign, static_cast<unsigned char*>(labels->data), labels->step, src->width, src->height,
      device_counts);
  if (const int status = launched(context, "palette_assign: launching the kernel")) return status;
  if (!counts) return IMGPIPE_CUDA_OK;
  unsigned long long host_counts[256];
  if (const int status = check(context,
                               cudaMemcpyAsync(host_counts, device_counts, sizeof host_counts,
                                               cudaMemcpyDeviceToHost, context->stream),
                               "palette_assign: copying the counts"))
    return status;
  if (const int status =
          check(context, cudaStreamSynchronize(context->stream), "palette_assign: waiting for the counts"))
    return status;
  for (int i = 0; i < k; ++i) counts[i] = host_counts[i];
  return IMGPIPE_CUDA_OK;
}

extern "C" int imgpipe_cuda_palette_apply(imgpipe_cuda_context* context, const imgpipe_cuda_image* labels,
                                          const imgpipe_cuda_image* src, const uint8_t* colours,
                                          const uint8_t* centres, int k, int preserve_shading, int mask_mode,
                                          const uint8_t* fill, const imgpipe_cuda_image* dst) {
  using namespace imgpipe::cuda;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!valid_image(labels) || !valid_image(src) || !valid_image(dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_apply: labels, src and dst must be valid images");
  if (labels->channels != 1 || labels->depth != 1 || !same_size(*src, *labels))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_apply: labels must be 8-bit, 1 channel, of src's size");
  const bool source_alpha = src->channels == 2 || src->channels == 4;
  if (dst->depth != 1 || dst->channels < (source_alpha ? 4 : 3) || dst->channels > 4 ||
      !same_size(*src, *dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                std::string("palette_apply: dst: expected 8-bit, ") + (source_alpha ? "4" : "3 or 4") +
                    " channels (src " + (source_alpha ? "has" : "has no") + " alpha), src's size; got " +
                    std::to_string(dst->channels) + " channels, " + std::to_string(dst->depth * 8) + "-bit");
  if (k < 1 || k > 254 || !colours)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_apply: expected 1..254 colours, got " + std::to_string(colours ? k : 0));
  if (preserve_shading && !centres)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_apply: preserve_shading needs the centres' colours");
  if (mask_mode < 0 || mask_mode > 2 || (mask_mode == 2 && !fill))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "palette_apply: mask_mode must be 0 (keep), 1 (transparent) or 2 (fill, with a fill colour), "
                "got " +
                    std::to_string(mask_mode));

  if (const int status =
          check(context, cudaSetDevice(context->device), "palette_apply: selecting the device"))
    return status;
  // 256 entries each, zero past k, so that any label reads inside the tables.
  DeviceTables tables(context);
  const std::size_t colour_offset = tables.reserve<std::uint8_t>(4 * 256);
  const std::size_t centre_offset = tables.reserve<std::uint8_t>(4 * 256);
  if (const int status = tables.allocate()) return status;
  std::memcpy(tables.host<std::uint8_t>(colour_offset), colours, static_cast<std::size_t>(4 * k));
  if (preserve_shading)
    std::memcpy(tables.host<std::uint8_t>(centre_offset), centres, static_cast<std::size_t>(4 * k));
  if (const int status = tables.upload()) return status;

  ApplyTables apply{};
  apply.colours = tables.device<std::uint8_t>(colour_offset);
  apply.centres = tables.device<std::uint8_t>(centre_offset);
  apply.preserve_shading = preserve_shading != 0;
  apply.mask_mode = mask_mode;
  if (mask_mode == 2)
    for (int c = 0; c < 4; ++c) apply.fill[c] = fill[c];
  apply_kernel<<<pixel_grid(src->width, src->height), pixel_block(), 0, context->stream>>>(
      static_cast<const unsigned char*>(labels->data), labels->step,
      static_cast<const unsigned char*>(src->data), src->step, src->channels, src->depth, apply,
      static_cast<unsigned char*>(dst->data), dst->step, dst->channels, src->width, src->height);
  return launched(context, "palette_apply: launching the kernel");
}
