#pragma once
// Chain: an ordered list of validated steps, built fluently in C++ or loaded from YAML.
//
//   auto chain = imgpipe::Chain()
//                    .then("resize", {{"width", 1200}, {"height", 800}, {"fit", "inside"}})
//                    .then("adjust_colors", {{"brightness", 1.1}, {"contrast", 1.2}})
//                    .then("sharpen", {{"amount", 0.3}});
//   imgpipe::Image out = chain.run(imgpipe::load("in.jpg"), context);
//
// Parameters are checked when a step is added, not when the chain runs. Consecutive point
// operations run fused in one pass over the pixels.

#include <filesystem>
#include <imgpipe/context.hpp>
#include <imgpipe/image.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/operation.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgpipe {

using ParamList = std::vector<std::pair<std::string, Value>>;

// One output of a chain. Steps such as `palette` fan out into named variants; the steps after
// them run once per variant. A chain without such a step gives one variant named "".
struct Variant {
  std::string name;
  Image image;
};

class Chain {
 public:
  Chain() = default;

  // Appends an operation from the global registry. Throws Error(config) on an unknown
  // operation or an invalid parameter.
  Chain& then(std::string_view op, const ParamList& params = {});
  Chain& then(const OpDescriptor& descriptor, const Params& params);

  const std::vector<Step>& steps() const { return steps_; }
  bool empty() const { return steps_.empty(); }

  // Decode options that make a leading downscale cheaper (shrink-on-load): the smallest size
  // the decoder may produce for an input of the given (oriented) size. {0,0} when none.
  cv::Size min_decode_size(cv::Size input, QualityPreset quality = QualityPreset::balanced) const;

  // Runs every step. Consecutive point operations are fused into one pass unless
  // `fuse_point_ops` is false (the unfused path exists to prove fusion changes nothing).
  // run() is for chains with one output; a chain that fans out throws Error(config).
  Image run(const Image& input, const Context& context, bool fuse_point_ops = true) const;
  std::vector<Variant> run_variants(const Image& input, const Context& context,
                                    bool fuse_point_ops = true) const;

  // A stable text form of the steps and every parameter (defaults included) — the same
  // for equal chains however they were built; used for cache keys and `--verbose`.
  std::string canonical() const;

 private:
  std::vector<Variant> run_from(std::size_t first, const Image& input, const std::string& name,
                                const Context& context, bool fuse_point_ops) const;
  std::vector<Step> steps_;
};

// Where a variant of an output goes: `output` itself for the unnamed variant; otherwise
// "{variant}" in the name is replaced by the variant's name, or, without it, the name gets
// "-<variant>" before its extension (out.png → out-sunset.png).
std::filesystem::path variant_path(const std::filesystem::path& output, const std::string& variant);

enum class OnError { stop, continue_ };

// Everything a chain file says: settings, steps, output, error policy.
struct ChainFile {
  std::string source;  // file name, for messages
  Context context;
  Chain chain;
  SaveOptions output;
  bool output_format_set = false;  // false: the format comes from the output path
  std::string output_path;         // a template such as "{stem}.webp"; may be empty
  OnError on_error = OnError::stop;

  // Load options for this chain: shrink-on-load when it starts with a downscale.
  LoadOptions load_options() const;
};

}  // namespace imgpipe
