// Request-time labels: a fixed set, whatever path a client sends.
#include "http/route_label.hpp"

#include <gtest/gtest.h>

namespace ramfleet::http {
namespace {

TEST(RouteLabel, NamesTheRouteNotThePath) {
  EXPECT_EQ(route_label(Method::get, "/boot.ipxe"), RouteLabel::boot_ipxe);
  EXPECT_EQ(route_label(Method::get, "/ipxe?mac=52:54:00:00:00:01"), RouteLabel::ipxe);
  EXPECT_EQ(route_label(Method::get, "/ignition/mac=52:54:00:00:00:01"), RouteLabel::config);
  EXPECT_EQ(route_label(Method::get, "/cloud-config?mac=x"), RouteLabel::config);
  EXPECT_EQ(route_label(Method::head, "/assets/vmlinuz"), RouteLabel::assets);
  EXPECT_EQ(route_label(Method::get, "/etcd/snapshot/abc"), RouteLabel::etcd);
  EXPECT_EQ(route_label(Method::get, "/healthz"), RouteLabel::healthz);
  EXPECT_EQ(route_label(Method::post, "/api/v1/machines/52:54:00:00:00:01/events"), RouteLabel::events);
  EXPECT_EQ(route_label(Method::get, "/api/v1/machines/52:54:00:00:00:01/events"), RouteLabel::api);
  EXPECT_EQ(route_label(Method::get, "/metrics"), RouteLabel::metrics);
  EXPECT_EQ(route_label(Method::get, "/ui/index.html"), RouteLabel::ui);
  for (auto odd : {"/", "", "*", "/x/../etc/passwd", "/ipxe2", "/%2e%2e", "/metricsx", "?/ipxe"})
    EXPECT_EQ(route_label(Method::get, odd), RouteLabel::other) << odd;
  EXPECT_EQ(to_string(RouteLabel::boot_ipxe), "boot_ipxe");
  EXPECT_EQ(to_string(RouteLabel::other), "other");
}

}  // namespace
}  // namespace ramfleet::http
