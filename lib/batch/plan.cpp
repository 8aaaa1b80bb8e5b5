// Planning a batch: every input's output path and format, this shard's share, and the checks
// that must fail before any work starts (paths leaving the output root, collisions, an output
// folder that cannot be written).

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <imgpipe/batch.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/job.hpp>
#include <map>
#include <string>

namespace imgpipe {

namespace fs = std::filesystem;

namespace {

bool template_places_extension(std::string_view output_template) {
  return output_template.find("{ext}") != std::string_view::npos;
}

// The format of one input's output, by the output-format rule `run` follows too: a template
// that spells an extension decides it, and must agree with the format set by the chain file
// or a flag; with {ext}, the set format, else the input's own, PNG for formats we do not
// write (GIF).
Format output_format(const ChainFile& file, std::string_view output_template, const InputFile& input,
                     const fs::path& expanded_without_ext) {
  const std::optional<Format> set = file.output_format_set ? std::optional(file.output.format) : std::nullopt;
  if (!template_places_extension(output_template)) {
    try {
      return resolve_output_format(expanded_without_ext, set);
    } catch (const Error& e) {
      throw Error(ErrorCategory::config,
                  fmt::format("output template \"{}\": {}", output_template, e.what()));
    }
  }
  if (set) return *set;
  if (auto own = format_from_path(input.path); own && *own != Format::svg) return *own;
  return Format::png;
}

// Creates the output root and proves a file can be made in it, so that a read-only or missing
// mount fails now rather than after the first image's work.
void check_writable(const fs::path& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec)
    throw Error(ErrorCategory::io,
                fmt::format("{}: cannot create the output folder: {}", root.string(), ec.message()));
  // Named by the one rule for temporary files (".<name>.imgpipe-XXXXXX"), so that one left by
  // a kill between mkstemp and unlink is removed by `batch --resume` like any other.
  std::string probe = (root / ".write-test.imgpipe-XXXXXX").string();
  const int fd = mkstemp(probe.data());
  if (fd < 0)
    throw Error(ErrorCategory::io, fmt::format("{}: cannot write in the output folder: {}", root.string(),
                                               std::strerror(errno)));
  ::close(fd);
  ::unlink(probe.c_str());
}

}  // namespace

BatchPlan plan_batch(const ChainFile& file, const std::vector<InputFile>& inputs,
                     const BatchOptions& options) {
  if (options.output_root.empty()) throw Error(ErrorCategory::config, "batch: no output folder given");
  BatchPlan plan;
  plan.output_template = !options.output_template.empty() ? options.output_template
                         : !file.output_path.empty()      ? file.output_path
                                                          : std::string(kDefaultOutputTemplate);
  check_output_template(plan.output_template);
  plan.total_inputs = inputs.size();

  // Every input is mapped, not only this shard's: a collision must be found by every shard
  // alike, whichever shard its two inputs fall in.
  std::map<fs::path, std::size_t> owner;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::absolute(options.output_root), ec);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const InputFile& input = inputs[i];
    BatchItem item;
    item.input = input;
    item.index = i;
    const fs::path named = expand_output_template(plan.output_template, input, i, "");
    item.format = output_format(file, plan.output_template, input, named);
    check_output_format(file.chain, item.format);
    item.output = expand_output_template(plan.output_template, input, i, extension_of(item.format));
    if (auto [at, fresh] = owner.emplace(item.output, i); !fresh)
      throw Error(ErrorCategory::config,
                  fmt::format("{} and {} would both be written to {}; change the output template (e.g. "
                              "add {{dir}} or {{index}})",
                              inputs[at->second].path.string(), input.path.string(),
                              (options.output_root / item.output).string()));
    const fs::path target = root / item.output;
    if (fs::exists(target, ec) && fs::equivalent(target, input.path, ec))
      throw Error(ErrorCategory::config,
                  fmt::format("{}: the output template would overwrite this input; write to another folder",
                              input.path.string()));
    if (!options.shard || in_shard(*options.shard, input.relpath)) plan.items.push_back(std::move(item));
  }
  check_writable(options.output_root);
  return plan;
}

}  // namespace imgpipe
