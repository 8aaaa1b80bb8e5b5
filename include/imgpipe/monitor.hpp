#pragma once
/// \file
/// PerformanceMonitor: nested, thread-safe timing scopes with peak memory.
///
/// ```cpp
/// PerformanceMonitor mon;
/// { auto s = mon.track("decode"); ... { auto t = mon.track("icc"); ... } }
/// std::cout << mon.report_text();
/// ```
///
/// Scopes nest per thread: a scope opened while another is open on the same thread becomes
/// its child. Each node records how often it ran and every duration, so the report can give
/// total, mean, p50 and p95, and the process's peak resident memory seen when it closed.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace imgpipe {

/// Peak resident set size of this process so far, in bytes (0 where the OS does not say).
std::uint64_t peak_rss_bytes() noexcept;
/// Current resident set size in bytes (0 where the OS does not say).
std::uint64_t current_rss_bytes() noexcept;

/// Nested, thread-safe timing scopes with peak memory (see the file's description).
class PerformanceMonitor {
 public:
  /// What one node of the tree recorded.
  struct Stats {
    std::string path;         ///< "run/step 2: resize"
    std::string name;         ///< the name given to track() or record()
    int depth = 0;            ///< 0 for a scope opened with no other open, else its parent's + 1
    std::uint64_t count = 0;  ///< how many times it ran
    /// Durations in milliseconds over every run: their sum, mean, median, 95th percentile and
    /// maximum.
    ///@{
    double total_ms = 0, mean_ms = 0, p50_ms = 0, p95_ms = 0, max_ms = 0;
    ///@}
    std::uint64_t peak_rss = 0;  ///< the process's peak resident bytes when it last closed
    /// Numbers noted on the scope (note()), by name in the order first noted; the last value
    /// noted under a name wins.
    std::vector<std::pair<std::string, double>> values;
  };

  /// A running timing scope: records its duration under its node when destroyed.
  class Scope {
   public:
    /// Takes over `other`'s measurement; `other` then records nothing.
    Scope(Scope&& other) noexcept;
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    Scope& operator=(Scope&&) = delete;
    /// Records the time since the scope was opened as one run of its node.
    ~Scope();

   private:
    friend class PerformanceMonitor;
    Scope(PerformanceMonitor* monitor, std::size_t node);
    PerformanceMonitor* monitor_;
    std::size_t node_;
    std::chrono::steady_clock::time_point start_;
  };

  /// A monitor with nothing recorded.
  PerformanceMonitor();
  ~PerformanceMonitor();
  PerformanceMonitor(const PerformanceMonitor&) = delete;
  PerformanceMonitor& operator=(const PerformanceMonitor&) = delete;

  /// Opens a scope named `name` under the scope open on this thread (at the top when none);
  /// it records when it is destroyed. Scopes of the same name under one parent share a node.
  [[nodiscard]] Scope track(std::string_view name);
  /// Records a duration measured elsewhere (a device timer, a library's own clock) as one run
  /// of `name` under the scope open on this thread.
  void record(std::string_view name, double ms);
  /// Notes a number chosen or measured by the work of the scope open on this thread ("k", 8):
  /// report_text() prints it after the scope's line, report_json() under "values". Ignored when
  /// no scope of this monitor is open on this thread.
  void note(std::string_view name, double value);

  /// Nodes in depth-first order, children in order of first appearance.
  std::vector<Stats> stats() const;
  /// A table of stats(), one line per node indented by depth: count, total, mean, p50 and p95
  /// in milliseconds, and peak memory in MB.
  std::string report_text() const;
  std::string report_json() const;  ///< pretty-printed JSON document

 private:
  struct Node;
  std::size_t node_for(std::string_view name);
  void close(std::size_t node, double ms);
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

/// A scope on an optional monitor: does nothing when monitor is null.
class MaybeScope {
 public:
  /// Opens `monitor->track(name)` when `monitor` is not null.
  MaybeScope(PerformanceMonitor* monitor, std::string_view name);

 private:
  std::unique_ptr<PerformanceMonitor::Scope> scope_;
};

}  // namespace imgpipe
