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
#include <iterator>
#include <list>
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
  // Takes one token only if `reserve` tokens remain after it: work of a lower
  // priority stops before the bucket is empty and leaves the rest to what
  // finishes work already begun (DHCP: a DISCOVER leaves a reserve to the
  // REQUESTs that answer OFFERs already made).
  bool take_leaving(TimePoint now, double reserve) {
    if (limit_.unlimited()) return true;
    refill(now);
    if (tokens_ < 1 + reserve) return false;
    tokens_ -= 1;
    return true;
  }
  // A new rate: what was earned at the old one until `now` is kept, capped at the new burst.
  void set_limit(RateLimit limit, TimePoint now) {
    refill(now);
    limit_ = limit;
    tokens_ = std::min(tokens_, capacity());
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

// What a full key table does with a new key, once the buckets that have
// refilled completely (they remember nothing) have been forgotten.
enum class WhenFull {
  // Refuse the new key (Verdict::table_full). For DHCP's per-MAC limit: a
  // flood of spoofed MACs fills the table, and evicting would hand every
  // spoofed key a fresh burst while pushing out the real clients' history;
  // under such a flood the new keys were going to be limited anyway.
  refuse_new,
  // Forget the key seen least recently and admit the new one. For /ipxe's
  // boot tokens per IP: a booting machine is never refused because the table
  // is full. The evicted key is the one least likely to be mid-burst (it has
  // been quiet longest), and at worst it starts again with a full bucket,
  // which is what it would have after waiting `burst / rate` anyway.
  evict_least_recent,
};

// One bucket per key (client MAC, client IP...), holding at most `max_keys`
// buckets so that a flood of new keys cannot grow memory. When the table is
// full, buckets that have refilled completely are forgotten first; if none
// has, `WhenFull` decides. That sweep is O(keys), so a full table is swept at
// most once per `sweep_interval`: a flood of new keys cannot make every
// packet pay for it. Eviction of the least recent key is O(1) (a recency list).
template <typename Key, typename Clock = std::chrono::steady_clock>
class KeyedRateLimiter {
 public:
  using TimePoint = typename Clock::time_point;

  KeyedRateLimiter(RateLimit limit, std::size_t max_keys, WhenFull when_full = WhenFull::refuse_new,
                   typename Clock::duration sweep_interval = std::chrono::seconds(1))
      : limit_(limit),
        max_keys_(std::max<std::size_t>(max_keys, 1)),
        when_full_(when_full),
        sweep_interval_(sweep_interval) {}
  KeyedRateLimiter(RateLimit limit, std::size_t max_keys, typename Clock::duration sweep_interval)
      : KeyedRateLimiter(limit, max_keys, WhenFull::refuse_new, sweep_interval) {}

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
      if (buckets_.size() >= max_keys_) {
        if (when_full_ == WhenFull::refuse_new) return Verdict::table_full;
        buckets_.erase(recency_.front());
        recency_.pop_front();
      }
      recency_.push_back(key);
      it = buckets_.emplace(key, Entry{TokenBucket<Clock>(limit_, now), std::prev(recency_.end())}).first;
    } else {
      recency_.splice(recency_.end(), recency_, it->second.seen);  // now the most recent
    }
    return it->second.bucket.take(now, cost) ? Verdict::allowed : Verdict::limited;
  }
  bool allow(const Key& key, TimePoint now, double cost = 1) { return take(key, now, cost) == Verdict::allowed; }

  // Forgets the buckets that have refilled completely.
  void prune(TimePoint now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      if (it->second.bucket.full_at(now)) {
        recency_.erase(it->second.seen);
        it = buckets_.erase(it);
      } else {
        ++it;
      }
    }
  }
  // A new rate for every key (a settings reload): each bucket keeps what it
  // had earned at the old rate until `now`, capped at the new burst.
  void set_limit(RateLimit limit, TimePoint now) {
    if (limit == limit_) return;
    limit_ = limit;
    for (auto& [key, entry] : buckets_) entry.bucket.set_limit(limit, now);
  }
  [[nodiscard]] std::size_t size() const { return buckets_.size(); }
  [[nodiscard]] const RateLimit& limit() const { return limit_; }

 private:
  struct Entry {
    TokenBucket<Clock> bucket;
    typename std::list<Key>::iterator seen;  // this key's place in recency_
  };

  RateLimit limit_;
  std::size_t max_keys_;
  WhenFull when_full_;
  typename Clock::duration sweep_interval_;
  bool swept_ = false;
  TimePoint last_sweep_{};
  std::map<Key, Entry> buckets_;
  std::list<Key> recency_;  // least recently seen first
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
