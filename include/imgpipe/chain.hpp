#pragma once
/// \file
/// Chain: an ordered list of validated steps, built fluently in C++ or loaded from YAML.
///
/// ```cpp
/// auto chain = imgpipe::Chain()
///                  .then("resize", {{"width", 1200}, {"height", 800}, {"fit", "inside"}})
///                  .then("adjust_colors", {{"brightness", 1.1}, {"contrast", 1.2}})
///                  .then("sharpen", {{"amount", 0.3}});
/// imgpipe::Image out = chain.run(imgpipe::load("in.jpg"), context);
/// ```
///
/// Parameters are checked when a step is added, not when the chain runs. Consecutive point
/// operations run fused in one pass over the pixels.

#include <filesystem>
#include <functional>
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

/// A step's parameters as C++ gives them to Chain::then(): (name, value) pairs.
using ParamList = std::vector<std::pair<std::string, Value>>;

/// Which files a chain's steps may read: the palette files, watermark images, masks and models
/// that parameters of type path name. Every file is read as a regular file of bounded size
/// (never a device, a pipe or a folder), and error messages never quote its contents.
/// - trusted (the default): any such file — for a user's own chains;
/// - untrusted: only files under the `allowed` folders, checked when the step is added, after
///   symbolic links and relative parts are resolved; a path with a ".." part is refused, and
///   with no folder allowed no file is. For chains that come from others: a request to a
///   service, a shared folder of chain files. The step then reads the resolved path.
///
/// A relative path in a step resolves against `base` when it is set: load_chain_file() sets it
/// to the chain file's folder, so a chain and the palettes or watermark beside it move together.
struct FileAccess {
  bool untrusted = false;                      ///< read only files under `allowed`
  std::vector<std::filesystem::path> allowed;  ///< the folders an untrusted chain may read
  std::filesystem::path base = {};             ///< relative paths resolve here; empty: the working folder
};

/// IMGPIPE_UNTRUSTED (1/true/yes) and IMGPIPE_ALLOW_PATHS (folders separated by ':'), as
/// flags give them on top. An allowed folder implies untrusted. Bad values: Error(config).
FileAccess file_access_from_environment(const std::function<const char*(const char*)>& getenv = nullptr);

/// One output of a chain. Steps such as `palette` fan out into named variants; the steps after
/// them run once per variant. A chain without such a step gives one variant named "".
struct Variant {
  std::string name;  ///< the variant's name; "" for the one output of a chain without variants
  Image image;       ///< the variant's image after every step
};

/// An ordered list of validated steps (see the file's description).
class Chain {
 public:
  /// An empty chain whose steps may read any file they name (FileAccess's default, trusted).
  Chain() = default;
  /// An empty chain whose steps may read only the files `access` allows.
  explicit Chain(FileAccess access) : access_(std::move(access)) {}

  /// Appends an operation from the global registry. Throws Error(config) on an unknown
  /// operation or an invalid parameter. A parameter "device" ("auto", "cpu", "opencl", "cuda")
  /// sets where the step runs (Step::device).
  Chain& then(std::string_view op, const ParamList& params = {});
  /// Appends an operation by its descriptor, with parameters validate_params() checked. The
  /// files its path parameters name are checked against access(). The descriptor must outlive
  /// the chain. `device`: where the step runs (Step::device); opencl or cuda for an operation
  /// without a path there is Error(config).
  Chain& then(const OpDescriptor& descriptor, const Params& params, Device device = Device::automatic);

  /// The steps, in the order they run.
  const std::vector<Step>& steps() const { return steps_; }
  /// Which files the steps may read.
  const FileAccess& access() const { return access_; }
  /// Whether the chain has no steps.
  bool empty() const { return steps_.empty(); }

  /// Decode options that make a leading downscale cheaper (shrink-on-load): the smallest size
  /// the decoder may produce for an input of the given (oriented) size. {0,0} when none.
  cv::Size min_decode_size(cv::Size input, QualityPreset quality = QualityPreset::balanced) const;

  /// Runs every step. Consecutive point operations are fused into one pass unless
  /// `fuse_point_ops` is false (the unfused path exists to prove fusion changes nothing).
  /// run() is for chains with one output; a chain that fans out throws Error(config).
  Image run(const Image& input, const Context& context, bool fuse_point_ops = true) const;
  /// Runs every step as run() does, giving every variant the chain makes (one, named "", for
  /// a chain that does not fan out).
  std::vector<Variant> run_variants(const Image& input, const Context& context,
                                    bool fuse_point_ops = true) const;

  /// A stable text form of the steps and every parameter (defaults included) — the same
  /// for equal chains however they were built; used for cache keys and `--verbose`.
  std::string canonical() const;

 private:
  std::vector<Variant> run_from(std::size_t first, const Image& input, const std::string& name,
                                const Context& context, bool fuse_point_ops) const;
  FileAccess access_;
  std::vector<Step> steps_;
};

/// Where a variant of an output goes: `output` itself for the unnamed variant; otherwise
/// "{variant}" in the name is replaced by the variant's name, or, without it, the name gets
/// `"-<variant>"` before its extension (out.png → out-sunset.png).
std::filesystem::path variant_path(const std::filesystem::path& output, const std::string& variant);

/// What a batch does when an input fails (a chain file's `on_error`): `stop` ends the run
/// after the first failed input, `continue_` records the failure and goes on.
enum class OnError { stop, continue_ };

/// Everything a chain file says: settings, steps, output, error policy.
struct ChainFile {
  std::string source;                ///< file name, for messages
  Context context;                   ///< the `performance` settings
  Chain chain;                       ///< the `chain` steps
  SaveOptions output;                ///< the `output` settings
  bool output_format_set = false;    ///< false: the format comes from the output path
  std::string output_path;           ///< a template such as "{stem}.webp"; may be empty
  OnError on_error = OnError::stop;  ///< what a batch does when an input fails

  /// Load options for this chain: shrink-on-load when it starts with a downscale. They refer
  /// to this ChainFile, which must outlive them.
  LoadOptions load_options() const;
};

}  // namespace imgpipe
