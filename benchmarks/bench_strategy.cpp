// The planner's strategies side by side: palette and remove_background run direct, scaled and
// pyramid on real photos resized to a long side of 1024, 2048, 4096 and 8192 px, with time and
// quality against direct:
//   palette (centers, k = 10) on shell-5120x2880.jpg: mean CIE76 ΔE of the recoloured image to
//     the original (each strategy's own clustering error), and mean ΔE to direct's output;
//   remove_background (classical, rgba) on motorcycle_left.png, a subject on a plain ground:
//     the IoU of the mask (alpha >= 128) with direct's, and with the truth on a synthetic scene
//     (an ellipse of known outline, as in the tests), where direct's own errors show too.
// A direct run is skipped when the previous size's direct time, scaled by the pixel count,
// predicts more than --direct-limit seconds (grabCut on every pixel is slow and needs several
// GB at 8192 px).
//   build/benchmarks/bench_strategy [--sizes 1024,2048,4096,8192] [--direct-limit 60] [--runs 3]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <imgpipe/imgpipe.hpp>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "bench_photos.hpp"

namespace {

using imgpipe::bench::bench_photo;

using imgpipe::Chain;
using imgpipe::Context;
using imgpipe::Image;

// `path` resized (area down, cubic up) so its long side is `side`.
Image photo_at(const std::string& path, int side) {
  const Image full = imgpipe::load(path);
  const double scale = static_cast<double>(side) / std::max(full.width(), full.height());
  cv::Mat resized;
  cv::resize(full.pixels, resized, cv::Size(), scale, scale, scale < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return full.with_pixels(resized);
}

// A textured orange ellipse on a noisy two-colour gradient, with its outline (the test scene).
Image scene_at(int side, cv::Mat& truth) {
  const int width = side, height = side * 3 / 4;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 3);
  truth = cv::Mat::zeros(height, width, CV_8U);
  cv::ellipse(truth, cv::Point(width / 2, height * 55 / 100), cv::Size(width / 5, height / 4), 15, 0, 360,
              cv::Scalar(255), cv::FILLED);
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double fx = static_cast<double>(x) / width, fy = static_cast<double>(y) / height;
      double r = 60 + 60 * fx, g = 110 + 40 * fy, b = 170 - 30 * fx;
      if (truth.at<std::uint8_t>(y, x)) {
        const double stripe = 20 * std::sin(x * 0.2 * 1024 / side);
        r = 225 + stripe * 0.5, g = 120 + stripe, b = 40;
      }
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<std::uint8_t>(r + noise(rng)),
                                          cv::saturate_cast<std::uint8_t>(g + noise(rng)),
                                          cv::saturate_cast<std::uint8_t>(b + noise(rng)));
    }
  return Image(rgb);
}

cv::Mat lab_of(const cv::Mat& rgb8) {
  cv::Mat f, lab;
  rgb8.convertTo(f, CV_32F, 1.0 / 255.0);
  cv::cvtColor(f, lab, cv::COLOR_RGB2Lab);
  return lab;
}

double mean_delta_e(const cv::Mat& lab_a, const cv::Mat& lab_b) {
  cv::Mat diff = lab_a - lab_b, squared, distance;
  cv::multiply(diff, diff, squared);
  cv::transform(squared, distance, cv::Matx13f(1, 1, 1));
  cv::sqrt(distance, distance);
  return cv::mean(distance)[0];
}

double iou(const cv::Mat& a, const cv::Mat& b) {
  const cv::Mat x = a >= 128, y = b >= 128;
  return static_cast<double>(cv::countNonZero(x & y)) / std::max(1, cv::countNonZero(x | y));
}

cv::Mat alpha_of(const Image& image) {
  cv::Mat alpha;
  cv::extractChannel(image.pixels, alpha, image.channels() - 1);
  return alpha;
}

struct Timed {
  Image image;
  double ms = 0;
};

// The best wall time of `runs` runs.
Timed run(const Chain& chain, const Image& input, int runs) {
  Timed out;
  out.ms = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    out.image = chain.run(input, Context{});
    out.ms = std::min(
        out.ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  return out;
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) sizes.push_back(std::stoi(item));
  return sizes;
}

const char* const kStrategies[] = {"direct", "scaled", "pyramid"};

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1024, 2048, 4096, 8192};
  double direct_limit_s = 60;
  int runs = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--sizes")
      sizes = parse_sizes(argv[i + 1]);
    else if (flag == "--direct-limit")
      direct_limit_s = std::stod(argv[i + 1]);
    else if (flag == "--runs")
      runs = std::stoi(argv[i + 1]);
  }

  std::printf("palette {palettes: centers, k: 10} on shell-5120x2880.jpg; ms = best of %d\n\n", runs);
  std::printf(
      "| long side | strategy | ms | mean ΔE to the original | mean ΔE to direct's output "
      "|\n|---|---|---|---|---|\n");
  for (const int side : sizes) {
    const Image input = photo_at(bench_photo("shell-5120x2880.jpg"), side);
    const cv::Mat original = lab_of(input.pixels);
    cv::Mat direct_lab;
    for (const char* strategy : kStrategies) {
      const Chain chain =
          Chain().then("palette", {{"palettes", "centers"}, {"k", 10}, {"strategy", strategy}});
      const Timed t = run(chain, input, runs);
      const cv::Mat lab = lab_of(t.image.pixels);
      if (direct_lab.empty()) direct_lab = lab;
      std::printf("| %dx%d | %s | %.0f | %.3f | %.3f |\n", input.width(), input.height(), strategy, t.ms,
                  mean_delta_e(lab, original), mean_delta_e(lab, direct_lab));
      std::fflush(stdout);
    }
  }

  for (const bool synthetic : {false, true}) {
    std::printf("\nremove_background {output: rgba} on %s; ms = best of %d (one run past 4 Mpx)\n\n",
                synthetic ? "a synthetic scene of known outline (4:3)" : "motorcycle_left.png", runs);
    std::printf("| long side | strategy | ms | IoU with direct |%s\n|---|---|---|---|%s\n",
                synthetic ? " IoU with the truth |" : "", synthetic ? "---|" : "");
    std::optional<double> direct_ms_per_px;
    for (const int side : sizes) {
      cv::Mat truth;
      const Image input =
          synthetic ? scene_at(side, truth) : photo_at(bench_photo("motorcycle_left.png"), side);
      const double pixels = static_cast<double>(input.pixels.total());
      const int n = pixels > 4e6 ? 1 : runs;
      cv::Mat direct_alpha;
      for (const char* strategy : kStrategies) {
        const bool direct = std::string(strategy) == "direct";
        if (direct && direct_ms_per_px && *direct_ms_per_px * pixels > direct_limit_s * 1000) {
          std::printf("| %dx%d | direct | not run: about %.0f s predicted | — |%s\n", input.width(),
                      input.height(), *direct_ms_per_px * pixels / 1000, synthetic ? " — |" : "");
          continue;
        }
        const Chain chain = Chain().then("remove_background", {{"strategy", strategy}});
        const Timed t = run(chain, input, direct ? 1 : n);
        const cv::Mat alpha = alpha_of(t.image);
        if (direct) {
          direct_alpha = alpha;
          direct_ms_per_px = t.ms / pixels;
        }
        const std::string with_direct =
            direct_alpha.empty() ? "—" : fmt::format("{:.4f}", iou(alpha, direct_alpha));
        std::printf("| %dx%d | %s | %.0f | %s |%s\n", input.width(), input.height(), strategy, t.ms,
                    with_direct.c_str(),
                    synthetic ? fmt::format(" {:.4f} |", iou(alpha, truth)).c_str() : "");
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
