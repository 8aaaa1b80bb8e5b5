#pragma once
// Arithmetic rounded once per operation, the same on the host and the device.
//
// The CPU kernels are built for baseline x86-64, which has no fused multiply-add, so every
// product and sum is rounded on its own. nvcc contracts a * b + c into one fma by default,
// which changes the last bit of a result and can move a decision; the device side therefore
// uses the _rn intrinsics, which are never contracted. The host side is plain C++, which
// gives the same results when it is compiled as the CPU library is, without FMA instructions
// (or with -ffp-contract=off).
// The per-pixel headers (point_math.hpp, colour_math.hpp, palette_math.hpp, dither_math.hpp)
// are written with these, so a host program compiles the very same code to check it.

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define IMGPIPE_HD __host__ __device__
#else
#define IMGPIPE_HD
#endif

namespace imgpipe::cuda {

IMGPIPE_HD inline float add(float x, float y) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(x, y);
#else
  return x + y;
#endif
}
IMGPIPE_HD inline float sub(float x, float y) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(x, y);
#else
  return x - y;
#endif
}
IMGPIPE_HD inline float mul(float x, float y) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(x, y);
#else
  return x * y;
#endif
}
IMGPIPE_HD inline float div(float x, float y) {
#ifdef __CUDA_ARCH__
  return __fdiv_rn(x, y);
#else
  return x / y;
#endif
}

IMGPIPE_HD inline double add(double x, double y) {
#ifdef __CUDA_ARCH__
  return __dadd_rn(x, y);
#else
  return x + y;
#endif
}
IMGPIPE_HD inline double sub(double x, double y) {
#ifdef __CUDA_ARCH__
  return __dsub_rn(x, y);
#else
  return x - y;
#endif
}
IMGPIPE_HD inline double mul(double x, double y) {
#ifdef __CUDA_ARCH__
  return __dmul_rn(x, y);
#else
  return x * y;
#endif
}
IMGPIPE_HD inline double div(double x, double y) {
#ifdef __CUDA_ARCH__
  return __ddiv_rn(x, y);
#else
  return x / y;
#endif
}
// x * y + z rounded once (IEEE fusedMultiplyAdd on both sides).
IMGPIPE_HD inline double fused(double x, double y, double z) {
#ifdef __CUDA_ARCH__
  return __fma_rn(x, y, z);
#else
  return __builtin_fma(x, y, z);
#endif
}

IMGPIPE_HD inline std::uint64_t bits_of(double x) {
#ifdef __CUDA_ARCH__
  return static_cast<std::uint64_t>(__double_as_longlong(x));
#else
  std::uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
#endif
}
IMGPIPE_HD inline double double_of(std::uint64_t bits) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(bits));
#else
  double x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

// Round to nearest, ties to even, of a float that fits an int (cvRound, lrintf).
IMGPIPE_HD inline int round_even(float x) {
#ifdef __CUDA_ARCH__
  return __float2int_rn(x);
#else
  return static_cast<int>(__builtin_rintf(x));
#endif
}

}  // namespace imgpipe::cuda
