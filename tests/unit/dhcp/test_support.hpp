#pragma once
// Helpers shared by the DHCP unit tests: captured fixtures and client packets.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "dhcp/packet.hpp"
#include "dhcp/server.hpp"

namespace ramfleet::dhcp::test {

inline Bytes from_hex(const std::string& text) {
  Bytes out;
  int hi = -1;
  for (char ch : text) {
    int v;
    if (ch >= '0' && ch <= '9')
      v = ch - '0';
    else if (ch >= 'a' && ch <= 'f')
      v = ch - 'a' + 10;
    else if (ch >= 'A' && ch <= 'F')
      v = ch - 'A' + 10;
    else
      continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::uint8_t>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline Bytes capture(const std::string& name) {
  std::ifstream in(std::filesystem::path(RAMFLEET_SOURCE_DIR) / "tests/unit/dhcp/captures" / name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return from_hex(ss.str());
}

inline MacAddress mac(const char* text) { return *MacAddress::parse(text); }
inline Ipv4 ip(const char* text) { return *Ipv4::parse(text); }

// A client packet as firmware would send it.
struct ClientPacket {
  Packet p;
  explicit ClientPacket(MessageType type, const char* hw = "52:54:00:aa:bb:01", std::uint32_t xid = 0x1234) {
    p.op = 1;
    p.xid = xid;
    p.set_mac(mac(hw));
    p.set_u8(option::message_type, static_cast<std::uint8_t>(type));
  }
  ClientPacket& pxe(std::uint16_t arch) {
    char vc[40];
    std::snprintf(vc, sizeof vc, "PXEClient:Arch:%05u:UNDI:002001", arch);
    p.set(option::vendor_class, std::string_view(vc));
    p.set(option::client_arch, Bytes{static_cast<std::uint8_t>(arch >> 8), static_cast<std::uint8_t>(arch)});
    return *this;
  }
  ClientPacket& http(std::uint16_t arch) {
    p.set(option::vendor_class, std::string_view("HTTPClient:Arch:00016:UNDI:003000"));
    p.set(option::client_arch, Bytes{static_cast<std::uint8_t>(arch >> 8), static_cast<std::uint8_t>(arch)});
    return *this;
  }
  ClientPacket& ipxe() {
    p.set(option::user_class, std::string_view("iPXE"));
    return *this;
  }
  ClientPacket& requested(Ipv4 a) {
    p.set_address(option::requested_address, a);
    return *this;
  }
  ClientPacket& server_id(Ipv4 a) {
    p.set_address(option::server_identifier, a);
    return *this;
  }
  ClientPacket& ciaddr(Ipv4 a) {
    p.ciaddr = a;
    return *this;
  }
  ClientPacket& giaddr(Ipv4 a) {
    p.giaddr = a;
    return *this;
  }
  ClientPacket& broadcast() {
    p.flags |= kBroadcastFlag;
    return *this;
  }
  [[nodiscard]] Bytes bytes() const { return serialize(p); }
};

inline Packet decode(const Reply& r) {
  auto parsed = parse(r.payload);
  EXPECT_TRUE(std::holds_alternative<Packet>(parsed));
  return std::get<Packet>(parsed);
}

inline std::string text_option(const Packet& p, std::uint8_t code) {
  const Bytes* b = p.find(code);
  return b ? std::string(as_text(*b)) : std::string();
}

inline std::optional<std::uint32_t> u32_option(const Packet& p, std::uint8_t code) {
  const Bytes* b = p.find(code);
  if (!b || b->size() != 4) return std::nullopt;
  return *ByteReader(*b).u32();
}

}  // namespace ramfleet::dhcp::test
