#include "tftp/options.hpp"

#include <gtest/gtest.h>

using namespace ramfleet::tftp;

namespace {
Negotiated run(std::vector<Option> options, Settings settings = {}, std::optional<std::uint64_t> size = 1000) {
  return negotiate(options, settings, size);
}
}  // namespace

TEST(TftpOptions, NoOptionsMeansDefaultsAndNoOack) {
  auto n = run({});
  EXPECT_EQ(n.blksize, 512);
  EXPECT_EQ(n.windowsize, 1);
  EXPECT_EQ(n.timeout, Settings{}.retransmit_timeout);
  EXPECT_TRUE(n.accepted.empty());
}

TEST(TftpOptions, AcceptsAllKnownOptionsInClientOrder) {
  auto n = run({{"TSIZE", "0"}, {"blksize", "1468"}, {"windowsize", "16"}, {"timeout", "3"}});
  EXPECT_EQ(n.blksize, 1468);
  EXPECT_EQ(n.windowsize, 16);
  EXPECT_EQ(n.timeout, std::chrono::seconds(3));
  ASSERT_EQ(n.accepted.size(), 4U);
  EXPECT_EQ(n.accepted[0], (Option{"TSIZE", "1000"}));  // the client's spelling, our value
  EXPECT_EQ(n.accepted[1], (Option{"blksize", "1468"}));
  EXPECT_EQ(n.accepted[2], (Option{"windowsize", "16"}));
  EXPECT_EQ(n.accepted[3], (Option{"timeout", "3"}));
}

TEST(TftpOptions, UnknownOptionsAreIgnoredNotEchoed) {
  auto n = run({{"multicast", ""}, {"rollover", "0"}, {"blksize", "1024"}});
  ASSERT_EQ(n.accepted.size(), 1U);
  EXPECT_EQ(n.accepted[0].name, "blksize");
  EXPECT_EQ(n.ignored.size(), 2U);
  EXPECT_TRUE(run({{"multicast", ""}}).accepted.empty());  // nothing accepted: no OACK
}

TEST(TftpOptions, BlksizeBoundsAndClamping) {
  EXPECT_TRUE(run({{"blksize", "7"}}).accepted.empty());
  EXPECT_EQ(run({{"blksize", "8"}}).blksize, 8);
  EXPECT_EQ(run({{"blksize", "65464"}}).blksize, 65464);
  EXPECT_EQ(run({{"blksize", "70000"}}).accepted[0].value, "65464");
  Settings capped;
  capped.max_blksize = 1468;
  auto n = run({{"blksize", "8192"}}, capped);
  EXPECT_EQ(n.blksize, 1468);
  EXPECT_EQ(n.accepted[0].value, "1468");
  EXPECT_TRUE(run({{"blksize", "12x"}}).accepted.empty());
  EXPECT_TRUE(run({{"blksize", "-512"}}).accepted.empty());
  EXPECT_TRUE(run({{"blksize", ""}}).accepted.empty());
  EXPECT_TRUE(run({{"blksize", "99999999999999999999999"}}).accepted.empty());
}

TEST(TftpOptions, TimeoutMustBe1To255AndIsEchoedUnchanged) {
  EXPECT_TRUE(run({{"timeout", "0"}}).accepted.empty());
  EXPECT_TRUE(run({{"timeout", "256"}}).accepted.empty());
  Settings s;
  s.max_timeout = std::chrono::seconds(255);
  auto n = run({{"timeout", "255"}}, s);
  EXPECT_EQ(n.timeout, std::chrono::seconds(255));
  EXPECT_EQ(n.accepted[0].value, "255");
}

TEST(TftpOptions, TimeoutAboveTheCapIsIgnoredNotLowered) {
  // RFC 2349 lets the server echo the client's value or ignore the option:
  // above max_timeout (default 5 s) it is ignored and our default applies.
  auto n = run({{"timeout", "255"}, {"blksize", "1024"}});
  EXPECT_EQ(n.timeout, Settings{}.retransmit_timeout);
  EXPECT_TRUE(n.timeout_over_cap);
  ASSERT_EQ(n.accepted.size(), 1U);
  EXPECT_EQ(n.accepted[0].name, "blksize");
  ASSERT_EQ(n.ignored.size(), 1U);
  EXPECT_EQ(n.ignored[0].name, "timeout");
  auto at_cap = run({{"timeout", "5"}});
  EXPECT_EQ(at_cap.timeout, std::chrono::seconds(5));
  EXPECT_FALSE(at_cap.timeout_over_cap);
  EXPECT_EQ(at_cap.accepted[0].value, "5");
}

TEST(TftpOptions, WindowsizeBoundsAndClamping) {
  EXPECT_TRUE(run({{"windowsize", "0"}}).accepted.empty());
  EXPECT_TRUE(run({{"windowsize", "65536"}}).accepted.empty());
  Settings s;
  s.max_windowsize = 8;
  auto n = run({{"windowsize", "16"}}, s);
  EXPECT_EQ(n.windowsize, 8);
  EXPECT_EQ(n.accepted[0].value, "8");
}

TEST(TftpOptions, WindowMemoryIsBounded) {
  Settings s;
  s.max_window_bytes = 65464 * 4;
  auto n = run({{"blksize", "65464"}, {"windowsize", "64"}}, s);
  EXPECT_EQ(n.windowsize, 4);
  EXPECT_EQ(n.accepted[1], (Option{"windowsize", "4"}));
}

TEST(TftpOptions, TsizeReportsSizeOrIsDroppedWhenUnknown) {
  EXPECT_EQ(run({{"tsize", "0"}}, {}, 30000000).accepted[0].value, "30000000");
  EXPECT_TRUE(run({{"tsize", "0"}}, {}, std::nullopt).accepted.empty());
}

TEST(TftpOptions, DuplicateOptionFirstWins) {
  auto n = run({{"blksize", "1024"}, {"BLKSIZE", "2048"}});
  EXPECT_EQ(n.blksize, 1024);
  EXPECT_EQ(n.accepted.size(), 1U);
}
