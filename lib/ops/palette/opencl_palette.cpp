#include "opencl_palette.hpp"

#include <fmt/format.h>

#include <opencv2/core/ocl.hpp>
#include <string>
#include <vector>

#include "../device_ops.hpp"

namespace imgpipe::ops {

namespace {

// The per-pixel code of lib/cuda/palette_math.hpp and colour_math.hpp in OpenCL C: every
// operation single-rounding IEEE, in the CPU's order (no contraction into fused multiply-adds;
// division correctly rounded by the build option). -D options: CN (source channels), T (uchar
// or ushort) and WIDE (16-bit source); ASSIGN or APPLY, the kernel to build; for palette_assign
// MASK (the mask buffer decides) or USE_ALPHA (alpha below 128 is left out), for palette_apply
// OUT (3 or 4 output channels).
constexpr const char* kOpenclPaletteKernels = R"CL(
#pragma OPENCL FP_CONTRACT OFF

#define MASKED 255

// cv::Mat::convertTo(CV_8U, 1.0 / 257.0) of a 16-bit sample: float scale, ties to even.
inline uchar sample8(__global const T* s, int c) {
#ifdef WIDE
  const int rounded = convert_int_rte((float)s[c] * 0x1.fe01fep-9f);
  return (uchar)(rounded > 255 ? 255 : rounded);
#else
  return s[c];
#endif
}

// The pixel as 8-bit RGBA: grey replicated, alpha 255 where there is none.
inline uchar4 load_rgba8(__global const uchar* row, int x) {
  __global const T* s = (__global const T*)row + x * CN;
  if (CN <= 2) {
    const uchar grey = sample8(s, 0);
    return (uchar4)(grey, grey, grey, CN == 2 ? sample8(s, 1) : (uchar)255);
  }
  return (uchar4)(sample8(s, 0), sample8(s, 1), sample8(s, 2), CN == 4 ? sample8(s, 3) : (uchar)255);
}

#ifdef ASSIGN
inline float lab_f(__global const float* table, float t) {
  if (t <= 0) return table[0];
  if (t >= 1) return table[4096];
  const float position = t * 4096.0f;
  const int i = (int)position;
  const float w = position - (float)i;
  return table[i] * (1.0f - w) + table[i + 1] * w;
}

__kernel void palette_assign(__global const uchar* src, int src_step, int src_offset,
                             __global uchar* dst, int dst_step, int dst_offset, int rows, int cols,
                             __global const uchar* mask, int mask_step, int mask_offset,
                             __global const float* centres, int k,
                             __global const float* linear, __global const float* f_table,
                             __global int* any_masked) {
  const int x = get_global_id(0), y = get_global_id(1);
  if (x >= cols || y >= rows) return;
  __global uchar* label = dst + dst_offset + y * dst_step + x;
  const uchar4 p = load_rgba8(src + src_offset + y * src_step, x);
#ifdef MASK
  const bool out = mask[mask_offset + y * mask_step + x] == 0;
#elif defined(USE_ALPHA) && CN % 2 == 0
  const bool out = p.w < 128;
#else
  const bool out = false;
#endif
  if (out) {
    *label = MASKED;
    *any_masked = 1;
    return;
  }
  const float lr = linear[p.x], lg = linear[p.y], lb = linear[p.z];
  const float X = (0.4124564f * lr + 0.3575761f * lg + 0.1804375f * lb) / 0.95047f;
  const float Y = 0.2126729f * lr + 0.7151522f * lg + 0.0721750f * lb;
  const float Z = (0.0193339f * lr + 0.1191920f * lg + 0.9503041f * lb) / 1.08883f;
  const float fx = lab_f(f_table, X), fy = lab_f(f_table, Y), fz = lab_f(f_table, Z);
  const float L = 116.0f * fy - 16.0f, A = 500.0f * (fx - fy), B = 200.0f * (fy - fz);
  int best = 0;
  float best_d = 0;
  for (int c = 0; c < k; ++c) {
    const float dl = L - centres[3 * c], da = A - centres[3 * c + 1], db = B - centres[3 * c + 2];
    const float d = dl * dl + da * da + db * db;
    if (c == 0 || d < best_d) {
      best_d = d;
      best = c;
    }
  }
  *label = (uchar)best;
}
#endif

#ifdef APPLY
inline int luma709(int r, int g, int b) {
  return (54 * r + 183 * g + 19 * b + 128) >> 8;
}

__kernel void palette_apply(__global const uchar* src, int src_step, int src_offset,
                            __global uchar* dst, int dst_step, int dst_offset, int rows, int cols,
                            __global const uchar* labels, int labels_step, int labels_offset,
                            __global const uchar* colours, __global const uchar* centres,
                            int preserve_shading, int mask_mode, uchar4 fill) {
  const int x = get_global_id(0), y = get_global_id(1);
  if (x >= cols || y >= rows) return;
  const uchar label = labels[labels_offset + y * labels_step + x];
  const uchar4 s = load_rgba8(src + src_offset + y * src_step, x);
  __global uchar* d = dst + dst_offset + y * dst_step + x * OUT;
  uchar4 v;
  if (label == MASKED) {
    v = mask_mode == 0 ? s : mask_mode == 1 ? (uchar4)(0, 0, 0, 0) : fill;
  } else {
    __global const uchar* c = colours + 4 * label;
    if (preserve_shading) {
      __global const uchar* centre = centres + 4 * label;
      const int shift = luma709(s.x, s.y, s.z) - luma709(centre[0], centre[1], centre[2]);
      v = (uchar4)(convert_uchar_sat(c[0] + shift), convert_uchar_sat(c[1] + shift),
                   convert_uchar_sat(c[2] + shift), s.w);
    } else {
      v = (uchar4)(c[0], c[1], c[2], s.w);
    }
  }
  d[0] = v.x;
  d[1] = v.y;
  d[2] = v.z;
  if (OUT == 4) d[3] = v.w;
}
#endif
)CL";

const cv::ocl::ProgramSource& palette_program() {
  static const cv::ocl::ProgramSource program(kOpenclPaletteKernels);
  return program;
}

std::string palette_build_options(const cv::UMat& src) {
  return fmt::format("-cl-fp32-correctly-rounded-divide-sqrt -D CN={} -D T={}{}", src.channels(),
                     src.depth() == CV_16U ? "ushort" : "uchar", src.depth() == CV_16U ? " -D WIDE" : "");
}

template <typename T>
cv::UMat palette_buffer(const std::vector<T>& values, int type) {
  cv::UMat out;
  cv::Mat(1, static_cast<int>(values.size()), type, const_cast<T*>(values.data())).copyTo(out);
  return out;
}

cv::UMat palette_buffer(const float* values, int count) {
  cv::UMat out;
  cv::Mat(1, count, CV_32F, const_cast<float*>(values)).copyTo(out);
  return out;
}

}  // namespace

bool opencl_palette_supported() {
  return (cv::ocl::Device::getDefault().singleFPConfig() &
          cv::ocl::Device::FP_CORRECTLY_ROUNDED_DIVIDE_SQRT) != 0;
}

bool opencl_palette_assign(const cv::UMat& src, const cv::UMat& mask, bool use_alpha,
                           const CudaAssignTables& tables, cv::UMat& labels) {
  const std::string options =
      palette_build_options(src) +
      fmt::format(" -D ASSIGN{}{}", use_alpha ? " -D USE_ALPHA" : "", mask.empty() ? "" : " -D MASK");
  labels.create(src.size(), CV_8UC1);
  // Without a mask the kernel reads none; OpenCL takes no empty buffer.
  const cv::UMat mask_arg = mask.empty() ? cv::UMat(1, 1, CV_8UC1, cv::Scalar(255)) : mask;
  const cv::UMat centres = palette_buffer(tables.centres, CV_32F);
  const cv::UMat linear = palette_buffer(tables.lab.linear, 256);
  const cv::UMat f = palette_buffer(tables.lab.f, 4097);
  cv::UMat any_masked(1, 1, CV_32SC1, cv::Scalar(0));
  run_opencl_kernel("palette_assign", palette_program(), options, src, labels,
                    cv::ocl::KernelArg::ReadOnlyNoSize(mask_arg), cv::ocl::KernelArg::PtrReadOnly(centres),
                    static_cast<int>(tables.centres.size() / 3), cv::ocl::KernelArg::PtrReadOnly(linear),
                    cv::ocl::KernelArg::PtrReadOnly(f), cv::ocl::KernelArg::PtrReadWrite(any_masked));
  cv::Mat flag;
  any_masked.copyTo(flag);
  return flag.at<int>(0, 0) != 0;
}

void opencl_palette_apply(const cv::UMat& labels, const cv::UMat& src, const CudaApplyTables& tables,
                          int channels, cv::UMat& dst) {
  const std::string options = palette_build_options(src) + fmt::format(" -D APPLY -D OUT={}", channels);
  dst.create(src.size(), CV_8UC(channels));
  const cv::UMat colours = palette_buffer(tables.colours, CV_8U);
  const cv::UMat centres = palette_buffer(tables.centres, CV_8U);
  const cv::Vec4b fill(tables.fill[0], tables.fill[1], tables.fill[2], tables.fill[3]);
  run_opencl_kernel("palette_apply", palette_program(), options, src, dst,
                    cv::ocl::KernelArg::ReadOnlyNoSize(labels), cv::ocl::KernelArg::PtrReadOnly(colours),
                    cv::ocl::KernelArg::PtrReadOnly(centres), tables.preserve_shading, tables.mask_mode,
                    fill);
}

}  // namespace imgpipe::ops
