// Builds a chain in C++, runs it on one image and writes WebP.
//   chain_example INPUT OUTPUT.webp
#include <cstdio>
#include <imgpipe/imgpipe.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s INPUT OUTPUT.webp\n", argv[0]);
    return 2;
  }
  try {
    auto chain = imgpipe::Chain()
                     .then("resize", {{"width", 800}, {"height", 600}, {"fit", "inside"}})
                     .then("adjust_colors", {{"brightness", 1.05}, {"saturation", 1.2}})
                     .then("sharpen", {{"amount", 0.5}});
    imgpipe::Context context;
    context.quality = imgpipe::QualityPreset::high;
    imgpipe::Image image = chain.run(imgpipe::load(argv[1]), context);
    imgpipe::SaveOptions webp;
    webp.format = imgpipe::Format::webp;
    webp.quality = 85;
    imgpipe::save(image, argv[2], webp);
    std::printf("%s: %dx%d\n", argv[2], image.width(), image.height());
  } catch (const imgpipe::Error& e) {
    std::fprintf(stderr, "%s error: %s\n", imgpipe::to_string(e.category()).data(), e.what());
    return 1;
  }
  return 0;
}
