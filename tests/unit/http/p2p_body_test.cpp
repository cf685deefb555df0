// The p2p tracker's request body: what a node may send, and every malformed
// body refused with a reason.
#include "http/p2p_body.hpp"

#include <gtest/gtest.h>

namespace ramfleet::http {
namespace {

TEST(P2pBody, ReadsPortHaveAndWant) {
  const auto r = parse_p2p_body(R"({"port":7480,"have":[0,5],"want":[1,2,3]})");
  ASSERT_TRUE(r.announce) << r.error;
  EXPECT_EQ(r.announce->port, 7480);
  EXPECT_EQ(r.announce->have, (std::vector<std::uint32_t>{0, 5}));
  EXPECT_EQ(r.announce->want, (std::vector<std::uint32_t>{1, 2, 3}));
  const auto bare = parse_p2p_body(R"({"port":1})");
  ASSERT_TRUE(bare.announce);
  EXPECT_TRUE(bare.announce->have.empty());
}

TEST(P2pBody, RefusesMalformedBodies) {
  for (const std::string bad :
       {"", "null", "[]", "{", R"({"have":[1]})", R"({"port":0})", R"({"port":65536})", R"({"port":"7480"})",
        R"({"port":-1})", R"({"port":7480,"have":5})", R"({"port":7480,"have":[-1]})", R"({"port":7480,"want":[1.5]})",
        R"({"port":7480,"want":[65536]})", R"({"port":7480,"want":[[1]]})", R"({"port":7480,"addr":"10.0.0.1"})",
        R"({"port":7480,"have":["1"]})"}) {
    SCOPED_TRACE(bad);
    const auto r = parse_p2p_body(bad);
    EXPECT_FALSE(r.announce);
    EXPECT_FALSE(r.error.empty());
  }
  EXPECT_FALSE(parse_p2p_body(std::string(5000, '[')).announce);
}

}  // namespace
}  // namespace ramfleet::http
