#include "core/json_nesting.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ramfleet {
namespace {

TEST(JsonNesting, CountsBracketsAndBracesOutsideStrings) {
  EXPECT_EQ(json_nesting_depth(R"("plain")"), 0);
  EXPECT_EQ(json_nesting_depth(R"({"a":[1,2],"b":{"c":[]}})"), 3);
  // Brackets inside strings, escaped quotes included, do not count.
  EXPECT_EQ(json_nesting_depth(R"({"a":"[[[{{\"[[["})"), 1);
  EXPECT_EQ(json_nesting_depth(R"(["\\",[[]]])"), 3);
}

TEST(JsonNesting, RefusesDeepDocumentsWithoutReadingThemWhole) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(json_nests_within(deep, 64));
  EXPECT_EQ(json_nesting_depth(deep, 5), 6);  // stopped as soon as the limit was passed
  EXPECT_TRUE(json_nests_within(R"({"port":7480,"have":[1],"want":[2]})", 2));
  EXPECT_FALSE(json_nests_within(R"({"have":[[1]]})", 2));
}

}  // namespace
}  // namespace ramfleet
