// What a SIGHUP applies live and what it keeps until a restart.
#include "settings/serve_reload.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace ramfleet;
using settings::plan_reload;
using ::testing::ElementsAre;

namespace {
settings::ServeSettings base() {
  auto s = settings::default_serve_settings();
  s.interface = "br0";
  s.listen_address = *Ipv4::parse("10.0.0.1");
  s.dhcp.mode = dhcp::Mode::full;
  return s;
}
}  // namespace

TEST(PlanReload, SameSettingsChangeNothing) {
  auto p = plan_reload(base(), base());
  EXPECT_TRUE(p.applied.empty());
  EXPECT_TRUE(p.needs_restart.empty());
  EXPECT_EQ(p.next.http, base().http);
}

TEST(PlanReload, HttpLimitsBootTokensAndGraceApplyLive) {
  auto r = base();
  r.http.limits.max_connections = 7;
  r.http.boot_token_ttl = std::chrono::minutes(1);
  r.shutdown_grace = std::chrono::seconds(3);
  auto p = plan_reload(base(), r);
  EXPECT_THAT(p.applied, ElementsAre("http.limits", "http.boot_tokens", "shutdown_grace"));
  EXPECT_TRUE(p.needs_restart.empty());
  EXPECT_EQ(p.next.http.limits.max_connections, 7U);
  EXPECT_EQ(p.next.http.boot_token_ttl, std::chrono::minutes(1));
  EXPECT_EQ(p.next.shutdown_grace, std::chrono::seconds(3));
}

TEST(PlanReload, SocketsInterfaceAndDhcpModeAreKeptAndNamed) {
  auto r = base();
  r.interface = "br1";
  r.listen_address = *Ipv4::parse("10.0.0.2");
  r.dhcp.mode = dhcp::Mode::proxy;
  r.http.port = 8080;
  r.tftp.port = 6969;
  r.state_dir = "/elsewhere";
  auto p = plan_reload(base(), r);
  EXPECT_THAT(p.needs_restart,
              ElementsAre("interface", "listen address", "state", "dhcp.mode", "tftp.port", "http.port"));
  EXPECT_TRUE(p.applied.empty());
  EXPECT_EQ(p.next.interface, "br0");
  EXPECT_EQ(p.next.dhcp.mode, dhcp::Mode::full);
  EXPECT_EQ(p.next.http.port, 80);
  EXPECT_EQ(p.next.tftp.port, 69);
  EXPECT_EQ(p.next.state_dir, "/var/lib/ramfleet");
}

TEST(PlanReload, OtherDhcpTftpAndStoreChangesWaitForARestart) {
  auto r = base();
  r.dhcp.per_mac_limit.per_second = 9;
  r.tftp.max_transfers = 3;
  r.store.boot_history = 5;
  auto p = plan_reload(base(), r);
  EXPECT_THAT(p.needs_restart, ElementsAre("dhcp", "tftp", "store"));
  EXPECT_EQ(p.next.dhcp.per_mac_limit.per_second, base().dhcp.per_mac_limit.per_second);
  EXPECT_EQ(p.next.tftp.max_transfers, base().tftp.max_transfers);
}

TEST(PlanReload, LiveAndKeptTogether) {
  auto r = base();
  r.http.limits.idle_timeout = std::chrono::seconds(1);
  r.dhcp.mode = dhcp::Mode::off;
  auto p = plan_reload(base(), r);
  EXPECT_THAT(p.applied, ElementsAre("http.limits"));
  EXPECT_THAT(p.needs_restart, ElementsAre("dhcp.mode"));
  EXPECT_EQ(p.next.http.limits.idle_timeout, std::chrono::seconds(1));
  EXPECT_EQ(p.next.dhcp.mode, dhcp::Mode::full);
}
