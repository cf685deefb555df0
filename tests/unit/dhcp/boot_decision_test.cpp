#include "dhcp/boot_decision.hpp"

#include <set>

#include "test_support.hpp"

namespace ramfleet::dhcp {
namespace {
using namespace test;

struct Fixture : ::testing::Test {
  Settings s;
  std::set<std::string> files{"undionly.kpxe", "snponly.efi", "ipxe.efi"};
  FileExists exists = [this](std::string_view n) { return files.count(std::string(n)) != 0; };
  Fixture() { s.server_address = ip("10.0.0.1"); }
  BootDecision decide(const ClientPacket& c) { return decide_boot(*decode_request(c.p), s, exists); }
};

TEST_F(Fixture, BiosGetsUndionly) {
  auto d = decide(ClientPacket(MessageType::discover).pxe(0));
  EXPECT_EQ(d.kind, BootDecision::Kind::tftp);
  EXPECT_EQ(d.file, "undionly.kpxe");
  EXPECT_EQ(d.vendor_class, "PXEClient");
}

TEST_F(Fixture, UefiX64GetsSnponlyThenIpxeEfi) {
  for (std::uint16_t a : {6, 7, 9}) {
    auto d = decide(ClientPacket(MessageType::discover).pxe(a));
    EXPECT_EQ(d.kind, BootDecision::Kind::tftp) << a;
    EXPECT_EQ(d.file, "snponly.efi") << a;
  }
  files.erase("snponly.efi");
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).pxe(7)).file, "ipxe.efi");
  files.erase("ipxe.efi");
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).pxe(7)).kind, BootDecision::Kind::none);
}

TEST_F(Fixture, Arm64OnlyWhenPresent) {
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).pxe(11)).kind, BootDecision::Kind::none);
  files.insert("snponly-arm64.efi");
  auto d = decide(ClientPacket(MessageType::discover).pxe(11));
  EXPECT_EQ(d.kind, BootDecision::Kind::tftp);
  EXPECT_EQ(d.file, "snponly-arm64.efi");
  // 32-bit ARM firmware cannot run an arm64 binary.
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).pxe(10)).kind, BootDecision::Kind::none);
}

TEST_F(Fixture, UefiHttpGetsUrlAndEchoedClass) {
  auto d = decide(ClientPacket(MessageType::discover).http(16));
  EXPECT_EQ(d.kind, BootDecision::Kind::http);
  EXPECT_EQ(d.file, "http://10.0.0.1/snponly.efi");
  EXPECT_EQ(d.vendor_class, "HTTPClient");
  s.http_port = 8080;
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).http(16)).file, "http://10.0.0.1:8080/snponly.efi");
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).http(19)).kind, BootDecision::Kind::none);
  files.insert("snponly-arm64.efi");
  EXPECT_EQ(decide(ClientPacket(MessageType::discover).http(19)).file, "http://10.0.0.1:8080/snponly-arm64.efi");
}

TEST_F(Fixture, IpxeGetsTheScriptWhateverItsArch) {
  for (std::uint16_t a : {0, 7, 9, 11}) {
    auto d = decide(ClientPacket(MessageType::discover).pxe(a).ipxe());
    EXPECT_EQ(d.kind, BootDecision::Kind::http);
    EXPECT_EQ(d.file, "http://10.0.0.1/boot.ipxe") << "arch " << a << ": chainload loop not broken";
  }
  // Option 175 alone also marks iPXE.
  ClientPacket c(MessageType::discover);
  c.pxe(0).p.set(option::ipxe_encapsulated, Bytes{0xb1, 1, 1});
  EXPECT_EQ(decide(c).file, "http://10.0.0.1/boot.ipxe");
}

TEST_F(Fixture, CapturedFirmware) {
  auto real = [&](const char* f) {
    auto p = std::get<Packet>(parse(capture(f)));
    return decide_boot(*decode_request(p), s, exists);
  };
  EXPECT_EQ(real("uefi-pxe-discover.hex").file, "snponly.efi");
  EXPECT_EQ(real("bios-ipxe-discover.hex").file, "http://10.0.0.1/boot.ipxe");
  EXPECT_EQ(real("uefi-ipxe-discover.hex").file, "http://10.0.0.1/boot.ipxe");
}

TEST_F(Fixture, NonPxeClientsGetNothing) {
  EXPECT_EQ(decide(ClientPacket(MessageType::discover)).kind, BootDecision::Kind::none);
  ClientPacket c(MessageType::discover);
  c.p.set(option::vendor_class, std::string_view("MSFT 5.0"));
  EXPECT_EQ(decide(c).kind, BootDecision::Kind::none);
}

}  // namespace
}  // namespace ramfleet::dhcp
