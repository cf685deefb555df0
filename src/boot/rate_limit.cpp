#include "boot/rate_limit.hpp"

#include <algorithm>

namespace ramfleet::boot {

double RateLimiter::refilled(const Bucket& b, Clock::time_point now) const {
  const double minutes = std::chrono::duration<double, std::ratio<60>>(now - b.at).count();
  return std::min(limits_.burst, b.tokens + std::max(0.0, minutes) * limits_.per_minute);
}

void RateLimiter::make_room(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& kv) { return refilled(kv.second, now) >= limits_.burst; });
  if (buckets_.size() < std::max<std::size_t>(limits_.max_keys, 1)) return;
  auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                 [](const auto& a, const auto& b) { return a.second.at < b.second.at; });
  buckets_.erase(oldest);
}

bool RateLimiter::allow(std::string_view key, Clock::time_point now) {
  if (limits_.per_minute <= 0) return true;
  auto it = buckets_.find(std::string(key));
  if (it == buckets_.end()) {
    if (buckets_.size() >= std::max<std::size_t>(limits_.max_keys, 1)) make_room(now);
    it = buckets_.emplace(std::string(key), Bucket{limits_.burst, now}).first;
  }
  Bucket& b = it->second;
  b.tokens = refilled(b, now);
  b.at = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace ramfleet::boot
