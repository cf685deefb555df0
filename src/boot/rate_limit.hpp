#pragma once
// Token buckets per key (a requesting IP): at most `burst` at once, refilled
// at `per_minute`. Sans-IO: the caller passes the time, so the limit is
// unit-tested without sleeping. Memory is bounded: at most `max_keys` buckets;
// when full, buckets that have refilled completely are forgotten first (they
// hold no information), else the one touched longest ago. That eviction is
// why this is not core/rate_limit.hpp's KeyedRateLimiter, which refuses new
// keys when full: a booting machine is never refused for a full table here.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ramfleet::boot {

struct RateLimits {
  double per_minute = 12;  // sustained rate; 0 disables the limit
  double burst = 10;       // tokens available at once
  std::size_t max_keys = 4096;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Limits = RateLimits;

  explicit RateLimiter(Limits limits = {}) : limits_(limits) {}

  // Takes one token for `key`; false when its bucket is empty (refused).
  bool allow(std::string_view key, Clock::time_point now);

  void set_limits(const Limits& limits) { limits_ = limits; }
  [[nodiscard]] const Limits& limits() const { return limits_; }
  [[nodiscard]] std::size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point at;  // when `tokens` was computed
  };
  [[nodiscard]] double refilled(const Bucket& b, Clock::time_point now) const;
  void make_room(Clock::time_point now);

  Limits limits_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ramfleet::boot
