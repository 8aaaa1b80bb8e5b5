#pragma once
/// \file
/// YAML chain files. The format is documented in docs/yaml.md:
///
/// ```yaml
/// performance: {device: auto, max_memory: 4GB, tile_size: 512, quality: balanced}
/// chain:
///   - resize: {width: 1200, height: 800, fit: inside}
///   - adjust_colors: {brightness: 1.1, contrast: 1.2}
/// output: {format: webp, quality: 85}
/// on_error: continue
/// ```
///
/// Every mistake is an Error(config) naming the file, line and column and what is allowed.
/// Precedence of settings: CLI flag > `IMGPIPE_*` environment variable > file > default.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <imgpipe/chain.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace imgpipe {

/// Reads and parses a chain file (a regular file of at most 4 MB). `access` says which files
/// the chain's steps may read (FileAccess in chain.hpp): a chain that comes from others is
/// loaded untrusted. Relative paths in its steps (palettes, watermark image, mask, model)
/// resolve against the file's folder, unless `access.base` names another.
ChainFile load_chain_file(const std::filesystem::path& path, const FileAccess& access = {});
/// Parses a chain file's text. `name` is used in messages in place of a file name.
ChainFile parse_chain(std::string_view yaml_text, const std::string& name = "<string>",
                      const FileAccess& access = {});

/// Applies `IMGPIPE_*` variables (IMGPIPE_THREADS, IMGPIPE_DEVICE, IMGPIPE_MAX_MEMORY,
/// IMGPIPE_MAX_PIXELS, IMGPIPE_MAX_FILE_SIZE, IMGPIPE_MAX_METADATA_SIZE,
/// IMGPIPE_MAX_METADATA_SEGMENTS, IMGPIPE_TILE_SIZE, IMGPIPE_PARALLEL_IMAGES,
/// IMGPIPE_PRESET, IMGPIPE_FORMAT, IMGPIPE_QUALITY, IMGPIPE_ON_ERROR). `getenv` is injectable
/// for tests. Bad values are Error(config) naming the variable.
void apply_environment(ChainFile& file, const std::function<const char*(const char*)>& getenv = nullptr);

/// Sets one setting from text as a flag or variable gives it. `key` is its place in the file:
/// "performance.threads", "output.quality", "on_error". A refused value is Error(config)
/// naming `origin` (the flag or variable) and what is allowed.
void apply_setting(ChainFile& file, std::string_view key, std::string_view text, std::string_view origin);

/// "4GB", "512MiB", "1.5G", "1000000" → bytes. nullopt when malformed.
std::optional<std::uint64_t> parse_byte_size(std::string_view text) noexcept;

}  // namespace imgpipe
