#include "boot/rate_limit.hpp"

#include <gtest/gtest.h>

namespace ramfleet::boot {
namespace {
using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, BurstThenSustainedRatePerKey) {
  RateLimiter rl(RateLimits{60, 3, 16});  // one a second, three at once
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.allow("10.0.0.1", t0));
  EXPECT_FALSE(rl.allow("10.0.0.1", t0));
  EXPECT_TRUE(rl.allow("10.0.0.2", t0));  // another address has its own bucket
  EXPECT_FALSE(rl.allow("10.0.0.1", t0 + 500ms));
  EXPECT_TRUE(rl.allow("10.0.0.1", t0 + 1100ms));
  EXPECT_FALSE(rl.allow("10.0.0.1", t0 + 1200ms));
  // Refilled to the burst, never beyond.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(rl.allow("10.0.0.1", t0 + 1h));
  EXPECT_FALSE(rl.allow("10.0.0.1", t0 + 1h));
}

TEST(RateLimiter, ZeroRateDisablesTheLimit) {
  RateLimiter rl(RateLimits{0, 1, 16});
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(rl.allow("a", Clock::time_point{}));
  EXPECT_EQ(rl.size(), 0u);
}

TEST(RateLimiter, MemoryIsBoundedByMaxKeys) {
  RateLimiter rl(RateLimits{1, 1, 8});
  const auto t0 = Clock::time_point{} + 1h;
  for (int i = 0; i < 1000; ++i) rl.allow("10.0." + std::to_string(i), t0 + std::chrono::milliseconds(i));
  EXPECT_LE(rl.size(), 8u);
}

}  // namespace
}  // namespace ramfleet::boot
