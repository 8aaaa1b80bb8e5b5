#include "signals.hpp"

#include <fmt/format.h>
#include <pthread.h>

#include <cstdlib>
#include <imgpipe/io.hpp>
#include <iostream>

namespace imgpipe::cli {

SignalWatcher::SignalWatcher(Reaction reaction, const char* in_flight) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGUSR1);  // our own "done" wake-up
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this, reaction, in_flight] {
    for (;;) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1) return;
      const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      if (reaction == Reaction::exit) {
        remove_temporary_files();
        std::cerr << fmt::format("\nimgpipe: {} received: stopped; no partial output was left\n", name);
        std::_Exit(128 + sig);
      }
      int expected = 0;
      if (!first_.compare_exchange_strong(expected, sig)) {
        abort_.request_stop();
        continue;
      }
      stop_.request_stop();
      std::cerr << fmt::format("\nimgpipe: {} received: finishing the {} in flight (again to abandon them)\n",
                               name, in_flight);
    }
  });
}

SignalWatcher::~SignalWatcher() {
  pthread_kill(thread_.native_handle(), SIGUSR1);
  thread_.join();
  pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
}

}  // namespace imgpipe::cli
