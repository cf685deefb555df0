#pragma once
// Sans-IO rate limiting: token buckets (one, or one per key with a bounded
// number of keys) and a throttle for log lines that would otherwise repeat per
// packet. Nothing here reads a clock: every call is given `now`, so the owner
// decides which clock (steady for the network services) and tests can step it.
// Single-threaded, like Counters: owned by one event loop.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

namespace ramfleet {

// A rate: `per_second` tokens are added each second, up to `burst` tokens held.
// per_second <= 0 means "no limit" (every take succeeds).
struct RateLimit {
  double per_second = 0;
  double burst = 1;
  [[nodiscard]] bool unlimited() const { return per_second <= 0; }
  bool operator==(const RateLimit&) const = default;
};

template <typename Clock = std::chrono::steady_clock>
class TokenBucket {
 public:
  using TimePoint = typename Clock::time_point;

  TokenBucket() = default;
  // Starts full: a client that was quiet may burst at once.
  TokenBucket(RateLimit limit, TimePoint now) : limit_(limit), tokens_(std::max(limit.burst, 1.0)), last_(now) {}

  // Takes `cost` tokens if there are that many; false (and nothing taken) otherwise.
  bool take(TimePoint now, double cost = 1) {
    if (limit_.unlimited()) return true;
    refill(now);
    if (tokens_ < cost) return false;
    tokens_ -= cost;
    return true;
  }
  // True when the bucket would be full at `now`: it then holds no memory of past use.
  [[nodiscard]] bool full_at(TimePoint now) const {
    if (limit_.unlimited()) return true;
    return tokens_ + elapsed_seconds(now) * limit_.per_second >= capacity();
  }

 private:
  [[nodiscard]] double capacity() const { return std::max(limit_.burst, 1.0); }
  [[nodiscard]] double elapsed_seconds(TimePoint now) const {
    if (now <= last_) return 0;  // a clock that steps back never mints tokens
    return std::chrono::duration<double>(now - last_).count();
  }
  void refill(TimePoint now) {
    tokens_ = std::min(capacity(), tokens_ + elapsed_seconds(now) * limit_.per_second);
    if (now > last_) last_ = now;
  }

  RateLimit limit_;
  double tokens_ = 1;
  TimePoint last_{};
};

// One bucket per key (client MAC, client IP...), holding at most `max_keys`
// buckets so that a flood of spoofed keys cannot grow memory. When the table is
// full, buckets that have refilled completely are forgotten (they remember
// nothing); if none has, the new key is refused until one does: under such a
// flood the new keys were going to be limited anyway. That sweep is O(keys),
// so a full table is swept at most once per `sweep_interval`: a flood of new
// keys cannot make every packet pay for it.
template <typename Key, typename Clock = std::chrono::steady_clock>
class KeyedRateLimiter {
 public:
  using TimePoint = typename Clock::time_point;

  KeyedRateLimiter(RateLimit limit, std::size_t max_keys,
                   typename Clock::duration sweep_interval = std::chrono::seconds(1))
      : limit_(limit), max_keys_(std::max<std::size_t>(max_keys, 1)), sweep_interval_(sweep_interval) {}

  enum class Verdict { allowed, limited, table_full };

  Verdict take(const Key& key, TimePoint now, double cost = 1) {
    if (limit_.unlimited()) return Verdict::allowed;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_ && (!swept_ || now >= last_sweep_ + sweep_interval_)) {
        swept_ = true;
        last_sweep_ = now;
        prune(now);
      }
      if (buckets_.size() >= max_keys_) return Verdict::table_full;
      it = buckets_.emplace(key, TokenBucket<Clock>(limit_, now)).first;
    }
    return it->second.take(now, cost) ? Verdict::allowed : Verdict::limited;
  }
  bool allow(const Key& key, TimePoint now, double cost = 1) { return take(key, now, cost) == Verdict::allowed; }

  // Forgets the buckets that have refilled completely.
  void prune(TimePoint now) {
    std::erase_if(buckets_, [&](const auto& entry) { return entry.second.full_at(now); });
  }
  [[nodiscard]] std::size_t size() const { return buckets_.size(); }
  [[nodiscard]] const RateLimit& limit() const { return limit_; }

 private:
  RateLimit limit_;
  std::size_t max_keys_;
  typename Clock::duration sweep_interval_;
  bool swept_ = false;
  TimePoint last_sweep_{};
  std::map<Key, TokenBucket<Clock>> buckets_;
};

// "Log once per interval": for a warning that a flood would repeat per packet
// (pool exhausted, rate limited...). The first occurrence is logged at once;
// the ones within `interval` after a logged one are only counted, and the next
// occurrence after the interval is logged with how many were held back.
//
//   if (auto held_back = throttle.admit(now)) log::warn("x", {{"suppressed", *held_back}});
template <typename Clock = std::chrono::steady_clock>
class LogThrottle {
 public:
  using TimePoint = typename Clock::time_point;
  explicit LogThrottle(typename Clock::duration interval) : interval_(interval) {}

  // nullopt: do not log now. Otherwise: log, mentioning this many occurrences
  // that were not logged since the previous line.
  std::optional<std::uint64_t> admit(TimePoint now) {
    if (logged_once_ && now < last_logged_ + interval_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_logged_ = now;
    return std::exchange(suppressed_, 0);
  }
  [[nodiscard]] std::uint64_t suppressed() const { return suppressed_; }

 private:
  typename Clock::duration interval_;
  bool logged_once_ = false;
  TimePoint last_logged_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace ramfleet
