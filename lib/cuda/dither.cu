// imgpipe_cuda_dither_ordered: kernels::dither with a Bayer method (ordered_row() in
// lib/ops/effects/dither.cpp) on the device, one thread per pixel running dither_math.hpp with
// the CPU Plan's tables.

#include <cstdint>
#include <string>

#include "context.hpp"
#include "dither_math.hpp"
#include "imgpipe_cuda.h"
#include "tables.hpp"

namespace imgpipe::cuda {
namespace {

constexpr int kLinearEntries = 256, kFEntries = 4097, kCodeThresholds = 255;

__global__ void ordered_kernel(const unsigned char* src, size_t src_step, int channels, int depth,
                               OrderedTables tables, unsigned char* dst, size_t dst_step, int dst_channels,
                               int width, int height) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= width || y >= height) return;
  const Rgba8 p = load_rgba8(src + static_cast<size_t>(y) * src_step, x, channels, depth);
  ordered_pixel(tables, p, channels <= 2, channels == 2 || channels == 4, x, y,
                dst + static_cast<size_t>(y) * dst_step + static_cast<size_t>(x) * dst_channels);
}

// Why `plan` cannot be run, or "" when it can.
std::string plan_problem(const imgpipe_cuda_ordered_dither& plan) {
  if (plan.n < 1 || plan.n > 256 || (plan.n & (plan.n - 1)) != 0 || !plan.thresholds)
    return "a threshold matrix of n x n, n a power of two 1..256, got n " + std::to_string(plan.n);
  if (!plan.base) return "the 256 working values (base)";
  if (plan.palette_size == 0) {
    if (plan.levels < 2 || plan.levels > 256 || !plan.level_values || !plan.level_work)
      return "2..256 levels with their values and working values, got " + std::to_string(plan.levels);
    return "";
  }
  if (plan.palette_size < 1 || plan.palette_size > 255 || !plan.palette || !plan.palette_lab)
    return "0 (levels) or 1..255 palette colours with their Lab, got " + std::to_string(plan.palette_size);
  if (!plan.lab.linear || !plan.lab.f) return "the Lab converter's tables for a palette";
  return "";
}

}  // namespace
}  // namespace imgpipe::cuda

extern "C" int imgpipe_cuda_dither_ordered(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                           const imgpipe_cuda_image* dst,
                                           const imgpipe_cuda_ordered_dither* plan) {
  using namespace imgpipe::cuda;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!valid_image(src) || !valid_image(dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "dither_ordered: src and dst must be valid images");
  if (!plan) return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "dither_ordered: no plan");
  if (const std::string problem = plan_problem(*plan); !problem.empty())
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "dither_ordered: expected " + problem);
  const bool alpha = src->channels == 2 || src->channels == 4;
  const int out_channels = (plan->palette_size == 0 ? 1 : 3) + (alpha ? 1 : 0);
  if (dst->depth != 1 || dst->channels != out_channels || dst->width != src->width ||
      dst->height != src->height)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "dither_ordered: dst: expected 8-bit, " + std::to_string(out_channels) +
                    " channels, src's size; got " + std::to_string(dst->channels) + " channels, " +
                    std::to_string(dst->depth * 8) + "-bit");

  const auto n2 = static_cast<std::size_t>(plan->n) * static_cast<std::size_t>(plan->n);
  if (const int status =
          check(context, cudaSetDevice(context->device), "dither_ordered: selecting the device"))
    return status;
  DeviceTables tables(context);
  const std::size_t threshold_offset = tables.add(plan->thresholds, n2);
  const std::size_t base_offset = tables.add(plan->base, kLinearEntries);
  std::size_t value_offset = 0, work_offset = 0, palette_offset = 0, palette_lab_offset = 0, code_offset = 0,
              linear_offset = 0, f_offset = 0;
  const auto palette_size = static_cast<std::size_t>(plan->palette_size);
  if (palette_size == 0) {
    value_offset = tables.add(plan->level_values, static_cast<std::size_t>(plan->levels));
    work_offset = tables.add(plan->level_work, static_cast<std::size_t>(plan->levels));
  } else {
    palette_offset = tables.add(plan->palette, 4 * palette_size);
    palette_lab_offset = tables.add(plan->palette_lab, 3 * palette_size);
    if (plan->code_thresholds) code_offset = tables.add(plan->code_thresholds, kCodeThresholds);
    linear_offset = tables.add(plan->lab.linear, kLinearEntries);
    f_offset = tables.add(plan->lab.f, kFEntries);
  }
  if (const int status = tables.allocate()) return status;
  if (const int status = tables.upload()) return status;

  OrderedTables ordered{};
  ordered.thresholds = tables.device<float>(threshold_offset);
  ordered.n = plan->n;
  ordered.base = tables.device<float>(base_offset);
  if (palette_size == 0) {
    ordered.level_value = tables.device<std::uint8_t>(value_offset);
    ordered.level_work = tables.device<float>(work_offset);
    ordered.levels = plan->levels;
  } else {
    ordered.palette = tables.device<std::uint8_t>(palette_offset);
    ordered.palette_lab = tables.device<float>(palette_lab_offset);
    ordered.palette_size = plan->palette_size;
    ordered.spread = plan->spread;
    ordered.code_threshold = plan->code_thresholds ? tables.device<float>(code_offset) : nullptr;
    ordered.lab = {tables.device<float>(linear_offset), tables.device<float>(f_offset)};
  }
  ordered_kernel<<<pixel_grid(src->width, src->height), pixel_block(), 0, context->stream>>>(
      static_cast<const unsigned char*>(src->data), src->step, src->channels, src->depth, ordered,
      static_cast<unsigned char*>(dst->data), dst->step, out_channels, src->width, src->height);
  return launched(context, "dither_ordered: launching the kernel");
}
