#include "cli/serve_lifecycle.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <memory>

#include "core/log.hpp"
#include "net/sd_notify.hpp"

namespace ramfleet::cli {
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

const char* signal_name(int signo) {
  switch (signo) {
    case SIGHUP:
      return "SIGHUP";
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "?";
  }
}

// One serve's signals and its drain, all on the event loop.
struct Lifecycle {
  Lifecycle(asio::io_context& io_, LifecycleHooks h)
      : io(io_), hooks(std::move(h)), reload_signal(io_, SIGHUP), stop_signals(io_, SIGINT, SIGTERM), poll(io_) {}

  asio::io_context& io;
  LifecycleHooks hooks;
  asio::signal_set reload_signal;
  asio::signal_set stop_signals;
  asio::steady_timer poll;
  bool stopping = false;
  Clock::time_point started_stop;
  Clock::time_point deadline;

  void wait_reload() {
    reload_signal.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (!stopping) {
        net::sd_notify(net::reloading_message());
        log::info("serve.reload", {{"signal", signal_name(signo)}});
        hooks.reload();
        net::sd_notify("READY=1");
      }
      wait_reload();
    });
  }

  void wait_stop() {
    stop_signals.async_wait([this](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (stopping) {  // the operator insists: no more waiting
        log::warn("serve.stop_now", {{"signal", signal_name(signo)}, {"in_flight", hooks.in_flight()}});
        end();
        return;
      }
      stopping = true;
      started_stop = Clock::now();
      deadline = started_stop + hooks.grace();
      net::sd_notify("STOPPING=1");
      log::info(
          "serve.stop",
          {{"signal", signal_name(signo)}, {"in_flight", hooks.in_flight()}, {"grace_ms", hooks.grace().count()}});
      hooks.stop_accepting();
      wait_stop();
      check_drained();
    });
  }

  // Polled: replies and transfers end in many places, and 50 ms is well
  // inside any grace period worth setting.
  void check_drained() {
    const std::size_t left = hooks.in_flight();
    if (left == 0) {
      log::info("serve.drained",
                {{"ms", std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_stop).count()}});
      end();
      return;
    }
    if (Clock::now() >= deadline) {
      log::warn("serve.grace_expired",
                {{"in_flight", left}, {"grace_ms", hooks.grace().count()}, {"effect", "the rest are cut off"}});
      end();
      return;
    }
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) check_drained();
    });
  }

  void end() {
    boost::system::error_code ignored;
    poll.cancel();
    reload_signal.cancel(ignored);
    stop_signals.cancel(ignored);
    hooks.finish();
    io.stop();
  }
};

}  // namespace

int run_until_stopped(asio::io_context& io, LifecycleHooks hooks) {
  auto life = std::make_unique<Lifecycle>(io, std::move(hooks));
  life->wait_reload();
  life->wait_stop();
  net::sd_notify("READY=1");
  io.run();
  return 0;
}

}  // namespace ramfleet::cli
