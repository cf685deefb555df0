#include "test_support.hpp"

namespace ramfleet::dhcp {
namespace {
using namespace test;

struct Proxy : ::testing::Test {
  Settings settings = [] {
    Settings s;
    s.mode = Mode::proxy;
    s.server_address = ip("10.0.0.1");
    return s;
  }();
  Server server{settings, nullptr, [](std::string_view) { return true; }};
  std::chrono::system_clock::time_point now{std::chrono::seconds{1'700'000'000}};

  std::optional<Reply> send(const Bytes& b, std::uint16_t port = kServerPort, Ipv4 from = Ipv4{},
                            std::uint16_t from_port = kClientPort) {
    return server.handle(Received{b, port, from, from_port, now});
  }
};

TEST_F(Proxy, AnswersBiosDiscoverWithBootFileAndNoAddress) {
  auto r = send(ClientPacket(MessageType::discover).pxe(0).bytes());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to.kind, Destination::Kind::broadcast);
  EXPECT_EQ(r->to.port, kClientPort);
  Packet p = decode(*r);
  EXPECT_EQ(p.message_type(), MessageType::offer);
  EXPECT_TRUE(p.yiaddr.is_zero());
  EXPECT_EQ(p.siaddr, ip("10.0.0.1"));
  EXPECT_EQ(p.file, "undionly.kpxe");
  EXPECT_EQ(text_option(p, option::vendor_class), "PXEClient");
  EXPECT_EQ(text_option(p, option::tftp_server_name), "10.0.0.1");
  EXPECT_EQ(u32_option(p, option::server_identifier), ip("10.0.0.1").value());
  EXPECT_EQ(p.find(option::lease_time), nullptr);
  ASSERT_NE(p.find(option::vendor_specific), nullptr);
  EXPECT_EQ(*p.find(option::vendor_specific), (Bytes{6, 1, 8}));
  EXPECT_EQ(p.xid, 0x1234u);
}

TEST_F(Proxy, AnswersRealCapturedFirmware) {
  auto r = send(capture("uefi-pxe-discover.hex"));
  ASSERT_TRUE(r);
  EXPECT_EQ(decode(*r).file, "snponly.efi");
  auto i = send(capture("bios-ipxe-discover.hex"));
  ASSERT_TRUE(i);
  Packet p = decode(*i);
  EXPECT_EQ(text_option(p, option::bootfile_name), "http://10.0.0.1/boot.ipxe");
  // iPXE takes a reply as ProxyDHCP only with option 60 PXEClient, siaddr and a boot file.
  EXPECT_EQ(text_option(p, option::vendor_class), "PXEClient");
  EXPECT_EQ(p.siaddr, ip("10.0.0.1"));
  ASSERT_NE(p.find(option::ipxe_encapsulated), nullptr);
  EXPECT_EQ(*p.find(option::ipxe_encapsulated), (Bytes{176, 1, 1}));  // no-pxedhcp
}

TEST_F(Proxy, IgnoresNonPxeClients) {
  EXPECT_FALSE(send(ClientPacket(MessageType::discover).bytes()));
  EXPECT_EQ(server.counters().get("dhcp.drop.not_pxe_client"), 1u);
}

TEST_F(Proxy, LeavesRequestsOnPort67ToTheAddressServer) {
  // Even one naming our address: a DHCP server on the same host shares it, and
  // an ACK without an address would race its ACK.
  auto other = ClientPacket(MessageType::request).pxe(0).server_id(ip("10.0.0.254")).requested(ip("10.0.0.50"));
  auto same_ip = ClientPacket(MessageType::request).pxe(0).server_id(ip("10.0.0.1")).requested(ip("10.0.0.50"));
  EXPECT_FALSE(send(other.bytes()));
  EXPECT_FALSE(send(same_ip.bytes()));
  EXPECT_EQ(server.counters().get("dhcp.drop.proxy_ignores_type"), 2u);
}

TEST_F(Proxy, BootServerOn4011AcksUnicastToTheClientPort) {
  auto r =
      send(ClientPacket(MessageType::request).pxe(7).ciaddr(ip("10.0.0.77")).bytes(), kPxePort, ip("10.0.0.77"), 4011);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to.kind, Destination::Kind::unicast);
  EXPECT_EQ(r->to.address, ip("10.0.0.77"));
  EXPECT_EQ(r->to.port, 4011);
  Packet p = decode(*r);
  EXPECT_EQ(p.message_type(), MessageType::ack);
  EXPECT_TRUE(p.yiaddr.is_zero());
  EXPECT_EQ(p.file, "snponly.efi");
}

TEST_F(Proxy, NoBootFileNoReply) {
  Server s{settings, nullptr, [](std::string_view) { return false; }};
  EXPECT_FALSE(s.handle(Received{ClientPacket(MessageType::discover).pxe(0).bytes(), kServerPort, {}, 68, now}));
  EXPECT_EQ(s.counters().get("dhcp.drop.no_boot_file"), 1u);
}

TEST_F(Proxy, BadInputIsCountedAndServingGoesOn) {
  EXPECT_FALSE(send(Bytes{1, 2, 3}));
  Bytes cookie = ClientPacket(MessageType::discover).pxe(0).bytes();
  cookie[237] ^= 0xff;
  EXPECT_FALSE(send(cookie));
  Bytes reply = ClientPacket(MessageType::discover).pxe(0).bytes();
  reply[0] = 2;  // a BOOTREPLY sent to the server port
  EXPECT_FALSE(send(reply));
  EXPECT_EQ(server.counters().get("dhcp.drop.too_short"), 1u);
  EXPECT_EQ(server.counters().get("dhcp.drop.bad_magic_cookie"), 1u);
  EXPECT_EQ(server.counters().get("dhcp.drop.not_a_request"), 1u);
  EXPECT_TRUE(send(ClientPacket(MessageType::discover).pxe(0).bytes()));
}

}  // namespace
}  // namespace ramfleet::dhcp
