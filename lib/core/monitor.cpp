#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <imgpipe/monitor.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

namespace imgpipe {

namespace {

// Reads a "Name:   1234 kB" line of /proc/self/status.
std::uint64_t proc_status_kb(std::string_view key) noexcept {
  try {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.compare(0, key.size(), key) == 0 && line.size() > key.size() && line[key.size()] == ':')
        return std::stoull(line.substr(key.size() + 1)) * 1024;
    }
  } catch (...) {
  }
  return 0;
}

// Nearest-rank percentile of sorted samples.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

// The node open on this thread, per monitor: scopes nest per thread.
struct OpenScope {
  const PerformanceMonitor* monitor;
  std::size_t node;
};
thread_local std::vector<OpenScope> t_open;

constexpr std::size_t kNoParent = static_cast<std::size_t>(-1);

}  // namespace

// /proc rather than getrusage: ru_maxrss comes from approximate per-CPU counters and can read
// below VmRSS, and a peak under the current use would confuse every report.
std::uint64_t peak_rss_bytes() noexcept {
  return proc_status_kb("VmHWM");
}
std::uint64_t current_rss_bytes() noexcept {
  return proc_status_kb("VmRSS");
}

struct PerformanceMonitor::Node {
  std::string name;
  std::size_t parent;
  int depth;
  std::vector<std::size_t> children;
  std::vector<double> samples_ms;
  std::uint64_t peak_rss = 0;
  std::vector<std::pair<std::string, double>> values;
};

PerformanceMonitor::PerformanceMonitor() = default;
PerformanceMonitor::~PerformanceMonitor() = default;

// The child of this thread's open scope with that name, created on first use.
std::size_t PerformanceMonitor::node_for(std::string_view name) {
  std::size_t parent = kNoParent;
  for (auto it = t_open.rbegin(); it != t_open.rend(); ++it)
    if (it->monitor == this) {
      parent = it->node;
      break;
    }
  std::lock_guard lock(mutex_);
  std::vector<std::size_t> roots;
  if (parent == kNoParent)
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i]->parent == kNoParent) roots.push_back(i);
  const auto& siblings = parent == kNoParent ? roots : nodes_[parent]->children;
  auto found =
      std::find_if(siblings.begin(), siblings.end(), [&](std::size_t i) { return nodes_[i]->name == name; });
  if (found != siblings.end()) return *found;
  const std::size_t index = nodes_.size();
  const int depth = parent == kNoParent ? 0 : nodes_[parent]->depth + 1;
  nodes_.push_back(std::make_unique<Node>(Node{std::string(name), parent, depth, {}, {}, 0, {}}));
  if (parent != kNoParent) nodes_[parent]->children.push_back(index);
  return index;
}

PerformanceMonitor::Scope PerformanceMonitor::track(std::string_view name) {
  const std::size_t index = node_for(name);
  t_open.push_back({this, index});
  return Scope(this, index);
}

void PerformanceMonitor::record(std::string_view name, double ms) {
  close(node_for(name), ms);
}

void PerformanceMonitor::note(std::string_view name, double value) {
  const auto open =
      std::find_if(t_open.rbegin(), t_open.rend(), [&](const OpenScope& s) { return s.monitor == this; });
  if (open == t_open.rend()) return;
  std::lock_guard lock(mutex_);
  auto& values = nodes_[open->node]->values;
  const auto found =
      std::find_if(values.begin(), values.end(), [&](const auto& v) { return v.first == name; });
  if (found != values.end())
    found->second = value;
  else
    values.emplace_back(std::string(name), value);
}

PerformanceMonitor::Scope::Scope(PerformanceMonitor* monitor, std::size_t node)
    : monitor_(monitor), node_(node), start_(std::chrono::steady_clock::now()) {}

PerformanceMonitor::Scope::Scope(Scope&& other) noexcept
    : monitor_(std::exchange(other.monitor_, nullptr)), node_(other.node_), start_(other.start_) {}

PerformanceMonitor::Scope::~Scope() {
  if (!monitor_) return;
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_);
  auto it = std::find_if(t_open.rbegin(), t_open.rend(),
                         [&](const OpenScope& s) { return s.monitor == monitor_ && s.node == node_; });
  if (it != t_open.rend()) t_open.erase(std::next(it).base());
  monitor_->close(node_, elapsed.count());
}

void PerformanceMonitor::close(std::size_t node, double ms) {
  auto rss = peak_rss_bytes();
  std::lock_guard lock(mutex_);
  nodes_[node]->samples_ms.push_back(ms);
  nodes_[node]->peak_rss = std::max(nodes_[node]->peak_rss, rss);
}

std::vector<PerformanceMonitor::Stats> PerformanceMonitor::stats() const {
  std::lock_guard lock(mutex_);
  std::vector<Stats> out;
  std::vector<std::pair<std::size_t, std::string>> stack;
  for (std::size_t i = nodes_.size(); i-- > 0;)
    if (nodes_[i]->parent == kNoParent) stack.emplace_back(i, nodes_[i]->name);
  while (!stack.empty()) {
    auto [index, path] = stack.back();
    stack.pop_back();
    const Node& n = *nodes_[index];
    std::vector<double> sorted = n.samples_ms;
    std::sort(sorted.begin(), sorted.end());
    Stats s;
    s.path = path;
    s.name = n.name;
    s.depth = n.depth;
    s.count = sorted.size();
    for (double v : sorted) s.total_ms += v;
    s.mean_ms = s.count ? s.total_ms / static_cast<double>(s.count) : 0;
    s.p50_ms = percentile(sorted, 50);
    s.p95_ms = percentile(sorted, 95);
    s.max_ms = sorted.empty() ? 0 : sorted.back();
    s.peak_rss = n.peak_rss;
    s.values = n.values;
    out.push_back(std::move(s));
    for (auto c = n.children.rbegin(); c != n.children.rend(); ++c)
      stack.emplace_back(*c, path + "/" + nodes_[*c]->name);
  }
  return out;
}

std::string PerformanceMonitor::report_text() const {
  std::ostringstream out;
  out << fmt::format("{:<44} {:>6} {:>10} {:>9} {:>9} {:>9} {:>10}\n", "scope", "count", "total ms",
                     "mean ms", "p50 ms", "p95 ms", "peak MB");
  for (const auto& s : stats()) {
    std::string label = std::string(static_cast<std::size_t>(s.depth) * 2, ' ') + s.name;
    out << fmt::format("{:<44} {:>6} {:>10.2f} {:>9.2f} {:>9.2f} {:>9.2f} {:>10.1f}\n", label, s.count,
                       s.total_ms, s.mean_ms, s.p50_ms, s.p95_ms,
                       static_cast<double>(s.peak_rss) / (1024.0 * 1024.0));
    if (!s.values.empty()) {
      std::string noted;
      for (const auto& [name, value] : s.values)
        noted += value == std::round(value) ? fmt::format(" {}={}", name, value)
                                            : fmt::format(" {}={:.3f}", name, value);
      out << std::string(static_cast<std::size_t>(s.depth) * 2 + 2, ' ') << "values:" << noted << "\n";
    }
  }
  return out.str();
}

std::string PerformanceMonitor::report_json() const {
  // Rebuild the tree from the depth-first list. A pointer into a parent's array stays valid
  // because that array only grows after deeper pointers have been dropped.
  auto all = stats();
  nlohmann::json doc = {{"scopes", nlohmann::json::array()}, {"peak_rss_bytes", peak_rss_bytes()}};
  std::vector<nlohmann::json*> parents;  // parents[d] = array to append depth-d nodes to
  parents.push_back(&doc["scopes"]);
  for (const auto& s : all) {
    nlohmann::json node = {{"name", s.name},
                           {"path", s.path},
                           {"count", s.count},
                           {"total_ms", s.total_ms},
                           {"mean_ms", s.mean_ms},
                           {"p50_ms", s.p50_ms},
                           {"p95_ms", s.p95_ms},
                           {"max_ms", s.max_ms},
                           {"peak_rss_bytes", s.peak_rss},
                           {"children", nlohmann::json::array()}};
    if (!s.values.empty()) {
      node["values"] = nlohmann::json::object();
      for (const auto& [name, value] : s.values) node["values"][name] = value;
    }
    parents.resize(static_cast<std::size_t>(s.depth) + 1);
    parents.back()->push_back(std::move(node));
    parents.push_back(&parents.back()->back()["children"]);
  }
  return doc.dump(2);
}

MaybeScope::MaybeScope(PerformanceMonitor* monitor, std::string_view name) {
  if (monitor) scope_ = std::make_unique<PerformanceMonitor::Scope>(monitor->track(name));
}

}  // namespace imgpipe
