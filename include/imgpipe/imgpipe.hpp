#pragma once
/// \file
/// Everything public in one include.
#include <imgpipe/analysis_cache.hpp>
#include <imgpipe/batch.hpp>
#include <imgpipe/chain.hpp>
#include <imgpipe/config.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/job.hpp>
#include <imgpipe/kernels/colour.hpp>
#include <imgpipe/kernels/compose.hpp>
#include <imgpipe/kernels/dither.hpp>
#include <imgpipe/kernels/enhanced_bw.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <imgpipe/kernels/pop_art.hpp>
#include <imgpipe/kernels/remove_background.hpp>
#include <imgpipe/kernels/vectorize.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/operation.hpp>
#include <imgpipe/palette.hpp>
#include <imgpipe/params.hpp>
#include <imgpipe/stream.hpp>
#include <imgpipe/version.hpp>

/// \namespace imgpipe
/// Everything public: chains and their operations, images and their input and output, the job
/// runner, streaming, the batch engine and the palette engine.

/// \file imgpipe/version.hpp
/// The version of these headers (the project's version, written in by the build) and of the
/// library linked.

/// \def IMGPIPE_VERSION_MAJOR
/// The major version of these headers.

/// \def IMGPIPE_VERSION_MINOR
/// The minor version of these headers.

/// \def IMGPIPE_VERSION_PATCH
/// The patch version of these headers.

/// \def IMGPIPE_VERSION_STRING
/// The version of these headers as text: "major.minor.patch".

/// \fn const char* imgpipe::version() noexcept
/// The version of the library actually linked, as IMGPIPE_VERSION_STRING gives it: it may
/// differ from the headers' when a program runs with another build of the shared library.
