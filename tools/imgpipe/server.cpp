// `imgpipe serve` (docs/serve.md): cpp-httplib's server in front of the job runner.
//
// A request for an image is answered in this order: its chain and parameters are checked
// (400/404), the input's header is read by the Job (422 for what cannot be decoded or is over
// the pixel limit or, alone, over the memory budget), then it waits — at most queue_timeout —
// for one of max_concurrent slots and for its estimated working set to fit the memory governor
// (503 with Retry-After otherwise), and runs with the request's deadline (504) and the
// shutdown's cancellation. Nothing is written to disk unless a result-cache folder is set.
// Connections are served by a pool of threads larger than the slots, so /healthz, /readyz and
// /metrics answer while every slot is busy.

#include "server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <imgpipe/imgpipe.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "command_io.hpp"

namespace imgpipe::cli {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

// An answer other than 200 decided by the service itself (unknown chain, busy, bad request).
struct HttpError {
  int status;
  std::string category;
  std::string message;
  int retry_after = 0;  // seconds; 0 = no Retry-After header
};

int status_for(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::config: return 400;
    case ErrorCategory::decode:
    case ErrorCategory::limit:
    case ErrorCategory::unsupported: return 422;
    case ErrorCategory::timeout: return 504;
    case ErrorCategory::cancelled: return 503;
    case ErrorCategory::io:
    case ErrorCategory::device:
    case ErrorCategory::internal: return 500;
  }
  return 500;
}

std::string_view mime_type(Format format) {
  switch (format) {
    case Format::jpeg: return "image/jpeg";
    case Format::png: return "image/png";
    case Format::webp: return "image/webp";
    case Format::tiff: return "image/tiff";
    case Format::svg: return "image/svg+xml";
  }
  return "application/octet-stream";
}

// ---- Metrics (Prometheus text format) ----------------------------------------------------

class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                      0.5,   1,    2.5,   5,    10,  30};

  void record(const std::string& route, int status, const std::string& category, double seconds) {
    std::lock_guard lock(mutex_);
    ++requests_[{route, status}];
    if (!category.empty()) ++errors_[{route, category}];
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      if (seconds <= kBuckets[i]) ++buckets_[i];
    ++count_;
    sum_ += seconds;
  }

  std::string text() const {
    std::lock_guard lock(mutex_);
    std::string out =
        "# HELP imgpipe_requests_total Image requests answered, by route (chain) and HTTP status.\n"
        "# TYPE imgpipe_requests_total counter\n";
    for (const auto& [key, n] : requests_)
      out +=
          fmt::format("imgpipe_requests_total{{chain=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, n);
    out +=
        "# HELP imgpipe_request_errors_total Image requests that failed, by route (chain) and error "
        "category.\n"
        "# TYPE imgpipe_request_errors_total counter\n";
    for (const auto& [key, n] : errors_)
      out += fmt::format("imgpipe_request_errors_total{{chain=\"{}\",category=\"{}\"}} {}\n", key.first,
                         key.second, n);
    out +=
        "# HELP imgpipe_request_duration_seconds Time from a request's arrival to its answer.\n"
        "# TYPE imgpipe_request_duration_seconds histogram\n";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out +=
          fmt::format("imgpipe_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], buckets_[i]);
    out += fmt::format(
        "imgpipe_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\nimgpipe_request_duration_seconds_sum {}\n"
        "imgpipe_request_duration_seconds_count {}\n",
        count_, sum_, count_);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> errors_;
  std::array<std::uint64_t, kBuckets.size()> buckets_{};
  std::uint64_t count_ = 0;
  double sum_ = 0;
};

std::string gauge(std::string_view name, std::string_view help, std::string_view type, double value) {
  return fmt::format("# HELP {0} {1}\n# TYPE {0} {2}\n{0} {3}\n", name, help, type, value);
}

// The slots requests are processed in, given in the order the requests asked for them: a
// semaphore wakes waiters in no order, and under load the unlucky ones waited many times the
// mean (16 clients on 2 slots: p99 3.1 s at a mean of 0.5 s).
class Slots {
 public:
  explicit Slots(int count) : free_(count) {}

  bool acquire_until(Clock::time_point until) {
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    const bool got = changed_.wait_until(lock, until, [&] { return free_ > 0 && queue_.front() == ticket; });
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    if (got) --free_;
    changed_.notify_all();  // the next in line may go, or move to the front
    return got;
  }

  void release() {
    {
      std::lock_guard lock(mutex_);
      ++free_;
    }
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::uint64_t> queue_;
  std::uint64_t next_ticket_ = 0;
  int free_;
};

// Holds a slot and the governor's admission while a request runs.
class Admission {
 public:
  Admission(Slots& slots, MemoryGovernor& governor) : slots_(slots), governor_(governor) {}
  Admission(const Admission&) = delete;
  Admission& operator=(const Admission&) = delete;
  ~Admission() {
    if (bytes_) governor_.release(*bytes_);
    if (slot_) slots_.release();
  }

  void enter(std::uint64_t bytes, std::chrono::milliseconds wait) {
    const auto until = Clock::now() + wait;
    if (!slots_.acquire_until(until)) throw HttpError{503, "busy", "every worker is busy; retry shortly", 1};
    slot_ = true;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    if (!governor_.try_admit(bytes, std::max(left, std::chrono::milliseconds(0))))
      throw HttpError{503, "busy",
                      fmt::format("the memory budget ({} MB) is in use by other requests; retry shortly",
                                  governor_.budget() >> 20),
                      1};
    bytes_ = bytes;
  }

 private:
  Slots& slots_;
  MemoryGovernor& governor_;
  bool slot_ = false;
  std::optional<std::uint64_t> bytes_;
};

// What a request asks besides its image: output format and quality, one variant, a preview.
struct OutputQuery {
  std::optional<Format> format;
  int quality = 0;
  std::string variant;
  bool preview = false;
};

bool truthy(const std::string& text) {
  return text == "1" || text == "true" || text == "yes";
}

OutputQuery output_query(const httplib::Request& req) {
  OutputQuery q;
  if (req.has_param("format")) {
    q.format = parse_format(req.get_param_value("format"));
    if (!q.format)
      throw HttpError{400, "config",
                      fmt::format("format: \"{}\" is not one of jpeg, png, webp, tiff, svg",
                                  req.get_param_value("format"))};
  }
  if (req.has_param("quality")) {
    const std::string text = req.get_param_value("quality");
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value < 1 || value > 100)
      throw HttpError{400, "config",
                      fmt::format("quality: \"{}\" is not a whole number from 1 to 100", text)};
    q.quality = static_cast<int>(value);
  }
  q.variant = req.get_param_value("variant");
  q.preview = truthy(req.get_param_value("preview"));
  return q;
}

// The image a request carries: the body, or the multipart field `image`.
std::vector<std::uint8_t> request_image(const httplib::Request& req) {
  const std::string* bytes = &req.body;
  httplib::MultipartFormData field;
  if (req.is_multipart_form_data()) {
    if (!req.has_file("image")) throw HttpError{400, "config", "the multipart body has no field named image"};
    field = req.get_file_value("image");
    bytes = &field.content;
  }
  if (bytes->empty())
    throw HttpError{400, "config", "no image: send it as the body or as the multipart field image"};
  return {bytes->begin(), bytes->end()};
}

std::string boundary() {
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("imgpipe-{:016x}-{}",
                     static_cast<std::uint64_t>(Clock::now().time_since_epoch().count()), counter++);
}

// One part of a multipart answer.
std::string part(std::string_view boundary, std::string_view type, std::string_view name,
                 std::string_view ext, const std::vector<std::uint8_t>& bytes) {
  std::string out = fmt::format("--{}\r\nContent-Type: {}\r\n", boundary, type);
  if (!name.empty())
    out += fmt::format("Content-Disposition: inline; name=\"{0}\"; filename=\"{0}.{1}\"\r\n", name, ext);
  out += fmt::format("Content-Length: {}\r\n\r\n", bytes.size());
  out.append(bytes.begin(), bytes.end());
  out += "\r\n";
  return out;
}

// The memory limit of this process: its cgroup's (a container's), else the machine's.
std::uint64_t memory_limit() {
  std::uint64_t limit = 0;
  if (std::FILE* f = std::fopen("/sys/fs/cgroup/memory.max", "r")) {
    unsigned long long value = 0;
    if (std::fscanf(f, "%llu", &value) == 1) limit = value;
    std::fclose(f);
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  const std::uint64_t physical = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * page : 0;
  return limit && (physical == 0 || limit < physical) ? limit : physical;
}

std::uint64_t resident_bytes() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::uint64_t>(resident) * sysconf(_SC_PAGESIZE);
}

// A small image run through every chain before the service says it is ready, so the first
// request finds the encoders, tables and thread pools made.
Image warm_up_image() {
  cv::Mat pixels(256, 256, CV_8UC3);
  for (int y = 0; y < pixels.rows; ++y)
    for (int x = 0; x < pixels.cols; ++x)
      pixels.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<std::uint8_t>(x), static_cast<std::uint8_t>(y),
                                             static_cast<std::uint8_t>((x * y) >> 8));
  return Image(pixels);
}

// How many images the chain makes from one input.
std::size_t variant_count(const Chain& chain) {
  std::size_t variants = 1;
  for (const auto& step : chain.steps()) variants *= step.operation->variant_count();
  return variants;
}

// Requests processed at once: --max-concurrent, else one per core.
int slot_count(const ServeOptions& options) {
  return options.max_concurrent > 0 ? options.max_concurrent
                                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// ---- The service -------------------------------------------------------------------------

class Service {
 public:
  Service(const ServeOptions& options, std::stop_token abort)
      : options_(options),
        budget_(options.max_memory ? options.max_memory : memory_limit() / 2),
        analysis_(std::min(options.analysis_cache, budget_ / 4)),
        governor_(budget_ - analysis_.max_bytes()),
        slots_(slot_count(options)),
        abort_(std::move(abort)) {
    base_.source = "imgpipe serve";
    apply_environment(base_);
    apply_settings(base_);
    if (options.cache_dir) cache_.emplace(*options.cache_dir, options.cache_max_bytes);
    load_chains();
  }

  std::size_t chain_count() const { return chains_.size(); }
  std::uint64_t budget() const { return budget_; }
  void set_ready(bool ready) { ready_ = ready; }
  void set_draining() { draining_ = true; }

  void warm_up() {
    const Image image = warm_up_image();
    for (const auto& [name, file] : chains_) {
      try {
        Job job(*file, image, file->context);
        SaveOptions save = file->output;
        if (!file->output_format_set) save.format = Format::png;
        job.encode(save);
      } catch (const Error& e) {
        // A chain may rightly refuse a 256x256 image (a fixed crop, say): it is still served.
        if (!options_.quiet)
          std::cerr << warning_line(fmt::format("warm-up of chain {}: {}", name, e.what()));
      }
    }
  }

  void install(httplib::Server& server) {
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"status":"alive"})", "application/json");
    });
    server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = ready_ && !draining_;
      res.status = ready ? 200 : 503;
      res.set_content(fmt::format(R"({{"status":"{}"}})", ready       ? "ready"
                                                          : draining_ ? "draining"
                                                                      : "starting"),
                      "application/json");
    });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_text(), "text/plain; version=0.0.4");
    });
    server.Get("/v1/ops", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(describe_ops_json(), "application/json");
    });
    server.Get("/v1/chains", [this](const httplib::Request&, httplib::Response& res) {
      json all = json::array();
      for (const auto& [name, file] : chains_) {
        all.push_back(
            {{"name", name},
             {"file", fs::path(file->source).filename().string()},
             {"steps", file->chain.steps().size()},
             {"variants", variant_count(file->chain)},
             {"format", file->output_format_set ? std::string(to_string(file->output.format)) : "input"},
             {"canonical", file->chain.canonical()}});
      }
      res.set_content(all.dump(), "application/json");
    });
    server.Post(R"(/v1/chains/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string name = req.matches[1];
      handle(name, res, [&] {
        const auto it = chains_.find(name);
        if (it == chains_.end()) {
          std::vector<std::string> names;
          for (const auto& entry : chains_) names.push_back(entry.first);
          std::string message = fmt::format("no chain named {}", name);
          if (auto near = closest_name(name, names)) message += fmt::format(" (did you mean {}?)", *near);
          throw HttpError{404, "not_found", message + "; GET /v1/chains lists them"};
        }
        run_chain(*it->second, req, res, "chains/" + name);
      });
    });
    server.Post("/v1/run", [this](const httplib::Request& req, httplib::Response& res) {
      handle("inline", res, [&] { run_inline(req, res); });
    });
    server.Post("/v1/palette", [this](const httplib::Request& req, httplib::Response& res) {
      handle("palette", res, [&] { run_palette(req, res); });
    });
    server.Post("/v1/extract-palette", [this](const httplib::Request& req, httplib::Response& res) {
      handle("extract-palette", res, [&] { run_extract(req, res); });
    });
    // httplib's own refusals (413 over the body limit, 404 no such route, ...) in our JSON form.
    server.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                     httplib::Response& res) {
      if (!res.body.empty() || res.is_chunked_content_provider_)
        return httplib::Server::HandlerResponse::Unhandled;
      // httplib parses a form-encoded body as form fields (8 kB at most) and refuses a larger
      // one: what `curl --data-binary` sends unless told the image's type.
      if (res.status == 413 && req.get_header_value("Content-Type") == "application/x-www-form-urlencoded") {
        res.status = 415;
        res.set_content(json{{"error", "request"},
                             {"message",
                              "send the image with its own Content-Type (image/jpeg, ... or "
                              "application/octet-stream), or as the multipart field image; curl "
                              "--data-binary needs -H 'Content-Type: image/jpeg'"}}
                            .dump(),
                        "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }
      const std::string message = res.status == 413   ? "the request body is over the size limit (--max-body)"
                                  : res.status == 404 ? fmt::format("no route {} {}", req.method, req.path)
                                                      : fmt::format("HTTP {}", res.status);
      res.set_content(
          json{{"error", res.status == 404 ? "not_found" : "request"}, {"message", message}}.dump(),
          "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
  }

 private:
  // Runs `work`, answering what it throws as {"error", "message"} and counting the request.
  template <class Work>
  void handle(const std::string& route, httplib::Response& res, Work&& work) {
    const auto begun = Clock::now();
    ++in_flight_;
    std::string category;
    auto fail = [&](int status, std::string cat, const std::string& message, int retry_after = 0) {
      res = httplib::Response();
      res.status = status;
      if (retry_after) res.set_header("Retry-After", std::to_string(retry_after));
      res.set_content(json{{"error", cat}, {"message", message}}.dump(), "application/json");
      category = std::move(cat);
    };
    try {
      work();
      res.status = 200;
    } catch (const HttpError& e) {
      fail(e.status, e.category, e.message, e.retry_after);
    } catch (const Error& e) {
      fail(status_for(e.category()), std::string(to_string(e.category())), e.what(),
           e.category() == ErrorCategory::cancelled ? 1 : 0);
    } catch (const std::bad_alloc&) {
      fail(503, "memory", "out of memory", 1);
    } catch (const std::exception& e) {
      fail(500, "internal", e.what());
    }
    --in_flight_;
    const double seconds = std::chrono::duration<double>(Clock::now() - begun).count();
    metrics_.record(route, res.status, category, seconds);
    if (options_.verbose)
      std::cerr << fmt::format("{} {} {:.1f} ms{}\n", route, res.status, seconds * 1e3,
                               category.empty() ? "" : " " + category);
  }

  // The context of one request: its deadline, the shutdown's cancellation, the shared cache.
  Context request_context(const ChainFile& file) const {
    Context context = file.context;
    context.deadline = Clock::now() + options_.timeout;
    context.cancel = abort_;
    context.analysis_cache = analysis_.max_bytes() ? &analysis_ : nullptr;
    return context;
  }

  // The chain's outputs for this input, from the result cache when one is set.
  std::vector<EncodedOutput> encode(const ChainFile& file, Job& job, const SaveOptions& save) {
    std::string key;
    if (cache_) {
      key = ResultCache::key(job.input_digest(), file.chain.canonical(),
                             canonical_output_settings(save, file.context.quality));
      if (auto hit = cache_->get(key)) {
        ++result_cache_hits_;
        std::vector<EncodedOutput> out;
        for (auto& o : *hit) out.push_back({o.variant, std::move(o.bytes), {}});
        return out;
      }
    }
    Admission admission(slots_, governor_);
    admission.enter(job.working_set(), options_.queue_timeout);
    std::vector<EncodedOutput> out = job.encode(save);
    if (cache_) {
      std::vector<CachedOutput> stored;
      for (const auto& o : out) stored.push_back({o.variant, o.bytes});
      cache_->put(key, stored);
    }
    return out;
  }

  // One image through `file`'s chain, answered as the image, or multipart/mixed for variants.
  void run_chain(const ChainFile& file, const httplib::Request& req, httplib::Response& res,
                 std::string_view what) {
    const OutputQuery q = output_query(req);
    Context context = request_context(file);
    // A preview's answer is made after this returns: the job's chain file (an inline chain's is
    // the caller's local) must live as long as the answer does.
    const auto kept = q.preview ? std::make_shared<const ChainFile>(file) : nullptr;
    auto job = std::make_shared<Job>(kept ? *kept : file, request_image(req), std::string(what), context);
    SaveOptions save = file.output;
    if (q.format) {
      save.format = *q.format;
    } else if (!file.output_format_set) {
      // As the output's name would say; without one, the input's own format.
      const auto from_path = format_from_path(file.output_path);
      const auto from_input = parse_format(job->info().format);
      save.format = from_path                                  ? *from_path
                    : from_input && *from_input != Format::svg ? *from_input
                                                               : Format::png;
    }
    if (q.quality) save.quality = q.quality;
    try {
      check_output_format(file.chain, save.format);
    } catch (const Error& e) {
      throw HttpError{400, "config", e.what()};
    }
    if (q.preview) return preview(kept, job, save, q, res);
    std::vector<EncodedOutput> outputs = encode(file, *job, save);
    answer(outputs, save.format, q.variant, res);
  }

  static void answer(std::vector<EncodedOutput>& outputs, Format format, const std::string& variant,
                     httplib::Response& res) {
    if (!variant.empty()) {
      const auto it =
          std::find_if(outputs.begin(), outputs.end(), [&](const auto& o) { return o.variant == variant; });
      if (it == outputs.end()) {
        std::vector<std::string> names;
        for (const auto& o : outputs) names.push_back(o.variant.empty() ? "(none)" : o.variant);
        throw HttpError{400, "config",
                        fmt::format("variant: no variant named {}; this chain makes {}", variant,
                                    fmt::join(names, ", "))};
      }
      outputs = {std::move(*it)};
    }
    if (outputs.size() == 1) {
      const auto& bytes = outputs.front().bytes;
      res.set_content(std::string(bytes.begin(), bytes.end()), std::string(mime_type(format)));
      if (!outputs.front().variant.empty()) res.set_header("X-Imgpipe-Variant", outputs.front().variant);
      return;
    }
    const std::string b = boundary();
    std::string body;
    for (const auto& o : outputs)
      body += part(b, mime_type(format), o.variant, extension_of(format), o.bytes);
    body += fmt::format("--{}--\r\n", b);
    res.set_content(std::move(body), fmt::format("multipart/mixed; boundary={}", b));
  }

  // ?preview=1: the library's draft (Job::draft: the draft preset, at most
  // kDefaultPreviewSide on its long side), then the result, as two parts of
  // multipart/x-mixed-replace. Admission happens before the answer starts, so a refusal is
  // still an ordinary status; a failure after the draft is sent ends the answer with a JSON
  // part instead of the image.
  void preview(std::shared_ptr<const ChainFile> file, std::shared_ptr<Job> job, const SaveOptions& save,
               const OutputQuery& q, httplib::Response& res) {
    if (variant_count(file->chain) > 1 && q.variant.empty())
      throw HttpError{400, "config", "preview answers one image: choose one with ?variant=NAME"};
    auto admission = std::make_shared<Admission>(slots_, governor_);
    admission->enter(job->working_set(), options_.queue_timeout);
    const std::string b = boundary();
    res.set_chunked_content_provider(
        fmt::format("multipart/x-mixed-replace; boundary={}", b),
        [file, job, admission, save, q, b](std::size_t, httplib::DataSink& sink) {
          auto send = [&](std::string_view type, const std::vector<std::uint8_t>& data) {
            const std::string p = part(b, type, {}, {}, data);
            return sink.write(p.data(), p.size());
          };
          try {
            const Draft draft = job->draft(save);
            const auto it = std::find_if(draft.outputs.begin(), draft.outputs.end(), [&](const auto& o) {
              return q.variant.empty() || o.variant == q.variant;
            });
            if (it != draft.outputs.end() && !send(mime_type(save.format), it->bytes)) return false;
          } catch (const Error&) {
            // No draft (the chain fails on this input, or the deadline passed): the result
            // alone follows, or the error it fails with.
          }
          try {
            auto outputs = job->encode(save);
            const auto it = std::find_if(outputs.begin(), outputs.end(), [&](const auto& o) {
              return q.variant.empty() || o.variant == q.variant;
            });
            if (it == outputs.end())
              throw Error(ErrorCategory::config, fmt::format("variant: no variant named {}", q.variant));
            send(mime_type(save.format), it->bytes);
          } catch (const Error& e) {
            const std::string text = json{{"error", to_string(e.category())}, {"message", e.what()}}.dump();
            send("application/json", {text.begin(), text.end()});
          }
          const std::string end = fmt::format("--{}--\r\n", b);
          sink.write(end.data(), end.size());
          sink.done();
          return true;
        });
  }

  // POST /v1/run: an inline chain (multipart fields `chain`, YAML, and `image`), untrusted.
  void run_inline(const httplib::Request& req, httplib::Response& res) {
    if (!options_.allow_inline)
      throw HttpError{403, "forbidden", "inline chains are off: start the server with --allow-inline-chains"};
    if (!req.is_multipart_form_data() || !req.has_file("chain"))
      throw HttpError{400, "config", "send multipart/form-data with the fields chain (YAML) and image"};
    FileAccess access;
    access.untrusted = true;
    access.allowed = options_.allowed;
    ChainFile file = parse_chain(req.get_file_value("chain").content, "<inline chain>", access);
    // Its settings never loosen the service's: the limits, budget and threads are the server's.
    file.context.limits = base_.context.limits;
    file.context.max_memory = base_.context.max_memory;
    file.context.threads = base_.context.threads;
    run_chain(file, req, res, "<inline chain>");
  }

  // POST /v1/palette: `imgpipe palette` over HTTP. The palettes come as JSON in the multipart
  // field `palettes` (or inline as ?colors=...), the palette operation's parameters as query.
  void run_palette(const httplib::Request& req, httplib::Response& res) {
    const OpDescriptor& op = Registry::global().at("palette");
    std::map<std::string, Value, std::less<>> given;
    for (const auto& [key, value] : req.params) {
      if (key == "format" || key == "quality" || key == "variant" || key == "preview") continue;
      const ParamSpec* spec = op.find_param(key);
      if (!spec)
        throw HttpError{400, "config",
                        fmt::format("palette has no parameter {}; GET /v1/ops lists them", key)};
      given[key] = value_from_text(value, spec->type);
    }
    if (req.is_multipart_form_data() && req.has_file("palettes"))
      given["colors"] = Value(req.get_file_value("palettes").content);
    ChainFile file = base_;
    FileAccess no_files;  // a request names no files on this machine
    no_files.untrusted = true;
    file.chain = Chain(no_files);
    file.chain.then(op, validate_params(op, given));
    file.output.format = Format::png;
    file.output_format_set = true;
    file.output.lossless = true;  // as `imgpipe palette`: few flat colours
    file.output.compression = 1;
    OutputQuery q = output_query(req);
    if (q.format && *q.format != Format::png && *q.format != Format::webp)
      throw HttpError{400, "config", "format: palette outputs are png or webp (lossless)"};
    run_chain(file, req, res, "palette");
  }

  // POST /v1/extract-palette: `imgpipe extract-palette --json` over HTTP (?k=5).
  void run_extract(const httplib::Request& req, httplib::Response& res) {
    int k = 5;
    if (req.has_param("k")) {
      const Value v = value_from_text(req.get_param_value("k"), ParamType::integer);
      if (v.as_int() < 1 || v.as_int() > 254) throw HttpError{400, "config", "k: from 1 to 254"};
      k = static_cast<int>(v.as_int());
    }
    Job job(base_, request_image(req), "extract-palette", request_context(base_));
    Admission admission(slots_, governor_);
    admission.enter(job.working_set(), options_.queue_timeout);
    res.set_content(dominant_colours_json(extract_palette(job.load(), k, base_.context.quality)).dump(),
                    "application/json");
  }

  std::string metrics_text() const {
    std::string out = metrics_.text();
    out +=
        gauge("imgpipe_in_flight_requests", "Image requests being answered now.", "gauge", in_flight_.load());
    out += gauge("imgpipe_memory_budget_bytes",
                 "The memory budget requests are admitted by (analysis cache excluded).", "gauge",
                 static_cast<double>(governor_.budget()));
    out += gauge("imgpipe_memory_admitted_bytes", "Estimated working sets of the requests admitted now.",
                 "gauge", static_cast<double>(governor_.used()));
    out += gauge("imgpipe_analysis_cache_hits_total", "Analyses (clusterings) found in the in-memory cache.",
                 "counter", static_cast<double>(analysis_.hits()));
    out += gauge("imgpipe_analysis_cache_misses_total", "Analyses looked up and not found.", "counter",
                 static_cast<double>(analysis_.misses()));
    out += gauge("imgpipe_analysis_cache_bytes", "Memory held by the analysis cache.", "gauge",
                 static_cast<double>(analysis_.bytes()));
    out += gauge("imgpipe_result_cache_hits_total", "Answers read from the result cache folder.", "counter",
                 static_cast<double>(result_cache_hits_.load()));
    out += gauge("imgpipe_resident_bytes", "The process's resident memory.", "gauge",
                 static_cast<double>(resident_bytes()));
    return out;
  }

  void apply_settings(ChainFile& file) const {
    for (const auto& s : options_.settings) apply_setting(file, s.key, s.value, s.origin);
    if (budget_) file.context.max_memory = budget_ - analysis_.max_bytes();
  }

  // Every *.yaml / *.yml file in the folder, named by its stem; any mistake stops the start.
  void load_chains() {
    std::error_code ec;
    if (!fs::is_directory(options_.chains, ec))
      throw Error(ErrorCategory::config,
                  fmt::format("{}: --chains needs a folder of chain files", options_.chains.string()));
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(options_.chains, ec)) {
      const std::string ext = entry.path().extension().string();
      if ((ext == ".yaml" || ext == ".yml") && entry.is_regular_file()) files.push_back(entry.path());
    }
    if (ec) throw Error(ErrorCategory::io, fmt::format("{}: {}", options_.chains.string(), ec.message()));
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      const std::string name = path.stem().string();
      if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") !=
          std::string::npos)
        throw Error(ErrorCategory::config,
                    fmt::format("{}: a chain's name (its file name) may hold letters, digits, "
                                "'-', '_' and '.' only: it is part of the URL",
                                path.string()));
      auto file = std::make_unique<ChainFile>(load_chain_file(path, options_.access));
      apply_environment(*file);
      apply_settings(*file);
      if (file->output_format_set) check_output_format(file->chain, file->output.format);
      if (!chains_.emplace(name, std::move(file)).second)
        throw Error(ErrorCategory::config,
                    fmt::format("{}: another file already names the chain {}", path.string(), name));
    }
    if (chains_.empty())
      throw Error(ErrorCategory::config,
                  fmt::format("{}: no chain files (*.yaml, *.yml)", options_.chains.string()));
  }

  const ServeOptions& options_;
  std::uint64_t budget_;
  mutable AnalysisCache analysis_;
  MemoryGovernor governor_;
  Slots slots_;
  std::stop_token abort_;
  ChainFile base_;  // the service's own settings: palette, extract-palette, inline chains
  std::map<std::string, std::unique_ptr<ChainFile>> chains_;
  std::optional<ResultCache> cache_;
  Metrics metrics_;
  std::atomic<int> in_flight_{0};
  std::atomic<std::uint64_t> result_cache_hits_{0};
  std::atomic<bool> ready_{false}, draining_{false};
};

}  // namespace

int serve(const ServeOptions& options, std::stop_token stop, std::stop_token abort) {
  ::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is an error on its socket, not the end
  std::stop_source cancel;     // the requests in flight, after the shutdown's deadline
  std::stop_callback forward(abort, [&] { cancel.request_stop(); });
  Service service(options, cancel.get_token());

  httplib::Server server;
  const int slots = slot_count(options);
  const std::size_t threads = static_cast<std::size_t>(std::max(16, 4 * slots));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_payload_max_length(options.max_body);
  service.install(server);

  const int port = options.port == 0 ? server.bind_to_any_port(options.host) : options.port;
  if (options.port != 0 && !server.bind_to_port(options.host, options.port))
    throw Error(ErrorCategory::config,
                fmt::format("cannot listen on {}:{} (in use, or not an address of this machine)",
                            options.host, options.port));
  if (port < 0) throw Error(ErrorCategory::config, fmt::format("cannot listen on {}", options.host));
  std::thread listener([&] { server.listen_after_bind(); });
  if (!options.quiet)
    std::cerr << fmt::format("imgpipe: listening on http://{}:{} ({} chains, memory budget {} MB)\n",
                             options.host, port, service.chain_count(), service.budget() >> 20);
  service.warm_up();
  service.set_ready(true);

  // Until SIGTERM/SIGINT: then /readyz says draining, the listener closes, and the requests in
  // flight get shutdown_timeout to finish before they are cancelled.
  std::mutex mutex;
  std::condition_variable woken;
  bool stopping = false;
  std::stop_callback on_stop(stop, [&] {
    std::lock_guard lock(mutex);
    stopping = true;
    woken.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    woken.wait(lock, [&] { return stopping; });
  }
  service.set_draining();
  bool finished = false;
  std::thread watchdog([&] {
    std::unique_lock lock(mutex);
    if (!woken.wait_for(lock, options.shutdown_timeout, [&] { return finished; })) cancel.request_stop();
  });
  server.stop();
  listener.join();
  {
    std::lock_guard lock(mutex);
    finished = true;
    woken.notify_all();
  }
  watchdog.join();
  if (!options.quiet) std::cerr << "imgpipe: stopped\n";
  return 0;
}

}  // namespace imgpipe::cli

// The plugin's entry point (kServeSymbol): errors are thrown as imgpipe::Error, whose type
// libimgpipe defines for both sides.
extern "C" int imgpipe_serve(const imgpipe::cli::ServeOptions& options, std::stop_token stop,
                             std::stop_token abort) {
  return imgpipe::cli::serve(options, std::move(stop), std::move(abort));
}
