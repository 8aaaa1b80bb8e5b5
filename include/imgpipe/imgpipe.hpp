#pragma once
// Everything public in one include.
#include <imgpipe/chain.hpp>
#include <imgpipe/config.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/kernels/compose.hpp>
#include <imgpipe/kernels/geometry.hpp>
#include <imgpipe/kernels/colour.hpp>
#include <imgpipe/kernels/filter.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/operation.hpp>
#include <imgpipe/palette.hpp>
#include <imgpipe/params.hpp>
#include <imgpipe/version.hpp>
