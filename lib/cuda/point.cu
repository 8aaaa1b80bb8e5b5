// imgpipe_cuda_point_program: PointProgram::run (lib/ops/point_program.cpp) on the device, one
// thread per pixel running point_pixel() (point_math.hpp), the CPU's per-pixel code with the
// same double arithmetic, after compose_tables() has made each run of tables one table.

#include <cstdint>
#include <string>
#include <vector>

#include "context.hpp"
#include "imgpipe_cuda.h"
#include "point_math.hpp"
#include "tables.hpp"

namespace imgpipe::cuda {
namespace {

template <typename T, int Channels>
__global__ void point_kernel(const unsigned char* src, size_t src_step, unsigned char* dst, size_t dst_step,
                             int width, int height, const PointStage* stages, int count, double max,
                             double inverse_max) {
  const int x = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  const int y = static_cast<int>(blockIdx.y * blockDim.y + threadIdx.y);
  if (x >= width || y >= height) return;
  const T* s = reinterpret_cast<const T*>(src + static_cast<size_t>(y) * src_step) + x * Channels;
  T* d = reinterpret_cast<T*>(dst + static_cast<size_t>(y) * dst_step) + x * Channels;
  point_pixel<T, Channels>(s, d, stages, count, max, inverse_max);
}

template <typename T>
void launch(const imgpipe_cuda_image& src, const imgpipe_cuda_image& dst, const PointStage* stages, int count,
            cudaStream_t stream) {
  const double max = sizeof(T) == 1 ? 255.0 : 65535.0;
  const double inverse_max = 1.0 / max;
  const auto* in = static_cast<const unsigned char*>(src.data);
  auto* out = static_cast<unsigned char*>(dst.data);
  const dim3 grid = pixel_grid(src.width, src.height), block = pixel_block();
  switch (src.channels) {
    case 1:
      point_kernel<T, 1><<<grid, block, 0, stream>>>(in, src.step, out, dst.step, src.width, src.height,
                                                     stages, count, max, inverse_max);
      break;
    case 2:
      point_kernel<T, 2><<<grid, block, 0, stream>>>(in, src.step, out, dst.step, src.width, src.height,
                                                     stages, count, max, inverse_max);
      break;
    case 3:
      point_kernel<T, 3><<<grid, block, 0, stream>>>(in, src.step, out, dst.step, src.width, src.height,
                                                     stages, count, max, inverse_max);
      break;
    default:
      point_kernel<T, 4><<<grid, block, 0, stream>>>(in, src.step, out, dst.step, src.width, src.height,
                                                     stages, count, max, inverse_max);
      break;
  }
}

}  // namespace
}  // namespace imgpipe::cuda

extern "C" int imgpipe_cuda_point_program(imgpipe_cuda_context* context, const imgpipe_cuda_image* src,
                                          const imgpipe_cuda_image* dst,
                                          const imgpipe_cuda_point_stage* stages, int count) {
  using namespace imgpipe::cuda;
  if (!context) return IMGPIPE_CUDA_BAD_ARGUMENT;
  if (!valid_image(src) || !valid_image(dst))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "point_program: src and dst must be valid images");
  if (src->data == dst->data)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT, "point_program: dst must not be src");
  if (dst->width != src->width || dst->height != src->height || dst->channels != src->channels ||
      dst->depth != src->depth)
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "point_program: dst must have src's size, channels and depth");
  if (count < 0 || (count > 0 && !stages))
    return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                "point_program: expected 0 or more stages, got " + std::to_string(count));
  const bool three_colours = src->channels >= 3;
  for (int i = 0; i < count; ++i)
    if (!stages[i].table && !three_colours)
      return fail(context, IMGPIPE_CUDA_BAD_ARGUMENT,
                  "point_program: stage " + std::to_string(i) +
                      " is a colour matrix: expected 3 or 4 channels, got " + std::to_string(src->channels));

  const int levels = src->depth == 1 ? 256 : 65536;
  std::vector<std::vector<std::uint16_t>> composed;
  const std::vector<imgpipe_cuda_point_stage> program =
      src->depth == 1 ? compose_tables<std::uint8_t>(stages, count, levels, composed)
                      : compose_tables<std::uint16_t>(stages, count, levels, composed);

  if (const int status =
          check(context, cudaSetDevice(context->device), "point_program: selecting the device"))
    return status;
  DeviceTables tables(context);
  const std::size_t stage_offset = tables.reserve<PointStage>(program.size());
  std::vector<std::size_t> table_offset(program.size());
  for (std::size_t i = 0; i < program.size(); ++i)
    if (program[i].table) table_offset[i] = tables.add(program[i].table, static_cast<std::size_t>(levels));
  if (const int status = tables.allocate()) return status;
  for (std::size_t i = 0; i < program.size(); ++i) {
    PointStage& stage = tables.host<PointStage>(stage_offset)[i];
    stage.table = program[i].table ? tables.device<std::uint16_t>(table_offset[i]) : nullptr;
    for (int k = 0; k < 9; ++k) stage.matrix[k] = program[i].matrix[k];
    for (int k = 0; k < 3; ++k) stage.offset[k] = program[i].offset[k];
  }
  if (const int status = tables.upload()) return status;

  const PointStage* device_stages = tables.device<PointStage>(stage_offset);
  const int stage_count = static_cast<int>(program.size());
  if (src->depth == 1)
    launch<std::uint8_t>(*src, *dst, device_stages, stage_count, context->stream);
  else
    launch<std::uint16_t>(*src, *dst, device_stages, stage_count, context->stream);
  return launched(context, "point_program: launching the kernel");
}
