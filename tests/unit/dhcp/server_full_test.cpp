#include <unistd.h>

#include "store/sqlite_lease_store.hpp"
#include "test_support.hpp"

namespace ramfleet::dhcp {
namespace {
using namespace test;
using std::chrono::seconds;

Settings full_settings() {
  Settings s;
  s.mode = Mode::full;
  s.server_address = ip("10.0.0.1");
  SubnetSettings local;
  local.subnet = *Ipv4Subnet::parse("10.0.0.0/24");
  local.pools = {{ip("10.0.0.100"), ip("10.0.0.102")}};
  local.router = ip("10.0.0.254");
  local.dns_servers = {ip("10.0.0.53")};
  local.lease_time = seconds{600};
  SubnetSettings remote;
  remote.subnet = *Ipv4Subnet::parse("192.168.5.0/24");
  remote.pools = {{ip("192.168.5.10"), ip("192.168.5.20")}};
  remote.router = ip("192.168.5.1");
  s.subnets = {local, remote};
  s.reservations = {{mac("52:54:00:00:99:99"), ip("10.0.0.42"), "node42"}};
  return s;
}

struct Full : ::testing::Test {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("ramfleet-dhcp-test-" + std::to_string(::getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<store::SqliteLeaseStore> leases = store::SqliteLeaseStore::open(dir);
  Settings settings = full_settings();
  std::unique_ptr<Server> server = std::make_unique<Server>(settings, leases.get(), nullptr);
  std::chrono::system_clock::time_point now{seconds{1'700'000'000}};

  ~Full() override {
    server.reset();
    leases.reset();
    std::filesystem::remove_all(dir);
  }
  void restart() {
    server.reset();
    leases = store::SqliteLeaseStore::open(dir);
    server = std::make_unique<Server>(settings, leases.get(), nullptr);
  }
  std::optional<Reply> send(const ClientPacket& c, Ipv4 from = Ipv4{}) {
    return server->handle(Received{c.bytes(), kServerPort, from, kClientPort, now});
  }
  // DISCOVER + REQUEST; returns the bound address (zero on failure).
  Ipv4 dora(const char* hw, Ipv4 giaddr = Ipv4{}) {
    auto offer = send(ClientPacket(MessageType::discover, hw).giaddr(giaddr));
    if (!offer) return {};
    Ipv4 a = decode(*offer).yiaddr;
    auto ack = send(ClientPacket(MessageType::request, hw).giaddr(giaddr).server_id(ip("10.0.0.1")).requested(a));
    if (!ack || decode(*ack).message_type() != MessageType::ack) return {};
    return decode(*ack).yiaddr;
  }
};

TEST_F(Full, DiscoverOfferRequestAck) {
  auto offer = send(ClientPacket(MessageType::discover).pxe(0));
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  EXPECT_EQ(o.message_type(), MessageType::offer);
  EXPECT_EQ(o.yiaddr, ip("10.0.0.100"));
  EXPECT_EQ(o.file, "undionly.kpxe");
  EXPECT_EQ(u32_option(o, option::subnet_mask), ip("255.255.255.0").value());
  EXPECT_EQ(u32_option(o, option::router), ip("10.0.0.254").value());
  EXPECT_EQ(u32_option(o, option::dns_servers), ip("10.0.0.53").value());
  EXPECT_EQ(u32_option(o, option::lease_time), 600u);
  // No broadcast flag, no ciaddr: unicast to the new address, via an ARP entry for chaddr.
  EXPECT_EQ(offer->to.kind, Destination::Kind::unicast_to_hardware);
  EXPECT_EQ(offer->to.address, ip("10.0.0.100"));
  EXPECT_EQ(offer->to.mac, mac("52:54:00:aa:bb:01"));

  auto ack = send(ClientPacket(MessageType::request).pxe(0).server_id(ip("10.0.0.1")).requested(o.yiaddr).broadcast());
  ASSERT_TRUE(ack);
  Packet a = decode(*ack);
  EXPECT_EQ(a.message_type(), MessageType::ack);
  EXPECT_EQ(a.yiaddr, ip("10.0.0.100"));
  EXPECT_EQ(u32_option(a, option::renewal_time), 300u);
  EXPECT_EQ(u32_option(a, option::rebinding_time), 525u);
  EXPECT_EQ(ack->to.kind, Destination::Kind::broadcast);  // broadcast flag honoured
  // Committed before the ACK left: the store has it.
  auto all = leases->load_all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].address, ip("10.0.0.100"));
  EXPECT_EQ(all[0].state, LeaseState::bound);
  EXPECT_EQ(all[0].expires_at, 1'700'000'600);
}

TEST_F(Full, IpxeClientGetsAddressScriptAndNoPxedhcp) {
  auto offer = send(ClientPacket(MessageType::discover).pxe(0).ipxe());
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  EXPECT_FALSE(o.yiaddr.is_zero());
  EXPECT_EQ(text_option(o, option::bootfile_name), "http://10.0.0.1/boot.ipxe");
  ASSERT_NE(o.find(option::ipxe_encapsulated), nullptr);
}

TEST_F(Full, NonPxeClientGetsAddressWithoutBootInfo) {
  auto offer = send(ClientPacket(MessageType::discover));
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  EXPECT_FALSE(o.yiaddr.is_zero());
  EXPECT_TRUE(o.file.empty());
  EXPECT_EQ(o.find(option::bootfile_name), nullptr);
}

TEST_F(Full, DistinctClientsDistinctAddressesUntilExhausted) {
  EXPECT_EQ(dora("52:54:00:00:00:01"), ip("10.0.0.100"));
  EXPECT_EQ(dora("52:54:00:00:00:02"), ip("10.0.0.101"));
  EXPECT_EQ(dora("52:54:00:00:00:03"), ip("10.0.0.102"));
  EXPECT_FALSE(send(ClientPacket(MessageType::discover, "52:54:00:00:00:04")));
  EXPECT_EQ(server->counters().get("dhcp.drop.pool_exhausted"), 1u);
  // The same client asking again keeps its address.
  EXPECT_EQ(dora("52:54:00:00:00:02"), ip("10.0.0.101"));
}

TEST_F(Full, OfferIsHeldForItsClient) {
  auto a = send(ClientPacket(MessageType::discover, "52:54:00:00:00:01"));
  auto b = send(ClientPacket(MessageType::discover, "52:54:00:00:00:02"));
  ASSERT_TRUE(a && b);
  EXPECT_NE(decode(*a).yiaddr, decode(*b).yiaddr);
  // B may not take A's offered address.
  auto steal = send(
      ClientPacket(MessageType::request, "52:54:00:00:00:02").server_id(ip("10.0.0.1")).requested(decode(*a).yiaddr));
  ASSERT_TRUE(steal);
  EXPECT_EQ(decode(*steal).message_type(), MessageType::nak);
}

TEST_F(Full, LeasesSurviveRestartAndAreNotHandedTwice) {
  Ipv4 a = dora("52:54:00:00:00:01");
  ASSERT_EQ(a, ip("10.0.0.100"));
  restart();
  // Another client does not get it...
  auto other = send(ClientPacket(MessageType::discover, "52:54:00:00:00:02"));
  ASSERT_TRUE(other);
  EXPECT_NE(decode(*other).yiaddr, a);
  auto steal = send(ClientPacket(MessageType::request, "52:54:00:00:00:02").requested(a));  // INIT-REBOOT
  ASSERT_TRUE(steal);
  EXPECT_EQ(decode(*steal).message_type(), MessageType::nak);
  // ...and the owner does.
  EXPECT_EQ(dora("52:54:00:00:00:01"), a);
}

TEST_F(Full, ReservationsWinAndAreKeptFromOthers) {
  auto offer = send(ClientPacket(MessageType::discover, "52:54:00:00:99:99").requested(ip("10.0.0.101")));
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  EXPECT_EQ(o.yiaddr, ip("10.0.0.42"));
  EXPECT_EQ(text_option(o, option::hostname), "node42");
  // Another client asking for the reserved address gets a NAK.
  auto nak = send(ClientPacket(MessageType::request, "52:54:00:00:00:07").requested(ip("10.0.0.42")));
  ASSERT_TRUE(nak);
  EXPECT_EQ(decode(*nak).message_type(), MessageType::nak);
  // The reserved client cannot pick a pool address instead.
  auto wrong = send(ClientPacket(MessageType::request, "52:54:00:00:99:99").requested(ip("10.0.0.100")));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(decode(*wrong).message_type(), MessageType::nak);
  EXPECT_EQ(dora("52:54:00:00:99:99"), ip("10.0.0.42"));
}

TEST_F(Full, RelayedRequestsUseTheRelaySubnetAndGoBackToIt) {
  auto offer = send(ClientPacket(MessageType::discover).giaddr(ip("192.168.5.1")), ip("192.168.5.1"));
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  EXPECT_EQ(o.yiaddr, ip("192.168.5.10"));
  EXPECT_EQ(o.giaddr, ip("192.168.5.1"));
  EXPECT_EQ(u32_option(o, option::router), ip("192.168.5.1").value());
  EXPECT_EQ(offer->to.kind, Destination::Kind::unicast);
  EXPECT_EQ(offer->to.address, ip("192.168.5.1"));
  EXPECT_EQ(offer->to.port, kServerPort);
  EXPECT_EQ(dora("52:54:00:aa:bb:01", ip("192.168.5.1")), ip("192.168.5.10"));
  // A relay on a network we do not serve: nothing.
  EXPECT_FALSE(send(ClientPacket(MessageType::discover).giaddr(ip("172.16.0.1"))));
  EXPECT_EQ(server->counters().get("dhcp.drop.no_subnet_for_relay"), 1u);
}

TEST_F(Full, RelayAgentOptionIsEchoed) {
  ClientPacket c(MessageType::discover);
  c.giaddr(ip("192.168.5.1")).p.set(option::relay_agent_information, Bytes{1, 3, 'e', 't', '0'});
  auto offer = send(c);
  ASSERT_TRUE(offer);
  Packet o = decode(*offer);
  ASSERT_NE(o.find(option::relay_agent_information), nullptr);
  EXPECT_EQ(*o.find(option::relay_agent_information), (Bytes{1, 3, 'e', 't', '0'}));
  EXPECT_EQ(o.options.back().code, option::relay_agent_information);
}

TEST_F(Full, InitRebootWrongNetworkIsNaked) {
  auto r = send(ClientPacket(MessageType::request).requested(ip("172.16.9.9")));
  ASSERT_TRUE(r);
  Packet p = decode(*r);
  EXPECT_EQ(p.message_type(), MessageType::nak);
  EXPECT_TRUE(p.yiaddr.is_zero());
  EXPECT_EQ(r->to.kind, Destination::Kind::broadcast);
}

TEST_F(Full, RenewingAndRebinding) {
  Ipv4 a = dora("52:54:00:aa:bb:01");
  now += seconds{300};
  auto renew = send(ClientPacket(MessageType::request).ciaddr(a), a);
  ASSERT_TRUE(renew);
  EXPECT_EQ(decode(*renew).message_type(), MessageType::ack);
  EXPECT_EQ(renew->to.kind, Destination::Kind::unicast);
  EXPECT_EQ(renew->to.address, a);
  EXPECT_EQ(leases->load_all()[0].expires_at, 1'700'000'900);  // extended from the renewal time
  // Another client claiming the address as its own is refused.
  auto rebind = send(ClientPacket(MessageType::request, "52:54:00:00:00:66").ciaddr(a).broadcast());
  ASSERT_TRUE(rebind);
  EXPECT_EQ(decode(*rebind).message_type(), MessageType::nak);
}

TEST_F(Full, SelectingAnotherServerVoidsOurOffer) {
  auto offer = send(ClientPacket(MessageType::discover));
  ASSERT_TRUE(offer);
  EXPECT_FALSE(send(ClientPacket(MessageType::request).server_id(ip("10.0.0.9")).requested(ip("10.0.0.200"))));
  EXPECT_EQ(server->counters().get("dhcp.drop.other_server"), 1u);
  // The address is free for someone else now.
  auto b = send(ClientPacket(MessageType::discover, "52:54:00:00:00:02").requested(decode(*offer).yiaddr));
  ASSERT_TRUE(b);
  EXPECT_EQ(decode(*b).yiaddr, decode(*offer).yiaddr);
}

TEST_F(Full, DeclineQuarantinesTheAddress) {
  Ipv4 a = dora("52:54:00:aa:bb:01");
  EXPECT_FALSE(send(ClientPacket(MessageType::decline).server_id(ip("10.0.0.1")).requested(a)));
  EXPECT_EQ(server->counters().get("dhcp.declined"), 1u);
  // Neither the decliner nor anyone else gets it while it is quarantined.
  auto again = send(ClientPacket(MessageType::discover));
  ASSERT_TRUE(again);
  EXPECT_NE(decode(*again).yiaddr, a);
  auto other = send(ClientPacket(MessageType::discover, "52:54:00:00:00:02").requested(a));
  ASSERT_TRUE(other);
  EXPECT_NE(decode(*other).yiaddr, a);
  // The quarantine is persisted...
  restart();
  auto after = send(ClientPacket(MessageType::discover, "52:54:00:00:00:03").requested(a));
  ASSERT_TRUE(after);
  EXPECT_NE(decode(*after).yiaddr, a);
  // ...and ends.
  now += settings.decline_hold + seconds{1};
  auto later = send(ClientPacket(MessageType::discover, "52:54:00:00:00:04").requested(a));
  ASSERT_TRUE(later);
  EXPECT_EQ(decode(*later).yiaddr, a);
  // A client cannot decline someone else's lease.
  EXPECT_FALSE(send(ClientPacket(MessageType::decline, "52:54:00:00:00:09").requested(ip("10.0.0.101"))));
  EXPECT_EQ(server->counters().get("dhcp.drop.decline_not_owner"), 1u);
}

TEST_F(Full, ReleaseFreesTheAddress) {
  EXPECT_EQ(dora("52:54:00:00:00:01"), ip("10.0.0.100"));
  EXPECT_EQ(dora("52:54:00:00:00:02"), ip("10.0.0.101"));
  EXPECT_EQ(dora("52:54:00:00:00:03"), ip("10.0.0.102"));
  EXPECT_FALSE(send(ClientPacket(MessageType::release, "52:54:00:00:00:02").ciaddr(ip("10.0.0.101"))));
  EXPECT_EQ(server->counters().get("dhcp.released"), 1u);
  EXPECT_EQ(leases->load_all()[1].state, LeaseState::released);
  EXPECT_EQ(dora("52:54:00:00:00:04"), ip("10.0.0.101"));
  // Releasing someone else's address does nothing.
  EXPECT_FALSE(send(ClientPacket(MessageType::release, "52:54:00:00:00:01").ciaddr(ip("10.0.0.102"))));
  EXPECT_EQ(server->counters().get("dhcp.drop.release_not_owner"), 1u);
}

TEST_F(Full, InformGetsConfigurationButNoLease) {
  auto r = send(ClientPacket(MessageType::inform).pxe(7).ciaddr(ip("10.0.0.33")), ip("10.0.0.33"));
  ASSERT_TRUE(r);
  Packet p = decode(*r);
  EXPECT_EQ(p.message_type(), MessageType::ack);
  EXPECT_TRUE(p.yiaddr.is_zero());
  EXPECT_EQ(p.find(option::lease_time), nullptr);
  EXPECT_EQ(p.file, "snponly.efi");
  EXPECT_EQ(r->to.address, ip("10.0.0.33"));
  EXPECT_TRUE(leases->load_all().empty());
}

TEST_F(Full, ExpiredLeasesAreReused) {
  EXPECT_EQ(dora("52:54:00:00:00:01"), ip("10.0.0.100"));
  EXPECT_EQ(dora("52:54:00:00:00:02"), ip("10.0.0.101"));
  EXPECT_EQ(dora("52:54:00:00:00:03"), ip("10.0.0.102"));
  now += seconds{601};
  EXPECT_NE(dora("52:54:00:00:00:04"), Ipv4{});
}

TEST_F(Full, LeaseHolderIsTheBoundUnexpiredLease) {
  const std::int64_t t = 1'700'000'000;
  EXPECT_FALSE(server->lease_holder(ip("10.0.0.100"), t));
  // An offer holds nothing yet.
  auto offer = send(ClientPacket(MessageType::discover, "52:54:00:00:00:01"));
  ASSERT_TRUE(offer);
  EXPECT_FALSE(server->lease_holder(decode(*offer).yiaddr, t));
  Ipv4 a = dora("52:54:00:00:00:01");
  ASSERT_EQ(a, ip("10.0.0.100"));
  EXPECT_EQ(server->lease_holder(a, t), mac("52:54:00:00:00:01"));
  EXPECT_FALSE(server->lease_holder(ip("10.0.0.101"), t));
  // Expired: nobody holds it.
  EXPECT_FALSE(server->lease_holder(a, t + 600));
  // Released: nobody holds it.
  EXPECT_FALSE(send(ClientPacket(MessageType::release, "52:54:00:00:00:01").ciaddr(a)));
  EXPECT_FALSE(server->lease_holder(a, t));
}

TEST_F(Full, InitRebootFromUnknownMacsIsSilentAndTakesNothing) {
  // RFC 2131 4.3.2: no record of the client, no answer. The pool has 3 addresses.
  for (int i = 0; i < 3; ++i) {
    char hw[18];
    std::snprintf(hw, sizeof hw, "52:54:00:00:66:%02x", i);
    char want[16];
    std::snprintf(want, sizeof want, "10.0.0.%d", 100 + i);
    EXPECT_FALSE(send(ClientPacket(MessageType::request, hw).requested(ip(want)).broadcast())) << hw;
  }
  EXPECT_EQ(server->counters().get("dhcp.drop.init_reboot_unknown_client"), 3U);
  EXPECT_TRUE(leases->load_all().empty());
  EXPECT_EQ(dora("52:54:00:00:00:01"), ip("10.0.0.100"));
  EXPECT_EQ(dora("52:54:00:00:00:02"), ip("10.0.0.101"));
  EXPECT_EQ(dora("52:54:00:00:00:03"), ip("10.0.0.102"));
}

TEST_F(Full, InitRebootOfKnownOrReservedClientsIsAcked) {
  Ipv4 a = dora("52:54:00:aa:bb:01");
  restart();  // the lease is on disk: the rebooted client is known
  auto again = send(ClientPacket(MessageType::request).requested(a));
  ASSERT_TRUE(again);
  EXPECT_EQ(decode(*again).message_type(), MessageType::ack);
  auto reserved = send(ClientPacket(MessageType::request, "52:54:00:00:99:99").requested(ip("10.0.0.42")));
  ASSERT_TRUE(reserved);
  EXPECT_EQ(decode(*reserved).message_type(), MessageType::ack);
  // A stranger asking for a taken address still gets a NAK (nothing given away).
  auto stranger = send(ClientPacket(MessageType::request, "52:54:00:00:66:01").requested(a));
  ASSERT_TRUE(stranger);
  EXPECT_EQ(decode(*stranger).message_type(), MessageType::nak);
}

TEST_F(Full, OneMacIsRateLimited) {
  settings.per_mac_limit = RateLimit{1, 3};
  restart();
  int answered = 0;
  for (int i = 0; i < 10; ++i) answered += send(ClientPacket(MessageType::discover)) ? 1 : 0;
  EXPECT_EQ(answered, 3);
  EXPECT_EQ(server->counters().get("dhcp.drop.rate_limited.mac"), 7U);
  EXPECT_EQ(server->counters().get("dhcp.drop.rate_limited"), 7U);
  // Another MAC is not affected; the noisy one gets a token back a second later.
  EXPECT_TRUE(send(ClientPacket(MessageType::discover, "52:54:00:00:00:02")));
  EXPECT_FALSE(send(ClientPacket(MessageType::discover)));
  now += seconds{1};
  EXPECT_TRUE(send(ClientPacket(MessageType::discover)));
}

TEST_F(Full, ManyMacsMeetTheGlobalLimit) {
  settings.per_mac_limit = RateLimit{0, 0};
  settings.global_limit = RateLimit{2, 4};
  restart();
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    char hw[18];
    std::snprintf(hw, sizeof hw, "52:54:00:00:77:%02x", i);
    answered += send(ClientPacket(MessageType::discover, hw)) ? 1 : 0;
  }
  EXPECT_EQ(answered, 3);  // 4 tokens, 3 addresses: the 4th is pool_exhausted
  EXPECT_EQ(server->counters().get("dhcp.drop.rate_limited.global"), 16U);
  EXPECT_EQ(server->counters().get("dhcp.drop.pool_exhausted"), 1U);
}

// In a storm DISCOVERs stop while a tenth of the global burst is left: the
// REQUESTs of clients already offered an address still get through.
TEST_F(Full, DiscoversLeaveAReserveForRequests) {
  settings.per_mac_limit = RateLimit{0, 0};
  settings.global_limit = RateLimit{0.001, 20};  // a reserve of 2
  restart();
  auto offer = send(ClientPacket(MessageType::discover, "52:54:00:00:99:01"));
  ASSERT_TRUE(offer);
  const Ipv4 offered = decode(*offer).yiaddr;
  int passed = 1;  // later DISCOVERs find the small pool empty, but pass the limit
  for (int i = 2; i <= 25; ++i) {
    char hw[18];
    std::snprintf(hw, sizeof hw, "52:54:00:00:99:%02x", i);
    send(ClientPacket(MessageType::discover, hw));
    if (server->counters().get("dhcp.drop.rate_limited.global") == 0) ++passed;
  }
  EXPECT_EQ(passed, 18);  // 20 tokens, 2 kept back
  auto ack = send(ClientPacket(MessageType::request, "52:54:00:00:99:01").server_id(ip("10.0.0.1")).requested(offered));
  ASSERT_TRUE(ack) << "the REQUEST takes a reserved token";
  EXPECT_EQ(decode(*ack).message_type(), MessageType::ack);
}

TEST_F(Full, MacTableIsBounded) {
  settings.per_mac_limit = RateLimit{1, 1};
  settings.tracked_macs = 2;
  restart();
  EXPECT_TRUE(send(ClientPacket(MessageType::discover, "52:54:00:00:88:01")));
  EXPECT_TRUE(send(ClientPacket(MessageType::discover, "52:54:00:00:88:02")));
  EXPECT_FALSE(send(ClientPacket(MessageType::discover, "52:54:00:00:88:03")));
  EXPECT_EQ(server->counters().get("dhcp.drop.rate_limited.mac_table_full"), 1U);
  now += seconds{1};  // both buckets refilled: forgotten, room again
  EXPECT_TRUE(send(ClientPacket(MessageType::discover, "52:54:00:00:88:03")));
}

}  // namespace
}  // namespace ramfleet::dhcp

// Metrics: how full each pool is, and which replies start a machine's boot.
namespace ramfleet::dhcp {
namespace {
using namespace test;

TEST_F(Full, PoolUsageCountsBoundLeasesAndWhatIsStillFree) {
  const auto unix_now = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  auto usage = server->pool_usage(unix_now);
  ASSERT_EQ(usage.size(), 2u);
  EXPECT_EQ(usage[0].pool.first, ip("10.0.0.100"));
  EXPECT_EQ(usage[0].used, 0u);
  EXPECT_EQ(usage[0].free, 3u);
  EXPECT_EQ(usage[1].free, 11u);
  ASSERT_NE(dora("52:54:00:aa:bb:01"), Ipv4{});
  // An outstanding offer is not free either, but not used.
  auto offer = send(ClientPacket(MessageType::discover, "52:54:00:aa:bb:02"));
  ASSERT_TRUE(offer);
  usage = server->pool_usage(unix_now);
  EXPECT_EQ(usage[0].used, 1u);
  EXPECT_EQ(usage[0].free, 1u);
  // Once the lease has expired, its address is free again.
  usage = server->pool_usage(unix_now + 3600);
  EXPECT_EQ(usage[0].used, 0u);
  EXPECT_EQ(usage[0].free, 3u);
}

TEST_F(Full, AReplyWithBootOptionsSaysSo) {
  auto pxe = send(ClientPacket(MessageType::discover, "52:54:00:aa:bb:03").pxe(0));
  ASSERT_TRUE(pxe);
  EXPECT_TRUE(pxe->boots);
  EXPECT_EQ(pxe->client, mac("52:54:00:aa:bb:03"));
  auto os = send(ClientPacket(MessageType::discover, "52:54:00:aa:bb:04"));  // a booted OS: no PXE
  ASSERT_TRUE(os);
  EXPECT_FALSE(os->boots);
}

}  // namespace
}  // namespace ramfleet::dhcp
