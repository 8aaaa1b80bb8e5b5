#pragma once
// What a quality preset sets for the clustering of palette, pop_art and vectorize, in words, for
// their OpDescriptor::presets: written from the same table the clustering uses (clustering.cpp,
// preset_for()), so the docs cannot drift from it.

#include <imgpipe/context.hpp>
#include <imgpipe/operation.hpp>
#include <string>
#include <string_view>

namespace imgpipe::ops {

// "8 starts, the best 3 refined, up to 50 iterations (tolerance 0.05 ΔE) and 50 more on the
// sampled colours; Lab by table".
std::string clustering_effort(QualityPreset quality);

// The presets of an operation that clusters with cluster()'s own sampling (pop_art,
// vectorize): the effort, then every pixel at ultra and the sampling grid at the others;
// `ultra_prefix` starts ultra's text ("clustering of one panel's size: ").
OpDescriptor::PresetEffects clustering_presets(std::string_view ultra_prefix = "clustering: ");

}  // namespace imgpipe::ops
