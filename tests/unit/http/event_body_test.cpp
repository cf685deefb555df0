// What a node may POST as an event, and the 400 reasons for the rest.
#include "http/event_body.hpp"

#include <gtest/gtest.h>

namespace ramfleet::http {
namespace {

TEST(EventBody, ReadsEveryField) {
  auto r = parse_event_body(R"({"phase":"ready","message":"up","uptime":12.5,"root_bytes":1048576})");
  ASSERT_TRUE(r.event) << r.error;
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(r.event->phase, boot::Phase::ready);
  EXPECT_EQ(r.event->message, "up");
  EXPECT_DOUBLE_EQ(*r.event->uptime, 12.5);
  EXPECT_EQ(*r.event->root_bytes, 1048576);
}

TEST(EventBody, RefusesWhatIsNotAnEvent) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "JSON object"},
      {"[1,2]", "JSON object"},
      {R"({"phase":"ready")", "JSON object"},
      {R"({})", "phase is required"},
      {R"({"phase":"rebooted"})", "phase must be"},
      {R"({"phase":7})", "phase must be"},
      {R"({"phase":"error"})", "needs a message"},
      {R"({"phase":"ready","uptime":-1})", "uptime"},
      {R"({"phase":"ready","uptime":1e400})", "JSON object"},  // nlohmann refuses the overflow
      {R"({"phase":"ready","root_bytes":-5})", "root_bytes"},
      {R"({"phase":"ready","root_bytes":18446744073709551615})", "root_bytes"},
      {R"({"phase":"ready","root_bytes":1.5})", "root_bytes"},
      {R"({"phase":"ready","message":3})", "message"},
      {R"({"phase":"ready","hostname":"cp1"})", "unknown field 'hostname'"},
  };
  for (const auto& [body, reason] : cases) {
    auto r = parse_event_body(body);
    EXPECT_FALSE(r.event) << body;
    EXPECT_NE(r.error.find(reason), std::string::npos) << body << " -> " << r.error;
  }
}

TEST(EventBody, BoundsWhatItEchoes) {
  const std::string long_message(kMaxEventMessage + 1, 'x');
  EXPECT_FALSE(parse_event_body(R"({"phase":"ready","message":")" + long_message + "\"}").event);
  const std::string long_key(10000, 'k');
  auto r = parse_event_body("{\"" + long_key + "\":1}");
  ASSERT_FALSE(r.event);
  EXPECT_LT(r.error.size(), 200U);
}

}  // namespace
}  // namespace ramfleet::http
