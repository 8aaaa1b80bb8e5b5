#pragma once
// --untrusted and --allow-path: which files a chain's steps may read (imgpipe::FileAccess),
// for the commands that load a chain file (run, batch).

#include <CLI/CLI.hpp>
#include <imgpipe/chain.hpp>
#include <string>
#include <vector>

namespace imgpipe::cli {

struct AccessFlags {
  bool untrusted = false;
  std::vector<std::string> allowed;

  void add_to(CLI::App& command) {
    command.add_flag("--untrusted", untrusted,
                     "Treat the chain as untrusted: its steps read only files under --allow-path folders "
                     "(docs/security.md)");
    command
        .add_option("--allow-path", allowed,
                    "A folder whose files an untrusted chain may read (palettes, watermark, mask, model); "
                    "repeatable, implies --untrusted")
        ->type_name("DIR");
  }

  // IMGPIPE_UNTRUSTED and IMGPIPE_ALLOW_PATHS, then the flags on top.
  FileAccess resolve() const {
    FileAccess access = file_access_from_environment();
    access.untrusted = access.untrusted || untrusted || !allowed.empty();
    access.allowed.insert(access.allowed.end(), allowed.begin(), allowed.end());
    return access;
  }
};

}  // namespace imgpipe::cli
