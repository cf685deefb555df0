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

  Reply op(Method m, std::string target, std::optional<Operator> caller, std::optional<std::string> auth = {}) {
    Request req;
    req.method = m;
    req.target = std::move(target);
    req.host = "127.0.0.1:9443";
    req.caller = std::move(caller);
    req.authorization = std::move(auth);
    return route_operator(st, req);
  }
};

std::string header_of(const Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

const Operator kReader{"ci-dashboard", Scope::read};
const Operator kAdmin{"local-admin", Scope::admin};

TEST(Method, ParsesTheThreeWeServeCaseSensitively) {
  EXPECT_EQ(parse_method("GET"), Method::get);
  EXPECT_EQ(parse_method("HEAD"), Method::head);
  EXPECT_EQ(parse_method("POST"), Method::post);
  EXPECT_EQ(parse_method("PUT"), Method::put);  // the label write
  EXPECT_EQ(to_string(Method::put), "PUT");
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

TEST_F(RouterTest, BootListenerRefusesOperatorRoutesNamingTheOperatorListener) {
  st.operator_listener = "https://127.0.0.1:9443";
  for (const char* t : {"/api/v1/machines", "/api/v1/counters", "/api/v1/machines/m1", "/api/v1/machines/m1/events",
                        "/api/v1/inventory/reload", "/metrics", "/ui/", "/ui/index.html", "/api"}) {
    SCOPED_TRACE(t);
    const Reply r = call(Method::get, t);
    EXPECT_EQ(r.status, 403);
    EXPECT_NE(r.body.find("https://127.0.0.1:9443"), std::string::npos) << r.body;
  }
  EXPECT_EQ(call(Method::post, "/api/v1/inventory/reload").status, 403);
  EXPECT_EQ(st.counters.get("http.error.operator_route_on_boot_listener"), 10u);
}

TEST_F(RouterTest, BootListenerIgnoresACallerItCouldNotHaveAuthenticated) {
  Request req;
  req.target = "/api/v1/machines";
  req.caller = kAdmin;  // never set by the boot transport; even so, no door here
  EXPECT_EQ(route(st, req).status, 403);
}

TEST_F(RouterTest, BootListenerKeepsTheNodeEventPost) {
  // No state directory in this test: the route is reached and says so (503),
  // neither 403 nor 404.
  EXPECT_EQ(call(Method::post, "/api/v1/machines/52:54:00:00:00:01/events").status, 503);
  EXPECT_EQ(call(Method::other, "/api/v1/machines/m1/events").status, 405);
}

TEST_F(RouterTest, OperatorWithoutCallerIs401WithBearerChallenge) {
  for (const char* t : {"/api/v1/machines", "/api/v1/groups", "/api/v1/counters", "/metrics", "/nope", "/%zz"}) {
    SCOPED_TRACE(t);
    const Reply r = op(Method::get, t, std::nullopt);
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(header_of(r, "WWW-Authenticate"), R"(Bearer realm="ramfleet")");
  }
  const Reply bad = op(Method::post, "/api/v1/inventory/reload", std::nullopt, "Bearer nope");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(header_of(bad, "WWW-Authenticate"), R"(Bearer realm="ramfleet", error="invalid_token")");
  EXPECT_EQ(st.counters.get("http.operator.unauthenticated"), 7u);
}

TEST_F(RouterTest, OperatorHealthzNeedsNoCredential) {
  EXPECT_EQ(op(Method::get, "/healthz", std::nullopt).status, 200);
}

TEST_F(RouterTest, OperatorReadsWithAnyScope) {
  for (const auto& who : {kReader, kAdmin}) {
    SCOPED_TRACE(who.name);
    EXPECT_EQ(op(Method::get, "/api/v1/groups", who).status, 200);
    EXPECT_EQ(op(Method::get, "/api/v1/profiles", who).status, 200);
    EXPECT_EQ(op(Method::get, "/api/v1/inventory", who).status, 200);
    EXPECT_EQ(op(Method::get, "/api/v1/counters", who).status, 200);
    EXPECT_EQ(op(Method::get, "/api/v1/machines", who).status, 200);
    const Reply head = op(Method::head, "/api/v1/groups", who);
    EXPECT_EQ(head.status, 200);
    EXPECT_TRUE(head.headers_only);
    EXPECT_EQ(op(Method::get, "/api/v1/nope", who).status, 404);
  }
}

TEST_F(RouterTest, OperatorWritesNeedAdmin) {
  for (const char* t : {"/api/v1/inventory/reload", "/api/v1/machines/m1/events", "/api/v1/groups"}) {
    SCOPED_TRACE(t);
    EXPECT_EQ(op(Method::post, t, kReader).status, 403);
    EXPECT_EQ(op(Method::other, t, kReader).status, 403);
    const int admin = op(Method::post, t, kAdmin).status;
    EXPECT_NE(admin, 401);
    EXPECT_NE(admin, 403);
  }
  EXPECT_EQ(st.counters.get("http.operator.forbidden"), 6u);
  // A read resource written to by an admin: 405, not a silent success.
  EXPECT_EQ(op(Method::post, "/api/v1/groups", kAdmin).status, 405);
}

TEST_F(RouterTest, OperatorWritesRouteByMethodAndRefuseWithoutSideEffects) {
  // A write path with the wrong method: 405 naming the right one.
  const Reply wrong = op(Method::put, "/api/v1/inventory/reload", kAdmin);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(header_of(wrong, "Allow"), "POST");
  EXPECT_EQ(op(Method::post, "/api/v1/machines/52:54:00:00:00:01/labels", kAdmin).status, 405);
  // A reader never reaches them, whatever the method.
  EXPECT_EQ(op(Method::put, "/api/v1/machines/52:54:00:00:00:01/labels", kReader).status, 403);
  // No config directory here: nothing to reload or approve into (and nothing written).
  EXPECT_EQ(op(Method::post, "/api/v1/inventory/reload", kAdmin).status, 409);
  Request req;
  req.method = Method::post;
  req.target = "/api/v1/machines/52:54:00:00:00:01/approve";
  req.caller = kAdmin;
  req.body = R"({"group":"workers","name":"../../etc"})";
  EXPECT_EQ(route_operator(st, req).status, 400);
  req.body = R"({"group":"nosuch","name":"node1"})";
  EXPECT_EQ(route_operator(st, req).status, 422);
  req.body = std::string(20000, ' ');
  EXPECT_EQ(route_operator(st, req).status, 413);
  EXPECT_EQ(st.counters.get("http.write.refused.approve"), 3u);
}

TEST_F(RouterTest, OperatorListenerServesNoNodeRoutes) {
  EXPECT_EQ(op(Method::get, "/boot.ipxe", kAdmin).status, 404);
  EXPECT_EQ(op(Method::get, "/ipxe?mac=52:54:00:00:00:01", kAdmin).status, 404);
  EXPECT_EQ(op(Method::get, "/assets/vmlinuz", kAdmin).status, 404);
}

}  // namespace
}  // namespace ramfleet::http
