// palette: cluster the image's colours once, then recolour it with each palette — one named
// variant per palette. Palette files and mask images are read when the chain is built.
//
// An analysis step: the clustering is the analysis. It reduces the image itself
// (Operation::reduces_itself): direct puts every pixel in the colour histogram, scaled samples
// the full image on a grid of the analysis size, so every sample is a colour of the image;
// the palettes are then applied at full resolution, each pixel given its nearest centre from
// its own colour. So pyramid has no uncertain pixels to revisit and is the same as scaled.
// Because of that, applying the clustering is pointwise (one palette, no mask file): a
// streaming run analyses a thumbnail and recolours region by region.

#include <fmt/format.h>

#include <chrono>
#include <functional>
#include <imgpipe/analysis_cache.hpp>
#include <imgpipe/device.hpp>
#include <imgpipe/error.hpp>
#include <imgpipe/io.hpp>
#include <imgpipe/palette.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>

#include "../analysis/strategy.hpp"
#include "../device_ops.hpp"
#include "../register.hpp"
#include "../spec.hpp"
#include "cuda_tables.hpp"
#include "effort.hpp"
#include "lab.hpp"
#include "labels.hpp"
#include "opencl_palette.hpp"

namespace imgpipe {

namespace {

std::vector<std::uint8_t> rgba_bytes(const std::vector<Colour>& colours) {
  std::vector<std::uint8_t> bytes;
  for (const Colour& c : colours) bytes.insert(bytes.end(), {c.r, c.g, c.b, c.a});
  return bytes;
}

}  // namespace

CudaAssignTables cuda_assign_tables(const Clustering& clustering, QualityPreset quality) {
  CudaAssignTables t;
  for (const Lab& lab : clustering.centres_lab())
    t.centres.insert(t.centres.end(),
                     {static_cast<float>(lab.L), static_cast<float>(lab.a), static_cast<float>(lab.b)});
  const auto& converter = palette::LabConverter::instance();
  t.lab = {converter.linear_table(), converter.f_table()};
  if (assigns_exact_lab(quality)) t.exact_linear = palette::exact_linear_table().data();
  return t;
}

CudaApplyTables cuda_apply_tables(const Clustering& clustering, const Palette& palette,
                                  const ApplyOptions& options) {
  CudaApplyTables t;
  t.table = clustering.colour_table(palette, options);
  t.colours = rgba_bytes(t.table);
  t.centres = rgba_bytes(clustering.centres_rgb());
  t.preserve_shading = options.preserve_shading ? 1 : 0;
  t.mask_mode = options.mask_mode == MaskMode::keep ? 0 : options.mask_mode == MaskMode::transparent ? 1 : 2;
  t.fill[0] = options.fill.r, t.fill[1] = options.fill.g, t.fill[2] = options.fill.b,
  t.fill[3] = options.fill.a;
  return t;
}

}  // namespace imgpipe

namespace imgpipe::ops {

namespace {

class PaletteOp;

class PaletteAnalysis final : public Analysis {
 public:
  PaletteAnalysis(const PaletteOp& op, Clustering clustering, cv::Mat analysed)
      : op_(op), clustering_(std::move(clustering)), analysed_(std::move(analysed)) {}

  std::vector<std::pair<std::string, Image>> fan_out(const Image& full,
                                                     const Context& context) const override;
  Image apply(const Image& full, const Context& context) const override {
    auto variants = fan_out(full, context);
    return std::move(variants.front().second);
  }
  std::string summary() const override { return fmt::format("k {}", clustering_.k()); }
  std::vector<std::pair<std::string, double>> values() const override {
    std::vector<std::pair<std::string, double>> v;
    if (clustering_.complexity() >= 0) v.emplace_back("complexity", clustering_.complexity());
    v.emplace_back("k", clustering_.k());
    if (clustering_.k_max() > 0) v.emplace_back("k_max", clustering_.k_max());
    v.emplace_back("stride", clustering_.analysis_stride());
    return v;
  }
  bool pointwise() const override;

 private:
  const PaletteOp& op_;
  Clustering clustering_;
  cv::Mat analysed_;  // the analysed image's pixels (a header): their labels are reused
};

class PaletteOp final : public Operation {
 public:
  explicit PaletteOp(const Params& p)
      : k_(static_cast<int>(p.integer("k"))), seed_(static_cast<std::uint64_t>(p.integer("seed"))) {
    if (p.has("colors") && p.text("colors").starts_with('{')) {
      palettes_ = parse_palettes(p.text("colors"), "colors");
    } else if (p.has("colors")) {
      palettes_.push_back(parse_palette_list(p.text("colors"), p.text("name")));
    } else if (p.text("palettes") == "centers") {
      centres_ = true;
    } else {
      palettes_ = load_palettes(p.text("palettes"));
      reads_files_ = true;
    }
    const auto& mapping = p.text("mapping");
    apply_.mapping = mapping == "nearest" ? ApplyOptions::Mapping::nearest : ApplyOptions::Mapping::lightness;
    apply_.preserve_shading = p.boolean("preserve_shading");
    const auto& masked = p.text("masked");
    apply_.mask_mode = masked == "transparent" ? MaskMode::transparent
                       : masked == "fill"      ? MaskMode::fill
                                               : MaskMode::keep;
    apply_.fill = p.colour("fill");
    const auto& mask = p.text("mask");
    use_alpha_ = mask == "alpha";
    if (mask != "alpha" && mask != "none") {
      mask_source_ = mask;
      mask_ = load_mask(mask);
      reads_files_ = true;
    }
  }

  std::size_t variant_count() const override { return palettes_.empty() ? 1 : palettes_.size(); }

  // The full-resolution assignment and every variant's colours run on CUDA or OpenCL when the
  // step's device (its own, else the chain's) is one of them (PaletteOp::cuda_variants,
  // opencl_variants); the clustering itself stays on the CPU. The executor does not send
  // analysis steps to apply_on().
  bool runs_on(Device device, int, int, QualityPreset) const override {
    return device == Device::cuda || device == Device::opencl;
  }

  std::string resources_digest() const override {
    if (!reads_files_) return {};
    std::string contents;
    for (const auto& palette : palettes_) {
      contents += palette.name + '\n';
      for (const auto& c : palette.colours) contents += to_hex(c);
      contents += '\n';
    }
    if (!mask_.empty()) {
      const cv::Mat mask = mask_.isContinuous() ? mask_ : mask_.clone();
      contents += fmt::format("mask {}x{}\n", mask.cols, mask.rows);
      contents.append(reinterpret_cast<const char*>(mask.data), mask.total());
    }
    return content_digest({reinterpret_cast<const std::uint8_t*>(contents.data()), contents.size()});
  }

  // One palette and no mask file: each pixel's colour comes from its own colour (a mask file
  // holds the whole image's positions; several palettes make several images).
  bool streams_analysis() const override { return variant_count() == 1 && mask_.empty(); }

  bool reduces_itself() const override { return true; }
  // The sampling grid follows the image's complexity (rules R3 and R4, docs/quality.md).
  bool follows_complexity_rules() const override { return true; }

  std::unique_ptr<Analysis> analyse(const Image& analysis_image, const AnalysisPlan& plan,
                                    const Context& context) const override {
    ClusterOptions options = options_for(analysis_image, plan.full_size, context);
    options.analysis_stride = sampling_stride(analysis_image.pixels.size(), plan);
    options.complexity = plan.complexity;
    AnalysisCache* cache = context.analysis_cache;
    if (!cache)
      return std::make_unique<PaletteAnalysis>(*this, cluster(analysis_image, options),
                                               analysis_image.pixels);
    // The same pixels clustered with the same options give the same clustering, whatever the
    // palettes: the labels are reused as if this image had been clustered (same content).
    const std::string key = cache_key(analysis_image, options);
    auto clustering = cache->find<Clustering>(key);
    if (!clustering) {
      clustering = std::make_shared<const Clustering>(cluster(analysis_image, options));
      const cv::Mat& labels = clustering->labels();
      cache->put(key, clustering,
                 analysis_image.pixels.total() * analysis_image.pixels.elemSize() + 2 * labels.total());
    }
    return std::make_unique<PaletteAnalysis>(*this, *clustering, analysis_image.pixels);
  }

  // Everything cluster() depends on: the pixels, the mask and the options.
  std::string cache_key(const Image& image, const ClusterOptions& o) const {
    return fmt::format("palette {} mask {} k {} seed {} stride {} quality {} plan {}/{}",
                       pixel_digest(image.pixels), o.mask.empty() ? std::string("-") : pixel_digest(o.mask),
                       o.k, o.seed, o.analysis_stride, to_string(o.quality), o.plan.direct_below,
                       o.plan.pyramid_above);
  }

  // The histogram's sampling grid on the analysed image: every pixel for direct and for an
  // image that is already reduced (a streaming run's thumbnail); for scaled and pyramid on the
  // full image, the step that samples a grid no smaller than the analysis size.
  static int sampling_stride(cv::Size analysed, const AnalysisPlan& plan) {
    if (plan.strategy == Strategy::direct || analysed != plan.full_size) return 1;
    const int full_side = std::max(plan.full_size.width, plan.full_size.height);
    const int analysis_side = std::max(plan.analysis_size.width, plan.analysis_size.height);
    return std::max(1, full_side / std::max(1, analysis_side));
  }

  std::vector<std::pair<std::string, Image>> fan_out(const Image& input,
                                                     const Context& context) const override {
    const AnalysisPlan direct{Strategy::direct, input.pixels.size(), input.pixels.size()};
    return analyse(input, direct, context)->fan_out(input, context);
  }

  Image apply(const Image& input, const Context& context) const override {
    auto variants = fan_out(input, context);
    return std::move(variants.front().second);
  }

  // The variants of a clustering whose labels are the image's.
  // With Context::indexed_output, a variant whose pixels are exactly table[index] is given as
  // indices and table only.
  std::vector<std::pair<std::string, Image>> variants(const Clustering& clustering, const Image& full,
                                                      const Context& context) const {
    std::vector<std::pair<std::string, Image>> out;
    if (centres_) {
      out.emplace_back("centers", clustering.apply_centres(apply_));
      return out;
    }
    for (const auto& palette : palettes_) {
      if (context.indexed_output) {
        if (auto indexed = clustering.apply_indexed(palette, apply_)) {
          Image image = full.with_pixels({});
          image.indexed = std::move(indexed);
          out.emplace_back(palette.name, std::move(image));
          continue;
        }
      }
      out.emplace_back(palette.name, clustering.apply(palette, apply_));
    }
    return out;
  }

  // The variants of `clustering` applied to `full` on CUDA or OpenCL, when the step's device
  // (Context::device) is one of them and usable; nullopt where they are made on the CPU. The
  // image is uploaded once, its labels are assigned once and stay on the device, and each
  // palette is applied to them and downloaded: the same pixels and Image::indexed as the CPU
  // path. Indexed output (Context::indexed_output: variants of indices only, which need the
  // labels on the host and no pixels) stays on the CPU, and so does OpenCL's assignment at
  // ultra (the exact Lab, whose correctly rounded cube root needs doubles).
  std::optional<std::vector<std::pair<std::string, Image>>> cuda_variants(const Clustering& clustering,
                                                                          const Image& full,
                                                                          const Context& context) const;
  std::optional<std::vector<std::pair<std::string, Image>>> opencl_variants(const Clustering& clustering,
                                                                            const Image& full,
                                                                            const Context& context) const;

  // What one device does for device_variants(): upload the image and the mask (null where
  // there is none), assign the labels (returns whether any pixel is left out), download them,
  // apply one palette's tables into `channels` 8-bit channels, and download that result.
  struct DeviceSteps {
    Device device;
    std::function<void(const cv::Mat& pixels, const cv::Mat* mask)> upload;
    std::function<bool(const CudaAssignTables& tables, bool use_alpha)> assign;
    std::function<cv::Mat()> download_labels;
    std::function<void(const CudaApplyTables& tables, int channels)> apply;
    std::function<cv::Mat()> download;
  };
  std::optional<std::vector<std::pair<std::string, Image>>> device_variants(const Clustering& clustering,
                                                                            const Image& full,
                                                                            const Context& context,
                                                                            const DeviceSteps& steps) const;

  // Options for clustering `image`, a copy of an image of `full` size (masks given for the
  // full size are reduced with area averaging, then half-covered pixels count).
  ClusterOptions options_for(const Image& image, cv::Size full, const Context& context) const {
    ClusterOptions o;
    o.k = k_;
    o.seed = seed_;
    o.quality = context.quality;
    o.plan = context.plan;
    o.monitor = context.monitor;
    if (!mask_.empty()) {
      if (mask_.size() != full)
        throw Error(ErrorCategory::config,
                    fmt::format("palette: mask {} is {}x{} but {} is {}x{}", mask_source_, mask_.cols,
                                mask_.rows, image.source, full.width, full.height));
      o.mask = mask_;
      if (image.pixels.size() != full) {
        cv::Mat reduced;
        cv::resize(mask_ != 0, reduced, image.pixels.size(), 0, 0, cv::INTER_AREA);
        o.mask = reduced >= 128;
      }
    } else if (!use_alpha_ && image.has_alpha()) {
      o.mask = cv::Mat(image.pixels.size(), CV_8UC1, cv::Scalar(255));  // "none": alpha ignored
    }
    return o;
  }

 private:
  int k_;
  std::uint64_t seed_;
  std::vector<Palette> palettes_;
  bool centres_ = false;
  ApplyOptions apply_;
  bool use_alpha_ = true;
  std::string mask_source_;
  cv::Mat mask_;
  bool reads_files_ = false;  // palettes or a mask came from files
};

// The analysed image itself keeps the labels cluster() gave it; any other image (the full
// one after a reduced analysis, or a region of it) is assigned pixel by pixel with the same
// nearest-centre rule cluster() used for its own pixels, so labels never depend on position.
std::optional<std::vector<std::pair<std::string, Image>>> PaletteOp::device_variants(
    const Clustering& clustering, const Image& full, const Context& context, const DeviceSteps& steps) const {
  const cv::Mat& pixels = full.pixels;
  if (context.indexed_output || pixels.empty() || (pixels.depth() != CV_8U && pixels.depth() != CV_16U) ||
      pixels.channels() > 4)
    return std::nullopt;
  // A mask file of another type: the CPU path says what is wrong with it.
  if (!mask_.empty() && mask_.type() != CV_8UC1) return std::nullopt;
  // The CPU's options, with its checks of the mask against the image.
  const ClusterOptions o = options_for(full, pixels.size(), context);
  const auto k = static_cast<std::size_t>(clustering.k());

  using clock = std::chrono::steady_clock;
  const auto ms_since = [](clock::time_point start) {
    return std::chrono::duration<double, std::milli>(clock::now() - start).count();
  };
  DeviceRun record;
  record.device = steps.device;
  record.name = device_status(steps.device).name;

  auto start = clock::now();
  // A mask file leaves out its zeros; mask "none" (o.mask all set) leaves out nothing; without
  // either, alpha below 128 is left out.
  steps.upload(pixels, mask_.empty() ? nullptr : &o.mask);
  synchronize(steps.device);
  record.upload_ms = ms_since(start);

  start = clock::now();
  const bool any_masked = steps.assign(cuda_assign_tables(clustering, o.quality), o.mask.empty());
  record.run_ms = ms_since(start);

  // Image::indexed as Clustering::apply() attaches it: the labels on the host, once for every
  // variant, which share one encode cache as a clustering's variants do.
  const bool indexed = indexable(apply_, full.has_alpha(), any_masked);
  cv::Mat indices;
  const std::shared_ptr<IndexedEncodeCache> encode_cache = indexed ? new_encode_cache() : nullptr;
  if (indexed) {
    start = clock::now();
    indices = indices_of(steps.download_labels(), k, any_masked);
    record.download_ms += ms_since(start);
  }

  const int channels = applied_has_alpha(full.has_alpha() ? 4 : 3, any_masked, apply_) ? 4 : 3;
  const auto variant = [&](const std::string& name, const Palette& palette, const ApplyOptions& options) {
    start = clock::now();
    const CudaApplyTables t = cuda_apply_tables(clustering, palette, options);
    steps.apply(t, channels);
    synchronize(steps.device);
    record.run_ms += ms_since(start);
    start = clock::now();
    Image image = full.with_pixels(steps.download());
    record.download_ms += ms_since(start);
    if (indexed) image.indexed = indexed_pixels(indices, t.table, any_masked, options, encode_cache);
    return std::pair<std::string, Image>(name, std::move(image));
  };

  std::vector<std::pair<std::string, Image>> out;
  if (centres_) {
    // As Clustering::apply_centres(): each cluster its own centre's colour.
    ApplyOptions direct = apply_;
    direct.mapping = ApplyOptions::Mapping::explicit_map;
    direct.explicit_map.resize(k);
    for (std::size_t i = 0; i < k; ++i) direct.explicit_map[i] = static_cast<int>(i);
    out.push_back(variant("centers", Palette{"centres", clustering.centres_rgb()}, direct));
  } else {
    for (const auto& palette : palettes_) out.push_back(variant(palette.name, palette, apply_));
  }
  if (context.device_runs) context.device_runs->push_back(record);
  return out;
}

std::optional<std::vector<std::pair<std::string, Image>>> PaletteOp::cuda_variants(
    const Clustering& clustering, const Image& full, const Context& context) const {
  if (context.device != Device::cuda || !device_status(Device::cuda).usable) return std::nullopt;
  const auto k = static_cast<std::size_t>(clustering.k());
  std::shared_ptr<CudaBuffer> source, mask, labels;
  std::unique_ptr<CudaBuffer> out;
  DeviceSteps steps;
  steps.device = Device::cuda;
  steps.upload = [&](const cv::Mat& pixels, const cv::Mat* mask_pixels) {
    source = CudaBuffer::upload(pixels);
    if (mask_pixels) mask = CudaBuffer::upload(*mask_pixels);
  };
  steps.assign = [&](const CudaAssignTables& tables, bool use_alpha) {
    labels = std::make_shared<CudaBuffer>(source->image().width, source->image().height, 1, CV_8U);
    std::vector<std::uint64_t> counts(k);
    cuda::call("palette_assign", [&](const cuda::Api& api, imgpipe_cuda_context* device) {
      return api.palette_assign(device, &source->image(), mask ? &mask->image() : nullptr, use_alpha ? 1 : 0,
                                tables.centres.data(), static_cast<int>(k), &tables.lab, tables.exact_linear,
                                &labels->image(), counts.data());
    });
    std::uint64_t assigned = 0;
    for (const std::uint64_t count : counts) assigned += count;
    return assigned < static_cast<std::uint64_t>(source->image().width) * source->image().height;
  };
  steps.download_labels = [&] { return labels->download(); };
  steps.apply = [&](const CudaApplyTables& t, int channels) {
    out = std::make_unique<CudaBuffer>(source->image().width, source->image().height, channels, CV_8U);
    cuda::call("palette_apply", [&](const cuda::Api& api, imgpipe_cuda_context* device) {
      return api.palette_apply(device, &labels->image(), &source->image(), t.colours.data(), t.centres.data(),
                               static_cast<int>(k), t.preserve_shading, t.mask_mode, t.fill, &out->image());
    });
  };
  steps.download = [&] { return out->download(); };
  return device_variants(clustering, full, context, steps);
}

std::optional<std::vector<std::pair<std::string, Image>>> PaletteOp::opencl_variants(
    const Clustering& clustering, const Image& full, const Context& context) const {
  if (context.device != Device::opencl || assigns_exact_lab(context.quality) ||
      !device_status(Device::opencl).usable || !opencl_palette_supported())
    return std::nullopt;
  cv::UMat source, mask, labels, out;
  DeviceSteps steps;
  steps.device = Device::opencl;
  steps.upload = [&](const cv::Mat& pixels, const cv::Mat* mask_pixels) {
    pixels.copyTo(source);
    if (mask_pixels) mask_pixels->copyTo(mask);
  };
  steps.assign = [&](const CudaAssignTables& tables, bool use_alpha) {
    return opencl_palette_assign(source, mask, use_alpha, tables, labels);
  };
  steps.download_labels = [&] { return labels.getMat(cv::ACCESS_READ).clone(); };
  steps.apply = [&](const CudaApplyTables& t, int channels) {
    opencl_palette_apply(labels, source, t, channels, out);
  };
  steps.download = [&] {
    cv::Mat pixels;
    out.copyTo(pixels);
    return pixels;
  };
  return device_variants(clustering, full, context, steps);
}

std::vector<std::pair<std::string, Image>> PaletteAnalysis::fan_out(const Image& full,
                                                                    const Context& context) const {
  if (auto variants = op_.cuda_variants(clustering_, full, context)) return std::move(*variants);
  if (auto variants = op_.opencl_variants(clustering_, full, context)) return std::move(*variants);
  const cv::Mat& pixels = full.pixels;
  if (pixels.data == analysed_.data && pixels.size() == analysed_.size() && pixels.step == analysed_.step)
    return op_.variants(clustering_, full, context);
  return op_.variants(assign(full, clustering_, op_.options_for(full, full.pixels.size(), context)), full,
                      context);
}

bool PaletteAnalysis::pointwise() const {
  return op_.streams_analysis();
}

}  // namespace

IMGPIPE_REGISTER_OPERATION(palette) {
  registry.add(OpDescriptor{
      .name = "palette",
      .family = "palette",
      .summary = "Cluster the colours once, then recolour with each palette: one variant per palette.",
      .footprint = Footprint::global,
      .params =
          {
              spec::path("palettes", {},
                         "Palette file (JSON, YAML, GIMP .gpl or hex lines; a file may name several "
                         "palettes), or \"centers\" to recolour each pixel with its own cluster centre.",
                         {"centers"}),
              spec::text(
                  "colors", {},
                  "One palette given inline: hex colours separated by commas, e.g. \"#000,#f80,#fff\"; or "
                  "several as a JSON object, e.g. {\"sea\": [\"#1d3557\", \"#f1faee\"], \"sun\": [...]}."),
              spec::text("name", "palette", "Variant name of the inline palette."),
              spec::integer_or_auto(
                  "k", 10, 0, 254,
                  "Number of colour clusters; auto (or 0) picks k from the image: 2 up to 4 + 12 x "
                  "its complexity, at most 16 (docs/quality.md)."),
              spec::choice("mapping", "lightness", {"lightness", "nearest"},
                           "lightness matches clusters to palette colours by lightness rank; nearest takes "
                           "the closest palette colour in Lab."),
              spec::boolean("preserve_shading", false,
                            "Keep the original's luminance detail inside each region."),
              spec::path("mask", "alpha",
                         "Pixels to recolour: alpha (transparent pixels are left out), none (all), or the "
                         "path of a mask image (black = left out).",
                         {"alpha", "none"}),
              spec::choice("masked", "keep", {"keep", "transparent", "fill"}, "What left-out pixels become."),
              spec::colour("fill", "white", "Colour of left-out pixels with masked: fill."),
              spec::integer("seed", 12345, 0, 2147483647,
                            "Seed of the k-means++ initialisation; the same seed gives the same output."),
              strategy_spec("here the same as scaled: every pixel is assigned its cluster from its own "
                            "colour at full resolution, so none is uncertain"),
              analysis_size_spec(),
          },
      .examples =
          {
              {{"colors", "#1d3557,#457b9d,#a8dadc,#f1faee"}, {"name", "sea"}, {"k", 4}},
              {{"palettes", "centers"}, {"k", 8}},
          },
      // The clustering's settings in words, from its own table (effort.hpp), and the sampling grid.
      .presets = {.ultra = clustering_effort(QualityPreset::ultra) + "; every pixel",
                  .high = clustering_effort(QualityPreset::high) +
                          "; from 800 px the colours sampled on a grid of a 1024 px image (× 0.75 or 1.5 by "
                          "complexity)",
                  .balanced = clustering_effort(QualityPreset::balanced) + "; from 800 px a 512 px grid",
                  .fast = clustering_effort(QualityPreset::fast) + "; from 800 px a 384 px grid",
                  .draft = clustering_effort(QualityPreset::draft) + "; from 800 px a 256 px grid"},
      .create = [](const Params& p) { return std::make_unique<PaletteOp>(p); },
      .check = [](const Params& p) -> std::string {
        if (p.has("palettes") == p.has("colors")) return "give exactly one of palettes or colors";
        return check_analysis_params(p, "palette");
      },
  });
}

}  // namespace imgpipe::ops
