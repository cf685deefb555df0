// File replies paced in a storm (http/pacing.hpp): slots bounded and freed
// with the reply; Retry-After spread from base to 3 x base.
#include "http/pacing.hpp"

#include <gtest/gtest.h>

#include <map>

namespace ramfleet::http {
namespace {

TEST(TransferPacer, HoldsAtMostTheLimitAndFreesWithTheLastCopy) {
  TransferPacer p;
  auto one = p.try_acquire(2);
  auto two = p.try_acquire(2);
  ASSERT_TRUE(one && two);
  EXPECT_EQ(p.try_acquire(2), nullptr);
  EXPECT_EQ(p.in_flight(), 2u);
  auto copy = one;
  one.reset();
  EXPECT_EQ(p.in_flight(), 2u) << "a copy still holds it";
  copy.reset();
  EXPECT_EQ(p.in_flight(), 1u);
  EXPECT_TRUE(p.try_acquire(2));  // a temporary: released at once
  EXPECT_EQ(p.in_flight(), 1u);
  EXPECT_TRUE(p.try_acquire(0)) << "0: no limit";
}

TEST(TransferPacer, ASlotMayOutliveThePacer) {
  TransferSlot slot;
  {
    TransferPacer p;
    slot = p.try_acquire(1);
  }
  slot.reset();  // must not touch freed memory (ASan)
}

TEST(TransferPacer, RetryAfterIsSpreadOverBaseToThreeTimesBase) {
  TransferPacer p;
  std::map<unsigned, int> seen;
  for (int i = 0; i < 1000; ++i) ++seen[p.retry_after_seconds(std::chrono::seconds(2))];
  EXPECT_EQ(seen.begin()->first, 2u);
  EXPECT_EQ(seen.rbegin()->first, 6u);
  EXPECT_EQ(seen.size(), 5u);
  for (const auto& [s, n] : seen) EXPECT_GT(n, 100) << s << " s: the spread is roughly even";
  EXPECT_GE(p.retry_after_seconds(std::chrono::seconds(0)), 1u) << "never 0: iPXE would retry at once";
  EXPECT_EQ(p.paced(), 1001u);
}

}  // namespace
}  // namespace ramfleet::http
