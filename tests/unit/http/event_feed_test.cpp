// The live feed's ring, streams and resume rules, without a socket: what a
// stream's queue holds is what the transport would write.
#include "http/event_feed.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ramfleet::http {
namespace {
using json = nlohmann::json;

struct Attached {
  std::shared_ptr<ReplyStream> stream;
  bool reset = false;
};

Attached attach(EventFeed& f, const std::optional<FeedPosition>& from = std::nullopt) {
  auto s = f.make_stream();
  auto r = f.attach(from, s);
  EXPECT_TRUE(std::holds_alternative<EventFeed::Opened>(r));
  return {s, std::holds_alternative<EventFeed::Opened>(r) && std::get<EventFeed::Opened>(r).reset};
}

std::size_t events_in(const std::string& s) {
  std::size_t n = 0;
  for (auto p = s.find("\nevent: "); p != std::string::npos; p = s.find("\nevent: ", p + 1)) ++n;
  return n;
}

TEST(EventFeedTest, FreshStreamGetsHelloWithCurrentIdThenOnlyNewEvents) {
  EventFeed f("e1");
  f.publish("boot", {{"machine", "old"}});
  auto a = attach(f);
  EXPECT_FALSE(a.reset);
  EXPECT_EQ(a.stream->take(), "retry: 3000\n\nid: e1-1\nevent: hello\ndata: {}\n\n");
  f.publish("phase", {{"machine", "m1"}, {"phase", "ready"}});
  EXPECT_EQ(a.stream->take(), "id: e1-2\nevent: phase\ndata: {\"machine\":\"m1\",\"phase\":\"ready\"}\n\n");
  EXPECT_EQ(a.stream->take(), "");
}

TEST(EventFeedTest, PublishWakesTheTransport) {
  EventFeed f("e1");
  auto a = attach(f);
  int woke = 0;
  a.stream->on_ready([&] { ++woke; });
  f.publish("boot", json::object());
  f.publish("boot", json::object());
  EXPECT_EQ(woke, 2);
}

TEST(EventFeedTest, DataIsOneLineEvenWhenAMessageHasNewlines) {
  EventFeed f("e1");
  auto a = attach(f);
  a.stream->take();
  f.publish("phase", {{"message", "line1\nline2\r\ndata: forged"}});
  const auto bytes = a.stream->take();
  // id, event, data, blank: exactly four line breaks, none inside the data.
  EXPECT_EQ(std::count(bytes.begin(), bytes.end(), '\n'), 4);
  EXPECT_NE(bytes.find("line1\\nline2\\r\\ndata: forged"), std::string::npos);
}

TEST(EventFeedTest, InvalidUtf8InDataIsReplacedNotThrown) {
  EventFeed f("e1");
  auto a = attach(f);
  EXPECT_NO_THROW(f.publish("phase", {{"message", std::string("bad \xff byte")}}));
  EXPECT_NE(a.stream->take().find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

TEST(EventFeedTest, ResumeWithLastEventIdReplaysWhatCameAfter) {
  EventFeed f("e1");
  for (int i = 0; i < 5; ++i) f.publish("boot", {{"n", i}});
  auto a = attach(f, FeedPosition{"e1", 3});
  EXPECT_FALSE(a.reset);
  EXPECT_EQ(a.stream->take(),
            "retry: 3000\n\nid: e1-4\nevent: boot\ndata: {\"n\":3}\n\nid: e1-5\nevent: boot\ndata: {\"n\":4}\n\n");
  f.publish("boot", {{"n", 5}});
  EXPECT_EQ(a.stream->take(), "id: e1-6\nevent: boot\ndata: {\"n\":5}\n\n");
}

TEST(EventFeedTest, ResumeAtTheLastIdReplaysNothing) {
  EventFeed f("e1");
  f.publish("boot", json::object());
  auto a = attach(f, FeedPosition{"e1", 1});
  EXPECT_FALSE(a.reset);
  EXPECT_EQ(a.stream->take(), "retry: 3000\n\n");
}

TEST(EventFeedTest, ResumeFromJustBeforeTheOldestHeldLosesNothing) {
  EventFeed f("e1", {.capacity = 3});
  for (int i = 0; i < 5; ++i) f.publish("boot", {{"n", i}});  // ring holds 3..5
  EXPECT_EQ(f.first_seq(), 3U);
  auto a = attach(f, FeedPosition{"e1", 2});
  EXPECT_FALSE(a.reset);
  EXPECT_EQ(events_in(a.stream->take()), 3U);
}

TEST(EventFeedTest, TooFarBehindGetsResetCarryingTheCurrentId) {
  EventFeed f("e1", {.capacity = 3});
  for (int i = 0; i < 5; ++i) f.publish("boot", {{"n", i}});  // 1 and 2 are gone
  auto a = attach(f, FeedPosition{"e1", 1});
  EXPECT_TRUE(a.reset);
  EXPECT_EQ(a.stream->take(),
            "retry: 3000\n\nid: e1-5\nevent: reset\ndata: {\"last_id\":\"e1-5\",\"reason\":\"too far behind\"}\n\n");
  f.publish("boot", {{"n", 6}});
  EXPECT_EQ(a.stream->take(), "id: e1-6\nevent: boot\ndata: {\"n\":6}\n\n");  // from now on
}

TEST(EventFeedTest, ABacklogLargerThanTheQueueIsAResetNotADrop) {
  EventFeed f("e1", {.capacity = 1000, .max_subscribers = 4, .max_queued = 2000});
  for (int i = 0; i < 500; ++i) f.publish("boot", {{"n", i}});  // ~40 bytes each: 20 kB of backlog
  auto a = attach(f, FeedPosition{"e1", 10});
  EXPECT_TRUE(a.reset);
  EXPECT_FALSE(a.stream->closed());
  EXPECT_NE(a.stream->take().find("event: reset"), std::string::npos);
}

TEST(EventFeedTest, AnIdFromAnotherRunOrFromTheFutureIsAReset) {
  EventFeed f("e2");
  f.publish("boot", json::object());
  auto other = attach(f, FeedPosition{"e1", 1});
  EXPECT_TRUE(other.reset);
  EXPECT_NE(other.stream->take().find("server restarted"), std::string::npos);
  auto ahead = attach(f, FeedPosition{"e2", 9});
  EXPECT_TRUE(ahead.reset);
}

TEST(EventFeedTest, AClientThatStopsReadingIsDroppedNotBufferedFor) {
  Counters c;
  EventFeed f("e1", {.capacity = 100, .max_subscribers = 4, .max_queued = 1000}, &c);
  auto slow = attach(f);
  auto fast = attach(f);
  for (int i = 0; i < 100; ++i) {
    f.publish("boot", {{"machine", "52:54:00:00:00:01"}, {"n", i}});
    fast.stream->take();  // this one keeps up
  }
  EXPECT_TRUE(slow.stream->closed());
  EXPECT_TRUE(slow.stream->overflowed());
  EXPECT_FALSE(fast.stream->closed());
  EXPECT_EQ(c.get("http.events.dropped_slow"), 1U);
  EXPECT_EQ(f.subscribers(), 1U);
  // What the dropped stream still holds is bounded by its queue.
  EXPECT_LE(slow.stream->take().size(), 1000U);
}

TEST(EventFeedTest, SubscribersAreCappedAndAClosedStreamFreesItsSlot) {
  EventFeed f("e1", {.capacity = 8, .max_subscribers = 2});
  auto a = attach(f);
  auto b = attach(f);
  EXPECT_EQ(f.subscribers(), 2U);
  auto refused = f.make_stream();
  EXPECT_TRUE(std::holds_alternative<EventFeed::Full>(f.attach(std::nullopt, refused)));
  EXPECT_EQ(refused->take(), "");  // nothing queued on a refused stream
  a.stream->close();               // the transport saw the client leave
  EXPECT_EQ(f.subscribers(), 1U);
  EXPECT_TRUE(std::holds_alternative<EventFeed::Opened>(f.attach(std::nullopt, f.make_stream())));
}

TEST(EventFeedTest, AStreamWhoseClientLeftIsForgottenAtTheNextPublish) {
  EventFeed f("e1");
  auto a = attach(f);
  a.stream->close();
  f.publish("boot", json::object());
  EXPECT_EQ(f.subscribers(), 0U);
}

TEST(EventFeedTest, RingKeepsOnlyCapacityEvents) {
  EventFeed f("e1", {.capacity = 3});
  for (int i = 0; i < 1000; ++i) f.publish("boot", {{"n", i}});
  EXPECT_EQ(f.last_seq(), 1000U);
  EXPECT_EQ(f.first_seq(), 998U);
}

TEST(EventFeedTest, LastEventIdParsing) {
  auto ok = parse_last_event_id("abc123-42");
  ASSERT_TRUE(ok && *ok);
  EXPECT_EQ((*ok)->epoch, "abc123");
  EXPECT_EQ((*ok)->seq, 42U);
  auto empty = parse_last_event_id("");
  ASSERT_TRUE(empty);
  EXPECT_FALSE(*empty);
  for (const char* bad : {"42", "-42", "abc-", "abc-4x", "abc-+4", "a b-1", "abc-99999999999999999999999",
                          "0123456789012345678901234567890123-1", "abc--1"}) {
    EXPECT_FALSE(parse_last_event_id(bad)) << bad;
  }
}

}  // namespace
}  // namespace ramfleet::http
