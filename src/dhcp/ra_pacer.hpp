#pragma once
// When to answer an IPv6 Router Solicitation (RFC 4861 6.2.6), sans-IO.
//
// A solicitation from an address gets a unicast RA at once (what makes iPXE's
// IPv6 autoconfiguration end without waiting), within a token bucket; one from
// the unspecified address, or one over that bucket, is answered by a multicast
// RA to all nodes, and multicast RAs are at least MIN_DELAY_BETWEEN_RAS (3 s)
// apart: a solicitation inside that gap schedules one RA at the gap's end,
// and more solicitations before it is sent are folded into it. So a flood of
// solicitations, spoofed sources or not, yields at most
//   unicast burst + unicast rate * t + t / 3 s + 1   RAs in t seconds.
// (RFC 4861's random MAX_RA_DELAY_TIME of up to 0.5 s is not applied: this
// router advertises "no router", and the delay would slow every boot.)
#include <chrono>
#include <optional>

#include "core/rate_limit.hpp"

namespace ramfleet::dhcp {

class RaPacer {
 public:
  using Clock = std::chrono::steady_clock;
  using TimePoint = Clock::time_point;
  static constexpr std::chrono::seconds kMinDelayBetweenRas{3};  // RFC 4861 MIN_DELAY_BETWEEN_RAS
  static constexpr RateLimit kDefaultUnicastLimit{5, 10};

  struct Decision {
    enum class Kind {
      unicast_now,      // send an RA to the solicitor's address now
      multicast_now,    // send an RA to all nodes now
      multicast_later,  // an RA to all nodes is scheduled for `at`: arm a timer, then call due()
      coalesced,        // an RA to all nodes is already scheduled: nothing to do
    };
    Kind kind = Kind::coalesced;
    TimePoint at{};
  };

  explicit RaPacer(RateLimit unicast_limit = kDefaultUnicastLimit, TimePoint now = Clock::now())
      : unicast_(unicast_limit, now) {}

  Decision on_solicitation(bool has_source_address, TimePoint now) {
    if (has_source_address && unicast_.take(now)) return {Decision::Kind::unicast_now, now};
    if (is_scheduled_) return {Decision::Kind::coalesced, scheduled_at_};
    if (!multicast_sent_ || now >= last_multicast_ + kMinDelayBetweenRas) {
      record_multicast(now);
      return {Decision::Kind::multicast_now, now};
    }
    is_scheduled_ = true;
    scheduled_at_ = last_multicast_ + kMinDelayBetweenRas;
    return {Decision::Kind::multicast_later, scheduled_at_};
  }

  // The timer for a multicast_later decision fired: true when the RA to all
  // nodes must be sent now (it is then recorded as sent).
  bool due(TimePoint now) {
    if (!is_scheduled_ || now < scheduled_at_) return false;
    is_scheduled_ = false;
    record_multicast(now);
    return true;
  }

  // An RA to all nodes sent on our own initiative (at start) counts for the gap too.
  void unsolicited_sent(TimePoint now) { record_multicast(now); }

  [[nodiscard]] std::optional<TimePoint> scheduled() const {
    return is_scheduled_ ? std::optional<TimePoint>(scheduled_at_) : std::nullopt;
  }

 private:
  void record_multicast(TimePoint now) {
    multicast_sent_ = true;
    last_multicast_ = now;
  }

  // Flags beside plain time points rather than optionals: GCC 12 warns
  // (maybe-uninitialized) about optional<time_point> comparisons at -O2.
  TokenBucket<Clock> unicast_;
  bool multicast_sent_ = false;
  TimePoint last_multicast_{};
  bool is_scheduled_ = false;
  TimePoint scheduled_at_{};
};

}  // namespace ramfleet::dhcp
