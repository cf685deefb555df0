// The dashboard's files (handle_ui) and the live stream's handler, as plain
// functions: the embedded table, content types, ETags, path tricks refused;
// a boot and a node event reaching an open stream.
#include <gtest/gtest.h>

#include "http/reply_stream.hpp"
#include "http/router.hpp"
#include "http/ui_files.hpp"

namespace ramfleet::http {
namespace {

std::string header(const Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "<none>";
}

struct UiHandlerTest : ::testing::Test {
  ServiceState st;
  UiHandlerTest() { st.inventory = std::make_shared<inventory::Inventory>(); }

  Reply get(std::vector<std::string> segs, std::optional<std::string> inm = std::nullopt) {
    Request req;
    req.target = "/ui/...";
    req.if_none_match = std::move(inm);
    return handle_ui(st, req, segs);
  }
};

TEST_F(UiHandlerTest, EveryEmbeddedFileIsServedWithItsType) {
  ASSERT_FALSE(ui_files().empty());
  bool saw_index = false;
  for (const auto& f : ui_files()) {
    std::vector<std::string> segs;
    std::string_view p = f.path;
    for (auto slash = p.find('/'); slash != std::string_view::npos; slash = p.find('/')) {
      segs.emplace_back(p.substr(0, slash));
      p.remove_prefix(slash + 1);
    }
    segs.emplace_back(p);
    auto r = get(segs);
    EXPECT_EQ(r.status, 200) << f.path;
    EXPECT_EQ(r.body, f.bytes) << f.path;
    EXPECT_NE(header(r, "Content-Type"), "application/octet-stream") << f.path;
    if (f.path.ends_with(".js")) {
      EXPECT_EQ(header(r, "Content-Type"), "text/javascript; charset=utf-8");
    }
    saw_index = saw_index || f.path == "index.html";
  }
  EXPECT_TRUE(saw_index);
}

TEST_F(UiHandlerTest, SlashServesTheIndexAndNoSlashRedirects) {
  auto r = get({""});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(header(r, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("js/app.js"), std::string::npos);
  EXPECT_NE(header(r, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  auto redirect = get({});
  EXPECT_EQ(redirect.status, 301);
  EXPECT_EQ(header(redirect, "Location"), "/ui/");
}

TEST_F(UiHandlerTest, MatchingEtagIs304WithoutBody) {
  auto r = get({"index.html"});
  const auto etag = header(r, "ETag");
  ASSERT_EQ(etag.size(), 34U);
  auto again = get({"index.html"}, "W/\"other\", " + etag);
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(header(again, "ETag"), etag);
  EXPECT_EQ(st.counters.get("http.ui.not_modified"), 1U);
}

TEST_F(UiHandlerTest, DotSegmentsEmptySegmentsAndUnknownFilesAreRefused) {
  for (const auto& segs : std::vector<std::vector<std::string>>{{".."},
                                                                {"..", "etc", "passwd"},
                                                                {"js", "..", "index.html"},
                                                                {".", "index.html"},
                                                                {"", "js", "app.js"},
                                                                {"js%2fapp.js"},
                                                                {"js/app.js"},
                                                                {std::string("app.js\0", 7)}}) {
    auto r = get(segs);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << segs.size() << " " << segs[0];
    EXPECT_EQ(header(r, "Content-Type"), "application/json");
  }
  EXPECT_EQ(get({"nope.js"}).status, 404);
  EXPECT_EQ(get({"js", ""}).status, 404);  // a folder: no index of its own
  EXPECT_GE(st.counters.get("http.ui.bad_path"), 6U);
}

struct EventStreamTest : UiHandlerTest {
  Reply open(std::optional<std::string> last_id = std::nullopt) {
    Request req;
    req.target = "/api/v1/events/stream";
    req.last_event_id = std::move(last_id);
    return handle_event_stream(st, req);
  }
};

TEST_F(EventStreamTest, ABootReachesAnOpenStream) {
  auto r = open();
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(r.stream);
  EXPECT_EQ(header(r, "Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_NE(r.stream->take().find("event: hello"), std::string::npos);
  // A boot through the boot layer's hook (ServiceState wires it to the feed).
  st.on_boot(boot::BootRecord{"52:54:00:00:00:07", "{}", "", "", "exit", "no group", 1234});
  const auto bytes = r.stream->take();
  EXPECT_NE(bytes.find("event: boot\ndata: "), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\"machine\":\"52:54:00:00:00:07\""), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("\"discovered\":true"), std::string::npos) << bytes;
  EXPECT_EQ(st.counters.get("http.events.streams"), 1U);
}

TEST_F(EventStreamTest, ABadLastEventIdIs400AndAForeignOneAReset) {
  EXPECT_EQ(open("garbage").status, 400);
  EXPECT_EQ(st.counters.get("http.events.bad_last_event_id"), 1U);
  auto r = open("someotherrun-3");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.stream->take().find("event: reset"), std::string::npos);
  EXPECT_EQ(st.counters.get("http.events.reset"), 1U);
}

TEST_F(EventStreamTest, BeyondTheCapA503IsCounted) {
  std::vector<Reply> open_streams;
  for (std::size_t i = 0; i < st.events.limits().max_subscribers; ++i) {
    open_streams.push_back(open());
    ASSERT_EQ(open_streams.back().status, 200);
  }
  auto refused = open();
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(header(refused, "Retry-After"), "10");
  EXPECT_EQ(st.counters.get("http.events.refused"), 1U);
  open_streams.front().stream->close();  // a client left
  EXPECT_EQ(open().status, 200);
}

}  // namespace
}  // namespace ramfleet::http
