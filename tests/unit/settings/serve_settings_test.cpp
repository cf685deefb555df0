#include "settings/serve_settings.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace ramfleet;
namespace fs = std::filesystem;

namespace {
class ServeFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ramfleet-settings-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(dir_ / "ramfleet.yaml") << text; }
  fs::path dir_;
};
}  // namespace

TEST_F(ServeFile, AbsentFileKeepsDefaults) {
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(s.dhcp.mode, dhcp::Mode::proxy);
  ASSERT_EQ(s.tftp.roots.size(), 1u);
  EXPECT_EQ(s.tftp.roots[0], "/usr/lib/ipxe");
}

TEST_F(ServeFile, ReadsFullModeSubnetsAndReservations) {
  write(R"(interface: br0
dhcp:
  mode: full
  subnets:
    - subnet: 10.9.0.0/24
      pools: [10.9.0.100-10.9.0.150]
      router: 10.9.0.1
      dns: [10.9.0.1, 10.9.0.2]
      lease_time: 2h
  reservations:
    - mac: 52:54:00:00:00:01
      ip: 10.9.0.10
      hostname: node1
tftp:
  roots: [assets, /srv/tftp]
http:
  port: 8080
)");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_TRUE(d.empty()) << d[0].str();
  EXPECT_EQ(s.interface, "br0");
  EXPECT_EQ(s.dhcp.mode, dhcp::Mode::full);
  ASSERT_EQ(s.dhcp.subnets.size(), 1u);
  EXPECT_EQ(s.dhcp.subnets[0].subnet.str(), "10.9.0.0/24");
  ASSERT_EQ(s.dhcp.subnets[0].pools.size(), 1u);
  EXPECT_EQ(s.dhcp.subnets[0].pools[0].last.str(), "10.9.0.150");
  EXPECT_EQ(s.dhcp.subnets[0].lease_time, std::chrono::hours(2));
  EXPECT_EQ(s.dhcp.subnets[0].dns_servers.size(), 2u);
  ASSERT_EQ(s.dhcp.reservations.size(), 1u);
  EXPECT_EQ(s.dhcp.reservations[0].hostname, "node1");
  ASSERT_EQ(s.tftp.roots.size(), 2u);
  EXPECT_EQ(s.tftp.roots[0], dir_ / "assets");  // relative to the config dir
  EXPECT_EQ(s.http.port, 8080);
}

TEST_F(ServeFile, ReadsDhcpAndTftpLimits) {
  write(R"(dhcp:
  limits:
    per_mac_rate: 3
    per_mac_burst: 7
    global_rate: 0
    global_burst: 50
    tracked_macs: 100
    warn_interval: 1m
tftp:
  max_transfers_per_client: 2
  max_timeout: 3s
  max_transfer_time: 10m
)");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_TRUE(d.empty()) << d[0].str();
  EXPECT_EQ(s.dhcp.per_mac_limit, (RateLimit{3, 7}));
  EXPECT_TRUE(s.dhcp.global_limit.unlimited());
  EXPECT_EQ(s.dhcp.tracked_macs, 100U);
  EXPECT_EQ(s.dhcp.warn_interval, std::chrono::minutes(1));
  EXPECT_EQ(s.tftp.max_transfers_per_client, 2U);
  EXPECT_EQ(s.tftp.max_timeout, std::chrono::seconds(3));
  EXPECT_EQ(s.tftp.max_transfer_time, std::chrono::minutes(10));

  write("tftp:\n  max_timeout: 300s\n");
  Diagnostics bad;
  auto before = s;
  settings::apply_serve_file(dir_, s, bad);
  ASSERT_EQ(bad.size(), 1U);
  EXPECT_EQ(s.tftp.max_timeout, before.tftp.max_timeout);
}

TEST_F(ServeFile, LimitDefaultsAreOn) {
  auto s = settings::default_serve_settings();
  EXPECT_FALSE(s.dhcp.per_mac_limit.unlimited());
  EXPECT_FALSE(s.dhcp.global_limit.unlimited());
  EXPECT_EQ(s.tftp.max_timeout, std::chrono::seconds(5));
  EXPECT_EQ(s.tftp.max_transfers_per_client, 8U);
}

TEST_F(ServeFile, ErrorsNameLineAndColumnAndChangeNothing) {
  write(R"(dhcp:
  mode: full
  subnets:
    - subnet: 10.9.0.0/24
      pools: [10.8.0.1-10.8.0.9]
      bogus: 1
tftp:
  port: 70000
)");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_EQ(d.size(), 3u);
  const auto file = (dir_ / "ramfleet.yaml").string();
  EXPECT_EQ(d[0].str(), file +
                            ":6:7: error: unknown key 'bogus' in dhcp subnet (expected one of: subnet, pools, "
                            "router, dns, domain, lease_time)");
  EXPECT_EQ(d[1].str(), file + ":5:15: error: pool 10.8.0.1-10.8.0.9 is not inside subnet 10.9.0.0/24");
  EXPECT_EQ(d[2].str(), file + ":8:9: error: tftp.port must be between 1 and 65535");
  EXPECT_EQ(s.dhcp.mode, dhcp::Mode::proxy) << "a file with errors must not be half-applied";
}

TEST_F(ServeFile, SyntaxErrorIsReportedWithPosition) {
  write("dhcp:\n  mode: [full\n");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_EQ(d.size(), 1u);
  // at the '[' never closed, not at 3:1 where yaml-cpp ran out of text
  EXPECT_EQ(d[0].line, 2u);
  EXPECT_EQ(d[0].column, 9u);
  EXPECT_TRUE(d[0].is_error());
}

TEST_F(ServeFile, LeaseTimeReadsBothDurationForms) {
  // Bare seconds (the files written so far) and the unit form of core/duration.hpp.
  for (auto [text, seconds] : {std::pair{"3600", 3600}, {"90s", 90}, {"12h", 43200}, {"1h30m", 5400}}) {
    write(std::string("dhcp:\n  subnets:\n    - subnet: 10.9.0.0/24\n      lease_time: ") + text + "\n");
    auto s = settings::default_serve_settings();
    Diagnostics d;
    settings::apply_serve_file(dir_, s, d);
    ASSERT_TRUE(d.empty()) << text << ": " << d[0].str();
    ASSERT_EQ(s.dhcp.subnets.size(), 1u);
    EXPECT_EQ(s.dhcp.subnets[0].lease_time, std::chrono::seconds(seconds)) << text;
  }
  for (auto text : {"0", "1500ms", "1h30", "-5m", "soon"}) {
    write(std::string("dhcp:\n  subnets:\n    - subnet: 10.9.0.0/24\n      lease_time: ") + text + "\n");
    auto s = settings::default_serve_settings();
    Diagnostics d;
    settings::apply_serve_file(dir_, s, d);
    ASSERT_EQ(d.size(), 1u) << text;
    EXPECT_EQ(d[0].line, 4u);
    EXPECT_NE(d[0].message.find("lease_time must be a positive duration"), std::string::npos) << d[0].message;
  }
}

TEST(AddressRange, ParsesAndRejects) {
  auto r = settings::parse_address_range("10.0.0.5-10.0.0.9");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->contains(*Ipv4::parse("10.0.0.7")));
  EXPECT_FALSE(r->contains(*Ipv4::parse("10.0.0.10")));
  EXPECT_FALSE(settings::parse_address_range("10.0.0.9-10.0.0.5"));
  EXPECT_FALSE(settings::parse_address_range("10.0.0.9"));
}

TEST_F(ServeFile, ReadsShutdownGrace) {
  write("shutdown_grace: 2500ms\n");
  auto s = settings::default_serve_settings();
  EXPECT_EQ(s.shutdown_grace, std::chrono::seconds(10));
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(s.shutdown_grace, std::chrono::milliseconds(2500));
}

TEST_F(ServeFile, RefusesABadShutdownGraceWithItsPlace) {
  write("shutdown_grace: soon\n");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_TRUE(has_errors(d));
  EXPECT_NE(d[0].str().find("ramfleet.yaml:1:17"), std::string::npos) << d[0].str();
}

TEST_F(ServeFile, ApiDefaultsToLoopback9443) {
  auto s = settings::default_serve_settings();
  EXPECT_TRUE(s.api.enabled);
  EXPECT_EQ(s.api.listen.address, "127.0.0.1");
  EXPECT_EQ(s.api.listen.port, 9443);
  EXPECT_TRUE(s.api.tls_cert.empty());
}

TEST_F(ServeFile, ReadsTheApiSection) {
  write(R"(api:
  listen: 10.0.0.1:8443
  tls_cert: api.crt
  tls_key: /etc/ramfleet/api.key
  client_ca: ops-ca.pem
  max_connections: 8
  max_connections_per_ip: 2
)");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_TRUE(d.empty()) << d[0].str();
  EXPECT_EQ(s.api.listen.address, "10.0.0.1");
  EXPECT_EQ(s.api.listen.port, 8443);
  EXPECT_EQ(s.api.tls_cert, dir_ / "api.crt");
  EXPECT_EQ(s.api.tls_key, "/etc/ramfleet/api.key");
  EXPECT_EQ(s.api.client_ca, dir_ / "ops-ca.pem");
  EXPECT_EQ(s.api.limits.max_connections, 8u);
  EXPECT_EQ(s.api.limits.max_connections_per_ip, 2u);
}

TEST_F(ServeFile, ApiOffAndBadValuesNameTheLine) {
  write("api:\n  listen: off\n");
  auto s = settings::default_serve_settings();
  Diagnostics d;
  settings::apply_serve_file(dir_, s, d);
  ASSERT_TRUE(d.empty());
  EXPECT_FALSE(s.api.enabled);

  for (const char* bad : {"api:\n  listen: 127.0.0.1\n", "api:\n  listen: host:9443\n", "api:\n  listen: 1.2.3.4:0\n",
                          "api:\n  tls_cert: a.crt\n", "api:\n  bogus: 1\n"}) {
    SCOPED_TRACE(bad);
    write(bad);
    auto t = settings::default_serve_settings();
    Diagnostics e;
    settings::apply_serve_file(dir_, t, e);
    ASSERT_FALSE(e.empty());
    EXPECT_GE(e[0].line, 1u);
    EXPECT_TRUE(t.api.enabled) << "nothing half-read is used";
  }
}

TEST(ApiListen, ParsesAddressAndPort) {
  auto l = http::parse_api_listen("127.0.0.1:9443");
  ASSERT_TRUE(l);
  EXPECT_EQ(l->address, "127.0.0.1");
  EXPECT_EQ(l->port, 9443);
  EXPECT_FALSE(http::parse_api_listen("127.0.0.1"));
  EXPECT_FALSE(http::parse_api_listen("127.0.0.1:65536"));
  EXPECT_FALSE(http::parse_api_listen("::1:9443"));
  EXPECT_FALSE(http::parse_api_listen("off"));
}
