#pragma once
// The palette engine's full-resolution assignment (assign_pixels() in clustering.cpp, through
// LabConverter's tables) and Clustering::apply() on OpenCL, with imgpipe's own kernels: the
// same per-pixel arithmetic as lib/cuda/palette_math.hpp, so the same labels and pixels as the
// CPU, bit for bit.

#include <opencv2/core/mat.hpp>

#include "cuda_tables.hpp"

namespace imgpipe::ops {

// Whether the default OpenCL device runs the palette kernels as the CPU computes: it must divide
// single-precision floats correctly rounded when asked to.
bool opencl_palette_supported();

// The labels (CV_8UC1) of `src` (1..4 channels, CV_8U or CV_16U): kMasked where `mask` (CV_8UC1
// of src's size, or empty) is zero or, without a mask and with `use_alpha`, where the alpha is
// below 128; else the nearest of the table-driven assignment's centres. Returns whether any
// pixel is left out. Throws Error(device) when a kernel does not build or run.
bool opencl_palette_assign(const cv::UMat& src, const cv::UMat& mask, bool use_alpha,
                           const CudaAssignTables& tables, cv::UMat& labels);

// Clustering::apply() of `labels` over `src`: `dst` becomes 8-bit RGB (`channels` 3) or RGBA (4).
void opencl_palette_apply(const cv::UMat& labels, const cv::UMat& src, const CudaApplyTables& tables,
                          int channels, cv::UMat& dst);

}  // namespace imgpipe::ops
