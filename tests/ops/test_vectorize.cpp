// vectorize: the SVG is rendered back to pixels by librsvg (through libvips) and compared with
// the clustered raster the palette engine makes on its own (Clustering::apply_centres); the
// SVG's structure and node count are read back with a small parser written here.
#include <gtest/gtest.h>
#include <vips/vips.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <imgpipe/kernels/vectorize.hpp>
#include <map>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace imgpipe;
using kernels::VectorizeOptions;

namespace {

// The SVG rendered at its own size: CV_8UC4, RGBA.
cv::Mat render(const std::string& svg) {
  static const bool ready = VIPS_INIT("imgpipe-test") == 0;
  EXPECT_TRUE(ready);
  // imgpipe blocks libvips's untrusted loaders, SVG among them; this test trusts its own SVG.
  vips_operation_block_set("VipsForeignLoadSvg", FALSE);
  VipsImage* image = nullptr;
  if (vips_svgload_buffer(const_cast<char*>(svg.data()), svg.size(), &image, nullptr) != 0) {
    ADD_FAILURE() << "librsvg refused the SVG: " << vips_error_buffer();
    vips_error_clear();
    return {};
  }
  EXPECT_EQ(vips_image_get_bands(image), 4);
  EXPECT_EQ(vips_image_get_format(image), VIPS_FORMAT_UCHAR);
  std::size_t size = 0;
  void* data = vips_image_write_to_memory(image, &size);
  cv::Mat out(vips_image_get_height(image), vips_image_get_width(image), CV_8UC4);
  EXPECT_EQ(size, out.total() * 4);
  std::memcpy(out.data, data, std::min(size, out.total() * 4));
  g_free(data);
  g_object_unref(image);
  return out;
}

cv::Mat rgb_of(const cv::Mat& rgba) {
  cv::Mat out;
  cv::cvtColor(rgba, out, cv::COLOR_RGBA2RGB);
  return out;
}

// The clustered raster, computed by the palette engine itself, as 8-bit RGB.
cv::Mat clustered(const Image& image, int k) {
  ClusterOptions o;
  o.k = k;
  cv::Mat px = cluster(image, o).apply_centres().pixels;
  if (px.channels() == 4) cv::cvtColor(px, px, cv::COLOR_RGBA2RGB);
  return px;
}

// Share of pixels whose largest channel difference exceeds `levels`.
double share_differing(const cv::Mat& a, const cv::Mat& b, int levels) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  diff = diff.reshape(1, static_cast<int>(diff.total()));
  cv::Mat largest;
  cv::reduce(diff, largest, 1, cv::REDUCE_MAX);
  return static_cast<double>(cv::countNonZero(largest > levels)) / static_cast<double>(largest.total());
}

// The SVG is read with plain string searches: std::regex matches recursively, one stack frame
// per character, and overflows the stack on long path data (first seen under AddressSanitizer).

// Each quoted value that follows `open` and runs to the next quote, where `close` comes next.
std::vector<std::string> quoted_after(const std::string& text, const std::string& open,
                                      const std::string& close = "\"") {
  std::vector<std::string> out;
  for (auto at = text.find(open); at != std::string::npos; at = text.find(open, at + 1)) {
    const auto start = at + open.size();
    const auto end = text.find('"', start);
    if (end == std::string::npos) break;
    if (text.compare(end, close.size(), close) == 0) out.push_back(text.substr(start, end - start));
  }
  return out;
}

// "#" and six lower-case hex digits, as the SVG writes fills.
bool is_hex_colour(const std::string& text) {
  return text.size() == 7 && text[0] == '#' && std::all_of(text.begin() + 1, text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The d attributes of the first group `<g fill="colour" ...>` (any hex colour when `colour` is
// empty) that holds exactly `count` paths and nothing else, one per line.
std::optional<std::vector<std::string>> group_paths(const std::string& svg, const std::string& colour,
                                                    std::size_t count) {
  const std::string open = "<g fill=\"";
  const std::string path_open = "\n<path d=\"";
  for (auto at = svg.find(open + colour); at != std::string::npos; at = svg.find(open + colour, at + 1)) {
    const auto fill_start = at + open.size();
    const auto fill_end = svg.find('"', fill_start);
    if (fill_end == std::string::npos) break;
    const std::string fill = svg.substr(fill_start, fill_end - fill_start);
    if (colour.empty() ? !is_hex_colour(fill) : fill != colour) continue;
    auto p = svg.find('>', fill_end);
    if (p == std::string::npos) break;
    ++p;
    std::vector<std::string> ds;
    while (ds.size() < count && svg.compare(p, path_open.size(), path_open) == 0) {
      const auto start = p + path_open.size();
      const auto end = svg.find('"', start);
      if (end == std::string::npos || svg.compare(end, 3, "\"/>") != 0) break;
      ds.push_back(svg.substr(start, end - start));
      p = end + 3;
    }
    if (ds.size() == count && svg.compare(p, 5, "\n</g>") == 0) return ds;
  }
  return std::nullopt;
}

// The d attributes of every <path>, in order.
std::vector<std::string> paths(const std::string& svg) {
  return quoted_after(svg, "<path d=\"", "\"/>");
}

// Path nodes: every command letter starts exactly one node (M, L and C each end at one
// point; Z adds none). Also checks that each command has the right number of coordinates.
std::size_t count_nodes(const std::string& d) {
  std::size_t nodes = 0;
  char command = 0;
  int numbers = 0;
  const auto finish = [&] {
    if (command == 'M' || command == 'L') {
      EXPECT_EQ(numbers, 2) << d.substr(0, 200);
    } else if (command == 'C') {
      EXPECT_EQ(numbers, 6) << d.substr(0, 200);
    } else if (command == 'Z') {
      EXPECT_EQ(numbers, 0);
    }
  };
  for (std::size_t i = 0; i < d.size();) {
    const char ch = d[i];
    if (std::isalpha(static_cast<unsigned char>(ch))) {
      finish();
      EXPECT_NE(std::string("MLCZ").find(ch), std::string::npos) << "unexpected command " << ch;
      command = ch;
      numbers = 0;
      if (ch != 'Z') ++nodes;
      ++i;
    } else if (ch == ' ') {
      ++i;
    } else {
      std::size_t used = 0;
      std::stod(d.substr(i, 32), &used);
      EXPECT_GT(used, 0u);
      i += std::max<std::size_t>(used, 1);
      ++numbers;
    }
  }
  finish();
  return nodes;
}

std::size_t total_nodes(const std::string& svg) {
  std::size_t n = 0;
  for (const auto& d : paths(svg)) n += count_nodes(d);
  return n;
}

// Flat shapes in four colours: rectangles, a disc and a triangle.
cv::Mat shapes(int width = 240, int height = 180) {
  cv::Mat m(height, width, CV_8UC3, cv::Scalar(230, 220, 200));
  cv::rectangle(m, cv::Rect(20, 20, 90, 60), cv::Scalar(200, 40, 30), cv::FILLED);
  cv::circle(m, cv::Point(160, 100), 50, cv::Scalar(30, 90, 180), cv::FILLED, cv::LINE_8);
  const std::vector<cv::Point> triangle = {{30, 160}, {110, 100}, {120, 170}};
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{triangle}, cv::Scalar(40, 140, 60), cv::LINE_8);
  cv::rectangle(m, cv::Rect(140, 80, 30, 20), cv::Scalar(200, 40, 30), cv::FILLED);  // inside the disc
  return m;
}

VectorizeOptions exact(int colors) {
  VectorizeOptions o;
  o.colors = colors;
  o.min_area = 0;
  return o;
}

}  // namespace

TEST(Vectorize, FlatShapesRenderAsTheirClusters) {
  const Image image(shapes());
  const cv::Mat expected = clustered(image, 4);
  for (const bool smooth : {false, true}) {
    VectorizeOptions o = exact(4);
    o.smooth = smooth;
    const cv::Mat rendered = render(kernels::vectorize(image, o));
    ASSERT_EQ(rendered.size(), image.pixels.size());
    // Every pixel is covered: the background rectangle is opaque.
    EXPECT_EQ(cv::countNonZero(rendered.reshape(1, static_cast<int>(rendered.total())).col(3) != 255), 0);
    // Outlines may move by up to the 1 px tolerance (curves a little more), so only pixels on
    // a region's edge may take the neighbour's colour or an antialiased mix: under 2 % of the
    // pixels off by more than 24 levels, under 1.5 levels on average.
    const cv::Mat rgb = rgb_of(rendered);
    EXPECT_LT(test::mean_abs_diff(rgb, expected), 1.5) << "smooth " << smooth;
    EXPECT_LT(share_differing(rgb, expected, 24), 0.02) << "smooth " << smooth;
    // Away from edges (a 3x3 neighbourhood of one label) the colour is exact up to rounding.
    cv::Mat grey, edges;
    cv::cvtColor(expected, grey, cv::COLOR_RGB2GRAY);
    cv::morphologyEx(grey, edges, cv::MORPH_GRADIENT, cv::Mat::ones(5, 5, CV_8U));
    cv::Mat interior_diff;
    cv::absdiff(rgb, expected, interior_diff);
    interior_diff.setTo(cv::Scalar::all(0), edges != 0);
    EXPECT_LE(test::max_abs_diff(interior_diff, cv::Mat::zeros(rgb.size(), rgb.type())), 1)
        << "smooth " << smooth;
  }
}

TEST(Vectorize, RealPhotoRendersCloseToTheClusteredImage) {
  const Image image = load(test::photo("astronaut.png"));
  const cv::Mat expected = clustered(image, 16);
  const std::string svg = kernels::vectorize(image, exact(16));
  const cv::Mat rgb = rgb_of(render(svg));
  // A photo's 16 clusters make ragged regions, so far more pixels lie on an edge than in the
  // flat shapes; an edge pixel that takes a neighbouring cluster's colour is off by the
  // distance of two close centres. Bound: below 6 levels on average and under 10 % of the
  // pixels off by more than 24 levels.
  EXPECT_LT(test::mean_abs_diff(rgb, expected), 6.0);
  EXPECT_LT(share_differing(rgb, expected, 24), 0.10);
}

TEST(Vectorize, RingKeepsItsHole) {
  // Ring colour as the minority (the background rectangle is the hole's colour) and as the
  // majority (the background is the ring's colour, so the hole must be drawn on top).
  for (const int outer : {70, 95}) {
    cv::Mat m(200, 200, CV_8UC3, cv::Scalar(20, 40, 200));
    cv::circle(m, {100, 100}, outer, cv::Scalar(250, 200, 30), cv::FILLED);
    cv::circle(m, {100, 100}, 30, cv::Scalar(20, 40, 200), cv::FILLED);
    const std::string svg = kernels::vectorize(Image(m), exact(2));
    // Colours as the clustering gives them (the Lab round trip may move a level).
    const cv::Mat expected = clustered(Image(m), 2);
    const cv::Vec3b ring = expected.at<cv::Vec3b>(100, 150), hole = expected.at<cv::Vec3b>(100, 100);
    ASSERT_NE(ring, hole);
    // The ring is one path of two subpaths: its outline and its hole.
    const std::string ring_hex = to_hex(Colour{ring[0], ring[1], ring[2], 255}).substr(0, 7);
    const auto ring_paths = group_paths(svg, ring_hex, 1);
    ASSERT_TRUE(ring_paths) << svg.substr(0, 600);
    const std::string d = ring_paths->front();
    EXPECT_EQ(std::count(d.begin(), d.end(), 'M'), 2) << d;
    EXPECT_NE(svg.find("fill-rule=\"evenodd\""), std::string::npos);
    const cv::Mat rgb = rgb_of(render(svg));
    const auto at = [&](int x, int y) { return rgb.at<cv::Vec3b>(y, x); };
    // Hole centre and points 25 px out (inside the hole), the ring at 50 px.
    for (const cv::Point p : {cv::Point(100, 100), cv::Point(125, 100), cv::Point(100, 75)})
      EXPECT_EQ(at(p.x, p.y), hole) << "outer " << outer << " at " << p;
    EXPECT_EQ(at(150, 100), ring);
    EXPECT_EQ(at(100, 50), ring);
    EXPECT_EQ(at(2, 2), hole);
  }
}

TEST(Vectorize, NodeBudgetIsHonoured) {
  const Image image = load(test::photo("coffee.png"));
  const std::size_t unlimited = total_nodes(kernels::vectorize(image, {.colors = 12}));
  ASSERT_GT(unlimited, 4000u);  // the budget below must really bind
  for (const int budget : {4000, 600, 20}) {
    for (const bool smooth : {false, true}) {
      VectorizeOptions o{.colors = 12, .smooth = smooth, .max_nodes = budget};
      const std::string svg = kernels::vectorize(image, o);
      const std::size_t nodes = total_nodes(svg);
      EXPECT_LE(nodes, static_cast<std::size_t>(budget)) << "smooth " << smooth;
      EXPECT_GT(nodes, 0u);
      // The rendering stays a picture of the image, only coarser: every pixel covered.
      const cv::Mat rendered = render(svg);
      EXPECT_EQ(cv::countNonZero(rendered.reshape(1, static_cast<int>(rendered.total())).col(3) != 255), 0);
    }
  }
}

TEST(Vectorize, SvgStructure) {
  const Image image(shapes(240, 180));
  const std::string svg = kernels::vectorize(image, exact(4));
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("viewBox=\"0 0 240 180\""), std::string::npos);
  EXPECT_NE(svg.find("width=\"240\""), std::string::npos);
  EXPECT_NE(svg.find("height=\"180\""), std::string::npos);
  EXPECT_NE(svg.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  // Tags balance and every group has a distinct colour, one of the cluster centres.
  const auto count = [&](const std::string& s) {
    std::size_t n = 0;
    for (auto p = svg.find(s); p != std::string::npos; p = svg.find(s, p + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("<g "), count("</g>"));
  EXPECT_EQ(count("<svg"), 1u);
  EXPECT_EQ(count("<path "), paths(svg).size());
  ClusterOptions co;
  co.k = 4;
  std::set<std::string> centres;
  const Clustering clustering = cluster(image, co);
  for (const auto& c : clustering.centres_rgb()) centres.insert(to_hex(c).substr(0, 7));
  std::set<std::string> groups;
  for (const std::string& fill : quoted_after(svg, "<g fill=\"")) {
    if (!is_hex_colour(fill)) continue;
    EXPECT_TRUE(groups.insert(fill).second) << "colour in two groups: " << fill;
    EXPECT_TRUE(centres.count(fill)) << fill;
  }
  EXPECT_EQ(groups.size(), 4u);
  // The background is the most frequent colour (the light backdrop, about half the image).
  const auto rect = quoted_after(svg, "<rect width=\"240\" height=\"180\" fill=\"", "\"/>");
  ASSERT_EQ(rect.size(), 1u);
  ASSERT_TRUE(is_hex_colour(rect[0])) << rect[0];
  const cv::Vec3b backdrop = clustered(image, 4).at<cv::Vec3b>(0, 0);
  EXPECT_EQ(rect[0], to_hex(Colour{backdrop[0], backdrop[1], backdrop[2], 255}).substr(0, 7));
  // Larger regions first within a group: the red group holds the 90x60 rectangle and the
  // 30x20 one; the first path's outline (shoelace area of its M/L points) is the larger.
  const auto red = group_paths(svg, "", 2);
  ASSERT_TRUE(red) << svg.substr(0, 600);
  const auto outline_area = [](const std::string& d) {
    std::vector<cv::Point2d> points;
    // "M<x> <y>" and "L<x> <y>" of the first subpath.
    const std::string first = d.substr(0, d.find('Z'));
    for (std::size_t i = 0; i < first.size(); ++i) {
      if (first[i] != 'M' && first[i] != 'L') continue;
      const char* start = first.c_str() + i + 1;
      char* end = nullptr;
      const double x = std::strtod(start, &end);
      if (end == start || *end != ' ') continue;
      start = end + 1;
      const double y = std::strtod(start, &end);
      if (end == start) continue;
      points.emplace_back(x, y);
    }
    double twice = 0;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const auto& a = points[i];
      const auto& b = points[(i + 1) % points.size()];
      twice += a.x * b.y - a.y * b.x;
    }
    return std::abs(twice) / 2;
  };
  // Centre polygons are one pixel smaller each way: 89x59 and 29x19.
  EXPECT_NEAR(outline_area((*red)[0]), 89 * 59, 1);
  EXPECT_NEAR(outline_area((*red)[1]), 29 * 19, 1);
}

TEST(Vectorize, TransparentPixelsGetNoPaths) {
  for (const int channels : {4, 2}) {
    cv::Mat rgb = shapes(200, 120);
    cv::Mat colour = channels == 4 ? rgb : cv::Mat();
    if (channels == 2) cv::cvtColor(rgb, colour, cv::COLOR_RGB2GRAY);
    std::vector<cv::Mat> planes;
    cv::split(colour, planes);
    cv::Mat alpha(rgb.size(), CV_8UC1, cv::Scalar(255));
    alpha.colRange(0, 100).setTo(0);  // left half transparent (its colours still vary)
    planes.push_back(alpha);
    cv::Mat px;
    cv::merge(planes, px);
    const std::string svg = kernels::vectorize(Image(px), exact(4));
    EXPECT_EQ(svg.find("<rect"), std::string::npos) << "a background would cover transparent pixels";
    const cv::Mat rendered = render(svg);
    std::vector<cv::Mat> out;
    cv::split(rendered, out);
    // Paths reach to the pixel edge at x = 100; allow one pixel of antialiasing either side.
    EXPECT_EQ(cv::countNonZero(out.back().colRange(0, 99)), 0) << channels;
    EXPECT_EQ(cv::countNonZero(out.back().colRange(101, 200) != 255), 0) << channels;
  }
}

TEST(Vectorize, SixteenBitAndGreyAccepted) {
  // 16-bit is clustered on its high byte: v * 257 has the same clusters as v (bound as for
  // the 8-bit shapes above).
  cv::Mat eight = shapes(), sixteen;
  eight.convertTo(sixteen, CV_16U, 257.0);
  const std::string svg = kernels::vectorize(Image(sixteen), exact(4));
  const cv::Mat rgb = rgb_of(render(svg));
  EXPECT_LT(test::mean_abs_diff(rgb, clustered(Image(eight), 4)), 1.5);

  const Image chessboard = load(test::photo("chessboard_GRAY_U16.tif"));
  ASSERT_EQ(chessboard.bit_depth(), 16);
  const cv::Mat rendered = rgb_of(render(kernels::vectorize(chessboard, exact(2))));
  // Reference: the 16-bit grey reduced to 8 bits, as grey RGB; two clusters of a black and
  // white chessboard are its two levels, so only square edges may differ.
  cv::Mat grey8, expected;
  chessboard.pixels.convertTo(grey8, CV_8U, 1.0 / 257.0);
  cv::cvtColor(grey8, expected, cv::COLOR_GRAY2RGB);
  EXPECT_LT(share_differing(rendered, expected, 24), 0.01);
}

TEST(Vectorize, SpecksBelowMinAreaJoinTheirSurroundings) {
  cv::Mat m(100, 100, CV_8UC3, cv::Scalar(240, 240, 240));
  cv::rectangle(m, cv::Rect(60, 0, 40, 100), cv::Scalar(20, 20, 20), cv::FILLED);
  // Specks of the other colour: single pixels and a 2x2 block on each side.
  const std::vector<cv::Point> light_specks = {{75, 20}, {85, 80}}, dark_specks = {{20, 20}, {10, 70}};
  for (const auto& p : light_specks) m.at<cv::Vec3b>(p) = cv::Vec3b(240, 240, 240);
  for (const auto& p : dark_specks) m.at<cv::Vec3b>(p) = cv::Vec3b(20, 20, 20);
  m(cv::Rect(25, 50, 2, 2)).setTo(cv::Scalar(20, 20, 20));  // 4 px: kept with min_area 4

  ClusterOptions co;
  co.k = 2;
  const Clustering c = cluster(Image(m), co);
  const cv::Mat labels = kernels::region_labels(c, 4);
  // Reference by hand: the left part one label, the right part the other, and the block.
  const std::uint8_t left = c.labels().at<std::uint8_t>(50, 5), right = c.labels().at<std::uint8_t>(50, 95);
  ASSERT_NE(left, right);
  cv::Mat expected(100, 100, CV_8UC1, cv::Scalar(left));
  expected.colRange(60, 100).setTo(right);
  expected(cv::Rect(25, 50, 2, 2)).setTo(right);
  EXPECT_TRUE(test::identical(labels, expected));
  EXPECT_TRUE(test::identical(kernels::region_labels(c, 0), c.labels()));

  // Paths per colour group, counted by hand: with min_area 0 the light group has its part
  // and two specks, the dark group its part, two specks and the block; with min_area 4 only
  // the parts and the block are left.
  const auto paths_per_group = [](const std::string& svg) {
    std::multiset<std::size_t> counts;
    for (auto g = svg.find("<g "); g != std::string::npos; g = svg.find("<g ", g + 1)) {
      const std::string body = svg.substr(g, svg.find("</g>", g) - g);
      counts.insert(paths(body).size());
    }
    return counts;
  };
  VectorizeOptions o = exact(2);
  const std::string kept = kernels::vectorize(Image(m), o);
  o.min_area = 4;
  const std::string cleaned_svg = kernels::vectorize(Image(m), o);
  EXPECT_EQ(paths_per_group(kept), (std::multiset<std::size_t>{3, 4}));
  EXPECT_EQ(paths_per_group(cleaned_svg), (std::multiset<std::size_t>{1, 2}));

  // Rendered: the specks take their surroundings' colour; the block stays (drawn over the
  // larger light colour, it is covered but for its antialiased corners).
  const cv::Mat cleaned = rgb_of(render(cleaned_svg));
  for (const auto& p : dark_specks) EXPECT_GT(cleaned.at<cv::Vec3b>(p)[0], 200) << p;
  for (const auto& p : light_specks) EXPECT_LT(cleaned.at<cv::Vec3b>(p)[0], 60) << p;
  for (const cv::Point p : {cv::Point(25, 50), cv::Point(26, 51)})
    EXPECT_LT(cleaned.at<cv::Vec3b>(p)[0], 60) << p;
}

TEST(Vectorize, ChainStepGivesTheClusteredRaster) {
  const Image photo = load(test::photo("chelsea.png"));
  const auto run = [](const cv::Mat& px, int colors) {
    return Chain().then("vectorize", {{"colors", colors}, {"min_area", 0}}).run(Image(px), Context{}).pixels;
  };
  // RGB: exactly the palette engine's quantisation.
  EXPECT_TRUE(test::identical(run(photo.pixels, 8), clustered(photo, 8)));

  // RGBA keeps its alpha; 16-bit stays 16-bit (centres times 257); grey stays grey.
  cv::Mat rgba;
  cv::cvtColor(photo.pixels, rgba, cv::COLOR_RGB2RGBA);
  std::vector<cv::Mat> planes;
  cv::split(rgba, planes);
  cv::randu(planes[3], 128, 256);  // all clustered (alpha >= 128)
  cv::merge(planes, rgba);
  const cv::Mat out = run(rgba, 8);
  ASSERT_EQ(out.type(), CV_8UC4);
  std::vector<cv::Mat> out_planes;
  cv::split(out, out_planes);
  EXPECT_TRUE(test::identical(out_planes[3], planes[3]));
  cv::Mat out_rgb, expected_rgb;
  cv::cvtColor(out, out_rgb, cv::COLOR_RGBA2RGB);
  EXPECT_TRUE(test::identical(out_rgb, clustered(Image(rgba), 8)));

  cv::Mat wide;
  photo.pixels.convertTo(wide, CV_16U, 257.0);
  const cv::Mat out16 = run(wide, 8);
  ASSERT_EQ(out16.type(), CV_16UC3);
  cv::Mat expected16;
  clustered(photo, 8).convertTo(expected16, CV_16U, 257.0);
  EXPECT_TRUE(test::identical(out16, expected16));

  cv::Mat grey;
  cv::cvtColor(photo.pixels, grey, cv::COLOR_RGB2GRAY);
  const cv::Mat out_grey = run(grey, 6);
  ASSERT_EQ(out_grey.type(), CV_8UC1);
  // Centres of a grey image are grey; the output has at most 6 levels, each within 1 of the
  // clustered raster's (Lab round trip of a grey centre may differ by 1 between channels).
  cv::Mat expected_grey;
  cv::cvtColor(clustered(Image(grey), 6), expected_grey, cv::COLOR_RGB2GRAY);
  EXPECT_LE(test::max_abs_diff(out_grey, expected_grey), 1);
  std::set<int> levels(out_grey.begin<std::uint8_t>(), out_grey.end<std::uint8_t>());
  EXPECT_LE(levels.size(), 6u);

  // 16-bit grey + alpha: alpha kept exactly, transparent pixels (left out of the clustering)
  // keep their value, the rest the grey of their centre times 257 (within one 8-bit level).
  cv::Mat grey16, alpha16 = cv::Mat(grey.size(), CV_16UC1, cv::Scalar(65535)), ga16;
  grey.convertTo(grey16, CV_16U, 257.0);
  alpha16.colRange(0, 100).setTo(0);
  cv::merge(std::vector<cv::Mat>{grey16, alpha16}, ga16);
  const cv::Mat out_ga = run(ga16, 6);
  ASSERT_EQ(out_ga.type(), CV_16UC2);
  std::vector<cv::Mat> ga_planes;
  cv::split(out_ga, ga_planes);
  EXPECT_TRUE(test::identical(ga_planes[1], alpha16));
  EXPECT_TRUE(test::identical(ga_planes[0].colRange(0, 100), grey16.colRange(0, 100)));
  cv::Mat expected_ga, expected_ga16;
  cv::cvtColor(clustered(Image(ga16), 6), expected_ga, cv::COLOR_RGB2GRAY);
  expected_ga.convertTo(expected_ga16, CV_16U, 257.0);
  EXPECT_LE(test::max_abs_diff(ga_planes[0].colRange(100, grey.cols), expected_ga16.colRange(100, grey.cols)),
            257);
}

TEST(Vectorize, ParametersAreValidated) {
  test::config_error([] { Chain().then("vectorize", {{"colors", 255}}); });
  test::config_error([] { Chain().then("vectorize", {{"min_area", -1}}); });
  test::config_error([] { kernels::vectorize(Image(shapes()), {.tolerance = -1}); });
  test::config_error([] { kernels::vectorize(Image(shapes()), {.max_nodes = -5}); });
  test::config_error([] { kernels::vectorize(Image(shapes()), {.colors = 300}); });
}

TEST(Vectorize, CommandWritesTheSvg) {
  test::TempDir dir;
  const auto out = dir / "coffee.svg";
  const auto r =
      test::run_cli({"vectorize", test::photo("coffee.png").string(), "-o", out.string(), "--colors", "8",
                     "--smooth", "--max-nodes", "3000", "--min-area", "10", "--tolerance", "1.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto bytes = test::read_file(out);
  const std::string svg(bytes.begin(), bytes.end());
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("viewBox=\"0 0 600 400\""), std::string::npos);
  EXPECT_LE(total_nodes(svg), 3000u);
  EXPECT_NE(svg.find("C"), std::string::npos);  // smooth: curves
  EXPECT_EQ(render(svg).size(), cv::Size(600, 400));

  const auto bad =
      test::run_cli({"vectorize", test::photo("coffee.png").string(), "-o", out.string(), "--colors", "999"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  const auto missing =
      test::run_cli({"vectorize", (dir / "none.png").string(), "-o", (dir / "x.svg").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.svg"));
}
