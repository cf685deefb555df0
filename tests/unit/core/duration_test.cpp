// The one duration grammar: both the unit form ("1h30m") and the bare number
// of the older settings ("3600") must keep reading as they did.
#include "core/duration.hpp"

#include <gtest/gtest.h>

namespace ramfleet {
namespace {

using std::chrono::milliseconds;

long long ms(std::string_view text, BareUnit bare = BareUnit::seconds) {
  auto d = parse_duration(text, bare);
  return d ? d->count() : -1;
}

TEST(Duration, UnitsAndSums) {
  EXPECT_EQ(ms("24h"), 86'400'000);
  EXPECT_EQ(ms("1h30m"), 5'400'000);
  EXPECT_EQ(ms("7d"), 7 * 86'400'000LL);
  EXPECT_EQ(ms("90s"), 90'000);
  EXPECT_EQ(ms("500ms"), 500);
  EXPECT_EQ(ms("2m30s500ms"), 150'500);
  EXPECT_EQ(ms("30m1h"), 5'400'000);  // any order, as before
  EXPECT_EQ(ms("0s"), 0);
}

TEST(Duration, BareNumberCountsInTheFieldsUnit) {
  EXPECT_EQ(ms("3600"), 3'600'000);
  EXPECT_EQ(ms("250", BareUnit::milliseconds), 250);
  EXPECT_EQ(ms("24", BareUnit::rejected), -1);
  EXPECT_EQ(ms("24h", BareUnit::rejected), 86'400'000);
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (auto bad : {"", "h", "1x", "1h30", "-5s", "+5s", "1.5h", "1 h", " 1h", "1h ", "1hm", "ms", "5S", "1e3", "-1"})
    EXPECT_FALSE(parse_duration(bad)) << bad;
  EXPECT_FALSE(parse_duration("1", BareUnit::rejected));
}

TEST(Duration, BoundedToAHundredYears) {
  EXPECT_TRUE(parse_duration("36500d"));
  EXPECT_FALSE(parse_duration("36501d"));
  EXPECT_FALSE(parse_duration("99999999999999999999s"));
  EXPECT_FALSE(parse_duration("99999999999999999999"));
  EXPECT_FALSE(parse_duration("3153600001"));  // seconds, just over
  EXPECT_FALSE(parse_duration("100000000d100000000d"));
}

TEST(Duration, FormatReadsBack) {
  EXPECT_EQ(format_duration(milliseconds(5'400'000)), "1h30m");
  EXPECT_EQ(format_duration(milliseconds(90'061'500)), "1d1h1m1s500ms");
  EXPECT_EQ(format_duration(std::chrono::seconds(86400)), "1d");
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(-5)), "0s");
  for (long long v : {1LL, 999LL, 1000LL, 61'001LL, 7 * 86'400'000LL + 3})
    EXPECT_EQ(parse_duration(format_duration(milliseconds(v)))->count(), v);
}

}  // namespace
}  // namespace ramfleet
