#pragma once
// How `ramfleet serve` lives as a daemon: SIGHUP reloads the config,
// SIGTERM/SIGINT drain and exit, and systemd hears about each step
// (net/sd_notify.hpp: READY=1, RELOADING=1, STOPPING=1). What a reload or a
// drain does to each service is serve's business; this runs the signals, the
// grace period and the readiness messages around it.
#include <chrono>
#include <cstddef>
#include <functional>

namespace boost::asio {
class io_context;
}

namespace ramfleet::cli {

struct LifecycleHooks {
  std::function<void()> reload;                      // SIGHUP: re-read everything, keep what is broken
  std::function<void()> stop_accepting;              // first step of a stop: no new request or transfer
  std::function<std::size_t()> in_flight;            // HTTP replies and TFTP transfers still running
  std::function<std::chrono::milliseconds()> grace;  // how long in_flight may take to reach 0
  std::function<void()> finish;                      // last step: flush the stores
};

// Tells systemd READY=1, then runs `io` until a stop signal has drained (or
// the grace period ran out; a second signal stops at once). Returns the exit
// status: 0.
int run_until_stopped(boost::asio::io_context& io, LifecycleHooks hooks);

}  // namespace ramfleet::cli
