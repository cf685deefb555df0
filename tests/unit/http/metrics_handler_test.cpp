// GET /metrics through the operator router: any authenticated caller reads
// it, nobody else does, and the reply is the registry in format 0.0.4 with
// the HTTP service's own counters and gauges.
#include "http/metrics_handler.hpp"

#include <gtest/gtest.h>

#include "http/router.hpp"

namespace ramfleet::http {
namespace {

struct MetricsRoute : ::testing::Test {
  ServiceState st;
  metrics::Registry registry;
  MetricsRoute() {
    st.inventory = std::make_shared<inventory::Inventory>();
    st.metrics = &registry;
    registry.add_collector([this](metrics::Exposition& out) { collect_http_metrics(st, out); });
  }
  Reply op(Method m, std::optional<Operator> caller) {
    Request req;
    req.method = m;
    req.target = "/metrics";
    req.caller = std::move(caller);
    return route_operator(st, req);
  }
};

std::string header_of(const Reply& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

TEST_F(MetricsRoute, AnyScopeReadsIt) {
  st.counters.inc("http.error.not_found", 2);
  st.counters.inc("http.ipxe.cache_hit");
  for (const auto& who : {Operator{"prometheus", Scope::read}, Operator{"local-admin", Scope::admin}}) {
    const Reply r = op(Method::get, who);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header_of(r, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(
        r.body.find("# TYPE ramfleet_http_errors_total counter\nramfleet_http_errors_total{reason=\"not_found\"} 2\n"),
        std::string::npos)
        << r.body;
    EXPECT_NE(r.body.find("ramfleet_http_ipxe_cache_hit_total 1\n"), std::string::npos);
    EXPECT_NE(r.body.find("ramfleet_boot_tokens_outstanding 0\n"), std::string::npos);
    EXPECT_NE(r.body.find("ramfleet_inventory_profiles 0\n"), std::string::npos);
  }
  const Reply head = op(Method::head, Operator{"prometheus", Scope::read});
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.headers_only);
}

TEST_F(MetricsRoute, NobodyElse) {
  EXPECT_EQ(op(Method::get, std::nullopt).status, 401);
  Request boot;
  boot.target = "/metrics";
  EXPECT_EQ(route(st, boot).status, 403);  // the boot listener names the operator listener
}

TEST_F(MetricsRoute, OnlyGet) { EXPECT_EQ(op(Method::post, Operator{"local-admin", Scope::admin}).status, 405); }

}  // namespace
}  // namespace ramfleet::http
