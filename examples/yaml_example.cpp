// Runs a YAML chain file on one image, the way `imgpipe run` does.
//   yaml_example CHAIN.yaml INPUT OUTPUT
#include <cstdio>

#include <imgpipe/imgpipe.hpp>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CHAIN.yaml INPUT OUTPUT\n", argv[0]);
    return 2;
  }
  try {
    imgpipe::ChainFile file = imgpipe::load_chain_file(argv[1]);
    imgpipe::apply_environment(file);
    imgpipe::Image input = imgpipe::load(argv[2], file.load_options(), file.context.limits);
    imgpipe::Image output = file.chain.run(input, file.context);
    if (auto format = file.format_for(argv[3])) file.output.format = *format;
    imgpipe::save(output, argv[3], file.output, file.context.quality);
  } catch (const imgpipe::Error& e) {
    std::fprintf(stderr, "%s error: %s\n", imgpipe::to_string(e.category()).data(), e.what());
    return e.category() == imgpipe::ErrorCategory::config ? 2 : 1;
  }
  return 0;
}
