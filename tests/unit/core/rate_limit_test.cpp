#include "core/rate_limit.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

using namespace ramfleet;
using namespace std::chrono_literals;
using TP = std::chrono::steady_clock::time_point;

namespace {
const TP t0 = TP{} + 1000s;
}

TEST(TokenBucket, TakeLeavingKeepsAReserve) {
  TokenBucket<> b(RateLimit{1, 5}, t0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take_leaving(t0, 2)) << i;
  EXPECT_FALSE(b.take_leaving(t0, 2));  // 2 left: kept
  EXPECT_TRUE(b.take(t0));
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0));
}

TEST(TokenBucket, StartsFullThenLimitsToTheRate) {
  TokenBucket<> b(RateLimit{2, 4}, t0);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(b.take(t0)) << i;
  EXPECT_FALSE(b.take(t0));
  EXPECT_FALSE(b.take(t0 + 400ms));  // 0.8 tokens
  EXPECT_TRUE(b.take(t0 + 500ms));   // 1 token
  EXPECT_FALSE(b.take(t0 + 500ms));
  // Long idle refills to the burst, not beyond.
  int taken = 0;
  for (int i = 0; i < 10; ++i) taken += b.take(t0 + 1h) ? 1 : 0;
  EXPECT_EQ(taken, 4);
}

TEST(TokenBucket, ClockSteppingBackMintsNothing) {
  TokenBucket<> b(RateLimit{1, 1}, t0);
  EXPECT_TRUE(b.take(t0));
  EXPECT_FALSE(b.take(t0 - 10s));
  EXPECT_FALSE(b.take(t0 + 500ms));
  EXPECT_TRUE(b.take(t0 + 1s));
}

TEST(TokenBucket, UnlimitedAlwaysAllows) {
  TokenBucket<> b(RateLimit{0, 0}, t0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(b.take(t0));
}

TEST(KeyedRateLimiter, LimitsEachKeyOnItsOwn) {
  KeyedRateLimiter<std::string> l(RateLimit{1, 2}, 100);
  EXPECT_TRUE(l.allow("a", t0));
  EXPECT_TRUE(l.allow("a", t0));
  EXPECT_FALSE(l.allow("a", t0));
  EXPECT_TRUE(l.allow("b", t0));
  EXPECT_TRUE(l.allow("a", t0 + 1s));
}

TEST(KeyedRateLimiter, TableIsBoundedAndForgetsRefilledKeys) {
  KeyedRateLimiter<int> l(RateLimit{1, 1}, 3);
  EXPECT_EQ(l.take(1, t0), KeyedRateLimiter<int>::Verdict::allowed);
  EXPECT_EQ(l.take(2, t0), KeyedRateLimiter<int>::Verdict::allowed);
  EXPECT_EQ(l.take(3, t0), KeyedRateLimiter<int>::Verdict::allowed);
  // All three are still refilling: a fourth key is refused, memory stays bounded.
  EXPECT_EQ(l.take(4, t0), KeyedRateLimiter<int>::Verdict::table_full);
  EXPECT_EQ(l.size(), 3U);
  // A second later they are full again, hold no state, and make room.
  EXPECT_EQ(l.take(4, t0 + 1s), KeyedRateLimiter<int>::Verdict::allowed);
  EXPECT_EQ(l.size(), 1U);
}

TEST(LogThrottle, LogsOncePerIntervalWithTheHeldBackCount) {
  LogThrottle<> t(10s);
  auto first = t.admit(t0);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, 0U);
  for (int i = 0; i < 99; ++i) EXPECT_FALSE(t.admit(t0 + 1s));
  EXPECT_FALSE(t.admit(t0 + 9999ms));
  EXPECT_EQ(t.suppressed(), 100U);
  auto next = t.admit(t0 + 10s);
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, 100U);
  EXPECT_FALSE(t.admit(t0 + 11s));
}

TEST(KeyedRateLimiter, AFullTableIsSweptAtMostOncePerInterval) {
  KeyedRateLimiter<int> l(RateLimit{10, 1}, 2, 1s);
  EXPECT_TRUE(l.allow(1, t0));
  EXPECT_TRUE(l.allow(2, t0));
  EXPECT_FALSE(l.allow(3, t0));  // swept now: nothing to forget yet
  // 200 ms later both buckets are full again, but the table was swept less
  // than a second ago: new keys wait rather than sweep per packet.
  EXPECT_EQ(l.take(3, t0 + 200ms), KeyedRateLimiter<int>::Verdict::table_full);
  EXPECT_EQ(l.size(), 2U);
  EXPECT_TRUE(l.allow(3, t0 + 1s));
}

TEST(KeyedRateLimiter, EvictingTableForgetsTheQuietestKeyAndNeverRefusesANewOne) {
  using L = KeyedRateLimiter<std::string>;
  L l(RateLimit{1.0 / 60, 1}, 3, WhenFull::evict_least_recent);  // one a minute
  EXPECT_TRUE(l.allow("a", t0));
  EXPECT_TRUE(l.allow("b", t0 + 1s));
  EXPECT_TRUE(l.allow("c", t0 + 2s));
  EXPECT_FALSE(l.allow("a", t0 + 3s));  // "a" is now the most recent, "b" the quietest
  // Nobody has refilled: the table is full, yet the new key is admitted...
  EXPECT_EQ(l.take("d", t0 + 4s), L::Verdict::allowed);
  EXPECT_EQ(l.size(), 3U);
  // ...in place of "b" (a fresh bucket), while "a" and "c" keep their history.
  EXPECT_TRUE(l.allow("b", t0 + 5s));
  EXPECT_FALSE(l.allow("a", t0 + 6s));
  EXPECT_EQ(l.size(), 3U);
}

TEST(KeyedRateLimiter, EvictingTableForgetsRefilledKeysBeforeTheQuietestOne) {
  KeyedRateLimiter<int> l(RateLimit{1, 1}, 2, WhenFull::evict_least_recent);
  EXPECT_TRUE(l.allow(1, t0));             // 1: empty, the quietest from now on
  EXPECT_TRUE(l.allow(2, t0 + 100ms, 0));  // 2: seen last, but its bucket is still full
  EXPECT_TRUE(l.allow(3, t0 + 200ms));     // full table: the refilled 2 goes, not 1
  EXPECT_EQ(l.size(), 2U);
  EXPECT_FALSE(l.allow(1, t0 + 300ms));  // 1 kept its history (0.3 tokens)
}

TEST(KeyedRateLimiter, MemoryStaysBoundedUnderAFloodOfNewKeys) {
  KeyedRateLimiter<std::string> l(RateLimit{1.0 / 60, 1}, 8, WhenFull::evict_least_recent);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(l.allow("10.0." + std::to_string(i), t0 + std::chrono::milliseconds(i)));
  EXPECT_EQ(l.size(), 8U);
}

TEST(KeyedRateLimiter, ANewRateKeepsWhatWasEarnedCappedAtTheNewBurst) {
  KeyedRateLimiter<int> l(RateLimit{1, 5}, 4);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.allow(1, t0));
  EXPECT_FALSE(l.allow(1, t0));
  l.set_limit(RateLimit{10, 2}, t0 + 500ms);  // 0.5 token earned at the old rate
  EXPECT_FALSE(l.allow(1, t0 + 500ms));
  EXPECT_TRUE(l.allow(1, t0 + 550ms));  // + 0.5 at the new rate
  EXPECT_TRUE(l.allow(1, t0 + 1h));
  EXPECT_TRUE(l.allow(1, t0 + 1h));
  EXPECT_FALSE(l.allow(1, t0 + 1h));  // refilled to the new burst of 2, not the old 5
}

TEST(KeyedRateLimiter, ZeroRateDisablesTheLimitAndKeepsNoKeys) {
  KeyedRateLimiter<std::string> l(RateLimit{0, 1}, 16, WhenFull::evict_least_recent);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(l.allow("a", t0));
  EXPECT_EQ(l.size(), 0U);
}
