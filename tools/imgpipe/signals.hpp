#pragma once
// SIGINT and SIGTERM for the CLI: taken by one thread with sigwait (blocked in every other
// thread, which must be started after the watcher), so the reaction is ordinary code.

#include <signal.h>

#include <atomic>
#include <stop_token>
#include <thread>

namespace imgpipe::cli {

class SignalWatcher {
 public:
  enum class Reaction {
    // A batch: the first signal asks it to stop admitting inputs, the second to abandon what
    // is in flight (nothing partial is written either way).
    stop_then_abort,
    // One image: remove the temporary files of writes in progress and exit at once with
    // 128 + the signal (130, 143); an output is either complete or not there.
    exit,
  };

  // `in_flight` names what stop_then_abort finishes: "images" (a batch), "requests" (serve).
  explicit SignalWatcher(Reaction reaction, const char* in_flight = "images");
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  ~SignalWatcher();

  std::stop_token stop() const { return stop_.get_token(); }
  std::stop_token abort() const { return abort_.get_token(); }
  int signal() const { return first_.load(); }

 private:
  sigset_t set_{};
  std::stop_source stop_, abort_;
  std::atomic<int> first_{0};
  std::thread thread_;
};

}  // namespace imgpipe::cli
