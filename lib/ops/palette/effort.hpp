#pragma once
// What a quality preset sets for the clustering of palette, pop_art and vectorize, in words, for
// their OpDescriptor::presets: written from the same table the clustering uses (clustering.cpp,
// preset_for()), so the docs cannot drift from it.

#include <imgpipe/context.hpp>
#include <string>

namespace imgpipe::ops {

// "8 starts, the best 3 refined, up to 50 iterations (tolerance 0.05 ΔE) and 50 more on the
// sampled colours; Lab by table".
std::string clustering_effort(QualityPreset quality);

}  // namespace imgpipe::ops
