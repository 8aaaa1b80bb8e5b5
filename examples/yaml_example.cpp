// Runs a YAML chain file on one image, the way `imgpipe run` does.
//   yaml_example CHAIN.yaml INPUT OUTPUT
#include <cstdio>
#include <imgpipe/imgpipe.hpp>
#include <optional>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CHAIN.yaml INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  try {
    imgpipe::ChainFile file = imgpipe::load_chain_file(argv[1]);
    imgpipe::apply_environment(file);
    imgpipe::SaveOptions save = file.output;
    save.format = imgpipe::resolve_output_format(
        argv[3], file.output_format_set ? std::optional(file.output.format) : std::nullopt);
    // The job runner: opens and probes the input once, runs in memory or streamed as the
    // memory budget says, writes every variant atomically.
    imgpipe::Job job(file, argv[2], file.context);
    job.run(argv[3], save);
  } catch (const imgpipe::Error& e) {
    std::fprintf(stderr, "%s error: %s\n", imgpipe::to_string(e.category()).data(), e.what());
    return e.category() == imgpipe::ErrorCategory::config ? 2 : 1;
  }
  return 0;
}
