#pragma once
/// \file
/// Streaming: running a chain on an image that never sits in memory whole.
///
/// ```cpp
/// const imgpipe::ImageInfo info = imgpipe::probe("huge.jpg", {.max_input_pixels = 0});
/// if (imgpipe::can_stream(file.chain, info, file.context.quality))
///   imgpipe::stream_file(file, "huge.jpg", "out.jpg", file.context);
/// ```
///
/// libvips reads the input top to bottom and its sink pulls the output through in tiles.
/// Each maximal run of point and neighbourhood steps becomes one libvips image whose tiles
/// are computed by the steps' own kernels on the tile grown by the run's halo, so the pixels
/// are those of the in-memory chain (point steps exactly; filters up to float rounding).
/// Geometry steps map to region operations with the same semantics: crop, horizontal flip,
/// and resize when it shrinks with area averaging (the default kernel at the balanced and
/// fast presets). An analysis step whose result applies pixel by pixel (complexity; palette
/// with one palette and no mask file) is analysed on a shrink-on-load thumbnail of the input
/// and applied to each region; its measure can differ slightly from the in-memory run's,
/// which shrinks with area averaging. Memory is about tile size × threads, not image size;
/// the exception is WebP output, whose encoder takes the whole picture at once (4 bytes a
/// pixel).

#include <filesystem>
#include <imgpipe/chain.hpp>
#include <imgpipe/context.hpp>
#include <imgpipe/io.hpp>
#include <string>

namespace imgpipe {

/// Whether every step of the chain can run on regions of a large 8-bit RGB input: point
/// steps, neighbourhood steps whose window is bounded (Operation::halo), crop, horizontal
/// flip, auto_orient (the loader has applied the orientation), area downscales, and analysis
/// steps that stream their analysis (Operation::streams_analysis) when only point steps (and
/// auto_orient) come before them. When not, `why` (if given) names the first step that
/// cannot and says why.
bool can_stream(const Chain& chain, std::string* why = nullptr);

/// The same for one input as its header describes it: its size decides what a resize or a
/// crop does, its bands and depth what the point steps get, and an EXIF orientation other
/// than 1 or 2 (mirror) would need the image's end before its start.
bool can_stream(const Chain& chain, const ImageInfo& input, QualityPreset quality = QualityPreset::balanced,
                std::string* why = nullptr);

/// Runs the chain file's steps from `input` to `output` through libvips without holding the
/// image: sequential decode (failing on truncated data as load() does), converted to 8- or
/// 16-bit sRGB like load(), the steps as region operations, encoded with the chain file's
/// output options (file.output; the format must be set there) into a temporary file in the
/// output's folder that is renamed into place only when complete. Analysis steps analyse a
/// thumbnail at the planner's analysis size for the whole image (the scaled size where the
/// planner would analyse the image itself) and add their line to context.strategies, marked
/// "thumbnail"; the image's measures are not kept. The pixel limit is not
/// applied (streaming is how an image over it is processed once the limit is raised);
/// context.limits.max_file_bytes is. context.threads > 0 sets libvips's worker count.
/// Throws Error naming the file: unsupported when a step cannot stream, decode/io on bad
/// input or a failed write, cancelled/timeout per the context.
void stream_file(const ChainFile& file, const std::filesystem::path& input,
                 const std::filesystem::path& output, const Context& context);
/// The same from a file opened already (the job runner's, which has read its header).
void stream_file(const ChainFile& file, const ImageFile& input, const std::filesystem::path& output,
                 const Context& context);

}  // namespace imgpipe
