#pragma once
// Everything public in one include.
#include <imgpipe/chain.hpp>
#include <imgpipe/config.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/monitor.hpp>
#include <imgpipe/operation.hpp>
#include <imgpipe/params.hpp>
#include <imgpipe/version.hpp>
