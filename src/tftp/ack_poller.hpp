#pragma once
// Whether the socket layer should poll for a transfer's next datagram instead
// of sleeping until the kernel wakes it.
//
// In lock-step TFTP every block costs one round trip, and a server that sleeps
// between blocks adds its own wake-up to each one (measured here: ~17 of the
// ~24 us between an ACK reaching the server and the next block leaving it).
// Polling for a short budget after a send skips that wake-up when the client
// answers quickly (a fast client on a short path), and costs at most the budget
// of CPU per send when it does not. Whether to poll follows the last observed
// answer: a client that answered within the budget is polled for next time, one
// that took longer is waited for asleep (until it answers fast again).
#include <chrono>

namespace ramfleet::tftp {

class AckPoller {
 public:
  using Clock = std::chrono::steady_clock;

  explicit AckPoller(Clock::duration budget) : budget_(budget) {}

  // A datagram from the client arrived `delay` after our last send.
  void observe(Clock::duration delay) { poll_ = budget_.count() > 0 && delay <= budget_; }

  // Poll again now (rather than sleep), given when we last sent?
  [[nodiscard]] bool keep_polling(Clock::time_point last_send, Clock::time_point now) const {
    return poll_ && now - last_send < budget_;
  }

  [[nodiscard]] Clock::duration budget() const { return budget_; }

 private:
  Clock::duration budget_;
  // The first answer (to the OACK or block 1) is polled for: most clients answer fast.
  bool poll_ = budget_.count() > 0;
};

}  // namespace ramfleet::tftp
