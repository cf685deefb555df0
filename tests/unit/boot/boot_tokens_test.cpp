// Boot tokens: single use, expiry, machine binding and a bounded book, with
// an injected clock (plain time points) and, where it helps, random source.
#include "boot/boot_tokens.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ramfleet::boot {
namespace {

using namespace std::chrono_literals;
using Clock = BootTokenBook::Clock;
const Clock::time_point t0{};  // any origin: the book only compares
constexpr auto kTtl = 5min;

TEST(BootTokens, RandomTokensAre128BitHexAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto t = random_boot_token();
    ASSERT_EQ(t.size(), 32u);
    ASSERT_EQ(t.find_first_not_of("0123456789abcdef"), std::string::npos) << t;
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(BootTokens, AcceptedOnceThenReused) {
  BootTokenBook book;
  auto t = book.issue("52:54:00:00:00:01", t0, kTtl).token;
  EXPECT_EQ(book.redeem(t, "52:54:00:00:00:01", t0 + 1s), std::nullopt);
  EXPECT_EQ(book.redeem(t, "52:54:00:00:00:01", t0 + 2s), TokenRefusal::reused);
}

TEST(BootTokens, MissingAndUnknown) {
  BootTokenBook book;
  book.issue("52:54:00:00:00:01", t0, kTtl);
  EXPECT_EQ(book.redeem("", "52:54:00:00:00:01", t0), TokenRefusal::missing);
  EXPECT_EQ(book.redeem("0123456789abcdef0123456789abcdef", "52:54:00:00:00:01", t0), TokenRefusal::unknown);
}

TEST(BootTokens, ExpiresThenIsForgotten) {
  BootTokenBook book;
  auto t = book.issue("m1", t0, kTtl).token;
  EXPECT_EQ(book.redeem(t, "m1", t0 + kTtl), TokenRefusal::expired);  // the lifetime is [issue, issue + ttl)
  EXPECT_EQ(book.redeem(t, "m1", t0 + kTtl + 1min), TokenRefusal::expired);
  // Remembered for a second lifetime only: then it is just unknown, and gone from memory.
  EXPECT_EQ(book.redeem(t, "m1", t0 + 2 * kTtl), TokenRefusal::unknown);
  EXPECT_EQ(book.size(), 0u);
}

TEST(BootTokens, JustBeforeExpiryIsAccepted) {
  BootTokenBook book;
  auto t = book.issue("m1", t0, kTtl).token;
  EXPECT_EQ(book.redeem(t, "m1", t0 + kTtl - 1ms), std::nullopt);
}

TEST(BootTokens, BoundToItsMachine) {
  BootTokenBook book;
  auto mine = book.issue("m1", t0, kTtl).token;
  auto theirs = book.issue("m2", t0, kTtl).token;
  EXPECT_EQ(book.redeem(theirs, "m1", t0), TokenRefusal::other_machine);
  // Trying it elsewhere does not use it up: m2 still gets its config.
  EXPECT_EQ(book.redeem(theirs, "m2", t0), std::nullopt);
  EXPECT_EQ(book.redeem(mine, "m1", t0), std::nullopt);
}

TEST(BootTokens, EachBootHasItsOwnToken) {
  BootTokenBook book;
  auto first = book.issue("m1", t0, kTtl).token;
  auto second = book.issue("m1", t0 + 1s, kTtl).token;
  EXPECT_NE(first, second);
  EXPECT_EQ(book.redeem(second, "m1", t0 + 2s), std::nullopt);
  EXPECT_EQ(book.redeem(first, "m1", t0 + 3s), std::nullopt);  // an earlier boot's token is still its own
}

TEST(BootTokens, FloodKeepsTheBookBounded) {
  BootTokenBook book(100);
  const auto first = book.issue("victim", t0, kTtl).token;
  bool evicted = false;
  for (int i = 0; i < 100000; ++i) {
    evicted = book.issue("flood-" + std::to_string(i), t0 + 1ms * i, kTtl).evicted_live || evicted;
    ASSERT_LE(book.size(), 100u);
  }
  EXPECT_TRUE(evicted);  // reported, so the server can count it
  EXPECT_EQ(book.redeem(first, "victim", t0 + 2min), TokenRefusal::unknown);
}

TEST(BootTokens, ForgottenTokensMakeRoomBeforeLiveOnesAreEvicted) {
  BootTokenBook book(10);
  for (int i = 0; i < 10; ++i) book.issue("old-" + std::to_string(i), t0, kTtl);
  // Two lifetimes later the old ones are forgotten, so nothing live is evicted.
  auto later = t0 + 2 * kTtl;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(book.issue("new-" + std::to_string(i), later, kTtl).evicted_live);
  EXPECT_TRUE(book.issue("one-more", later, kTtl).evicted_live);
}

TEST(BootTokens, UsedAndExpiredTokensAreNotCountedAsLiveEvictions) {
  BootTokenBook book(2);
  auto a = book.issue("a", t0, kTtl).token;
  ASSERT_EQ(book.redeem(a, "a", t0), std::nullopt);
  book.issue("b", t0, 2s);                                    // expired at t0+2s, forgotten at t0+4s
  EXPECT_FALSE(book.issue("c", t0 + 3s, kTtl).evicted_live);  // evicts a (used)
  EXPECT_FALSE(book.issue("d", t0 + 3s, kTtl).evicted_live);  // evicts b (expired)
  EXPECT_TRUE(book.issue("e", t0 + 3s, kTtl).evicted_live);   // evicts c (live)
}

TEST(BootTokens, InjectedRandomThatRepeatsIsRetriedThenRefused) {
  int n = 0;
  BootTokenBook book(16, [&] { return std::string(n++ < 3 ? "same" : "other"); });
  EXPECT_EQ(book.issue("m1", t0, kTtl).token, "same");
  EXPECT_EQ(book.issue("m1", t0, kTtl).token, "other");  // "same" twice more, then a fresh one
  BootTokenBook stuck(16, [] { return std::string("same"); });
  stuck.issue("m1", t0, kTtl);
  EXPECT_THROW(stuck.issue("m1", t0, kTtl), std::runtime_error);
}

TEST(BootTokens, BoundToAddressNodeAndRoleAndCheckedWithoutSpending) {
  BootTokenBook book;
  const BootTokenBook::Binding minted{"52:54:00:00:00:01", "10.0.0.7", "w1", "worker"};
  auto t = book.issue(minted, t0, kTtl).token;
  auto other_address = minted;
  other_address.address = "10.0.0.8";
  EXPECT_EQ(book.check(t, other_address, t0), TokenRefusal::wrong_address);
  auto other_node = minted;
  other_node.node = "cp1";
  EXPECT_EQ(book.check(t, other_node, t0), TokenRefusal::other_machine);
  auto other_role = minted;
  other_role.role = "control-plane";
  EXPECT_EQ(book.check(t, other_role, t0), TokenRefusal::other_machine);
  // Checks use nothing up; spend does.
  EXPECT_EQ(book.check(t, minted, t0 + 1s), std::nullopt);
  EXPECT_EQ(book.check(t, minted, t0 + 2s), std::nullopt);
  book.spend(t);
  EXPECT_EQ(book.check(t, minted, t0 + 3s), TokenRefusal::reused);
  EXPECT_EQ(std::string(to_string(TokenRefusal::wrong_address)), "wrong_address");
}

}  // namespace
}  // namespace ramfleet::boot
