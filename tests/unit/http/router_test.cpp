// The router as a plain function: a Request in, a Reply out, no socket.
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace ramfleet::http {
namespace {

struct RouterTest : ::testing::Test {
  ServiceState st;
  RouterTest() { st.inventory = std::make_shared<inventory::Inventory>(); }

  Reply call(Method m, std::string target) {
    Request req;
    req.method = m;
    req.target = std::move(target);
    req.host = "boot.example";
    return route(st, req);
  }
};

TEST(Method, ParsesTheThreeWeServeCaseSensitively) {
  EXPECT_EQ(parse_method("GET"), Method::get);
  EXPECT_EQ(parse_method("HEAD"), Method::head);
  EXPECT_EQ(parse_method("POST"), Method::post);
  EXPECT_EQ(parse_method("get"), Method::other);
  EXPECT_EQ(parse_method("DELETE"), Method::other);
  EXPECT_EQ(to_string(Method::head), "HEAD");
}

TEST_F(RouterTest, HeadAnswersTheGetHeadWithoutBody) {
  const Reply get = call(Method::get, "/healthz");
  ASSERT_EQ(get.status, 200);
  ASSERT_FALSE(get.body.empty());
  EXPECT_FALSE(get.headers_only);

  const Reply head = call(Method::head, "/healthz");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.headers_only);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.content_length, get.body.size());
  EXPECT_EQ(head.headers, get.headers);
}

TEST_F(RouterTest, HeadOfAnErrorHasNoBodyEither) {
  const Reply head = call(Method::head, "/no/such/thing");
  EXPECT_EQ(head.status, 404);
  EXPECT_TRUE(head.headers_only);
  EXPECT_TRUE(head.body.empty());
  EXPECT_GT(head.content_length, 0u);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  const Reply r = call(Method::post, "/boot.ipxe");
  EXPECT_EQ(r.status, 405);
  bool allow = false;
  for (const auto& [k, v] : r.headers) allow = allow || (k == "Allow" && v == "GET, HEAD");
  EXPECT_TRUE(allow);
  EXPECT_EQ(call(Method::other, "/healthz").status, 405);
}

TEST_F(RouterTest, UnknownPathIs404AndMalformedTargetIs400) {
  EXPECT_EQ(call(Method::get, "/nope").status, 404);
  EXPECT_EQ(call(Method::get, "/assets/%zz").status, 400);
  EXPECT_EQ(st.counters.get("http.error.bad_target"), 1u);
}

TEST(ErrorReply, NonUtf8MessageIsReplacedNotThrown) {
  const Reply r = error_reply(400, std::string("bad value \xff\xfe"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("bad value"), std::string::npos);
}

TEST_F(RouterTest, AssetsWithoutDirectoryAre404) { EXPECT_EQ(call(Method::get, "/assets/vmlinuz").status, 404); }

}  // namespace
}  // namespace ramfleet::http
