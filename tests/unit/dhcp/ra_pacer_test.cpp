#include "dhcp/ra_pacer.hpp"

#include <gtest/gtest.h>

namespace ramfleet::dhcp {
namespace {
using namespace std::chrono_literals;
using Kind = RaPacer::Decision::Kind;
const RaPacer::TimePoint t0 = RaPacer::TimePoint{} + 1000s;

TEST(RaPacer, UnicastAnswersAtOnceWithinTheBucket) {
  RaPacer p(RateLimit{1, 2}, t0);
  EXPECT_EQ(p.on_solicitation(true, t0).kind, Kind::unicast_now);
  EXPECT_EQ(p.on_solicitation(true, t0).kind, Kind::unicast_now);
  // Over the bucket: folded into a multicast RA.
  EXPECT_EQ(p.on_solicitation(true, t0).kind, Kind::multicast_now);
  EXPECT_EQ(p.on_solicitation(true, t0 + 1s).kind, Kind::unicast_now);
}

TEST(RaPacer, MulticastRasAreAtLeastThreeSecondsApart) {
  RaPacer p(RateLimit{1, 1}, t0);
  EXPECT_EQ(p.on_solicitation(false, t0).kind, Kind::multicast_now);
  auto later = p.on_solicitation(false, t0 + 1s);
  EXPECT_EQ(later.kind, Kind::multicast_later);
  EXPECT_EQ(later.at, t0 + 3s);
  EXPECT_EQ(p.on_solicitation(false, t0 + 2s).kind, Kind::coalesced);
  EXPECT_FALSE(p.due(t0 + 2999ms));
  EXPECT_TRUE(p.due(t0 + 3s));
  EXPECT_FALSE(p.due(t0 + 3s));  // once
  EXPECT_EQ(p.on_solicitation(false, t0 + 4s).kind, Kind::multicast_later);
  EXPECT_TRUE(p.due(t0 + 6s));
  EXPECT_EQ(p.on_solicitation(false, t0 + 9s).kind, Kind::multicast_now);
}

TEST(RaPacer, UnsolicitedRaCountsForTheGap) {
  RaPacer p(RateLimit{1, 1}, t0);
  p.unsolicited_sent(t0);
  EXPECT_EQ(p.on_solicitation(false, t0 + 1s).kind, Kind::multicast_later);
}

TEST(RaPacer, AFloodYieldsABoundedNumberOfRas) {
  RaPacer p(RaPacer::kDefaultUnicastLimit, t0);
  int sent = 0;
  auto now = t0;
  // 10 seconds of 1000 solicitations a second, half from the unspecified address.
  for (int i = 0; i < 10'000; ++i) {
    now = t0 + std::chrono::milliseconds(i);
    if (p.due(now)) ++sent;
    auto d = p.on_solicitation(i % 2 == 0, now);
    if (d.kind == Kind::unicast_now || d.kind == Kind::multicast_now) ++sent;
  }
  // burst 10 + 5/s * 10 s unicast, and one multicast per 3 s (+ the first).
  EXPECT_LE(sent, 10 + 50 + 4 + 1);
  EXPECT_GE(sent, 10);
}

}  // namespace
}  // namespace ramfleet::dhcp
