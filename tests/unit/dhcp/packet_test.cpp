#include "dhcp/packet.hpp"

#include "dhcp/client_request.hpp"
#include "test_support.hpp"

namespace ramfleet::dhcp {
namespace {
using namespace test;

Packet parsed(const Bytes& wire) {
  auto r = parse(wire);
  if (auto* e = std::get_if<ParseError>(&r)) ADD_FAILURE() << "parse failed: " << name(*e);
  return std::holds_alternative<Packet>(r) ? std::get<Packet>(r) : Packet{};
}

ParseError error_of(const Bytes& wire) {
  auto r = parse(wire);
  EXPECT_TRUE(std::holds_alternative<ParseError>(r));
  return std::holds_alternative<ParseError>(r) ? std::get<ParseError>(r) : ParseError::too_short;
}

// --- real captured firmware packets -----------------------------------------

TEST(CapturedPackets, SeaBiosIpxeRomDiscover) {
  Bytes wire = capture("bios-ipxe-discover.hex");
  ASSERT_EQ(wire.size(), 400u);
  Packet p = parsed(wire);
  EXPECT_EQ(p.op, 1);
  EXPECT_EQ(p.mac().str(), "52:54:00:00:00:01");
  EXPECT_EQ(p.message_type(), MessageType::discover);
  auto c = decode_request(p);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->arch, 0);
  EXPECT_EQ(c->vendor_class, "PXEClient:Arch:00000:UNDI:002001");
  EXPECT_TRUE(c->is_pxe());
  ASSERT_EQ(c->user_classes.size(), 1u);  // iPXE's raw option 77, not RFC 3004
  EXPECT_EQ(c->user_classes[0], "iPXE");
  EXPECT_TRUE(c->has_ipxe_options);
  EXPECT_TRUE(c->is_ipxe());
  EXPECT_EQ(c->client_id, (Bytes{1, 0x52, 0x54, 0, 0, 0, 1}));
  EXPECT_EQ(c->uuid.size(), 16u);
  ASSERT_NE(p.find(option::client_ndi), nullptr);
  EXPECT_EQ(*p.find(option::client_ndi), (Bytes{1, 2, 1}));
  // 175 is a list of iPXE feature sub-options; it must parse as such.
  auto subs = parse_suboptions(*p.find(option::ipxe_encapsulated));
  ASSERT_TRUE(subs);
  EXPECT_FALSE(subs->empty());
  // Byte-exact round trip: same options, same order, same padding.
  EXPECT_EQ(serialize(p, wire.size()), wire);
}

TEST(CapturedPackets, OvmfOwnPxeDiscover) {
  Bytes wire = capture("uefi-pxe-discover.hex");
  Packet p = parsed(wire);
  EXPECT_EQ(p.mac().str(), "52:54:00:00:00:02");
  auto c = decode_request(p);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->arch, 7);
  EXPECT_EQ(c->vendor_class, "PXEClient:Arch:00007:UNDI:003000");
  EXPECT_TRUE(c->user_classes.empty());
  EXPECT_FALSE(c->is_ipxe());
  EXPECT_EQ(c->max_message_size, 1472);
  EXPECT_FALSE(c->parameter_request_list.empty());
  EXPECT_EQ(serialize(p, wire.size()), wire);
}

TEST(CapturedPackets, OvmfIpxeRomDiscover) {
  Bytes wire = capture("uefi-ipxe-discover.hex");
  Packet p = parsed(wire);
  auto c = decode_request(p);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->arch, 7);
  EXPECT_TRUE(c->is_ipxe());
  EXPECT_EQ(serialize(p, wire.size()), wire);
}

// --- codec ----------------------------------------------------------------------

TEST(Codec, RoundTripOfEveryField) {
  Packet p;
  p.op = 2;
  p.hops = 3;
  p.xid = 0xdeadbeef;
  p.secs = 7;
  p.flags = kBroadcastFlag;
  p.ciaddr = ip("10.0.0.1");
  p.yiaddr = ip("10.0.0.2");
  p.siaddr = ip("10.0.0.3");
  p.giaddr = ip("10.0.0.4");
  p.set_mac(mac("01:02:03:04:05:06"));
  p.sname = "server";
  p.file = "undionly.kpxe";
  p.set_u8(option::message_type, 2);
  p.set(option::bootfile_name, std::string_view("http://10.0.0.3/boot.ipxe"));
  p.set(option::relay_agent_information, Bytes{1, 2, 'a', 'b'});
  Bytes wire = serialize(p);
  EXPECT_EQ(wire.size(), 300u);  // padded to the BOOTP minimum
  EXPECT_EQ(parsed(wire), p);
}

TEST(Codec, LongOptionsAreSplitAndJoined) {
  Packet p;
  p.set_u8(option::message_type, 1);
  Bytes big(600, 'x');
  p.set(option::bootfile_name, big);
  Bytes wire = serialize(p);
  // three instances of option 67 (255 + 255 + 90) on the wire, one value after parsing (RFC 3396)
  Packet back = parsed(wire);
  ASSERT_NE(back.find(option::bootfile_name), nullptr);
  EXPECT_EQ(*back.find(option::bootfile_name), big);
}

TEST(Codec, OverloadedFileFieldCarriesOptions) {
  Packet p;
  p.set_u8(option::message_type, 1);
  p.set_u8(option::overload, 1);
  Bytes wire = serialize(p);
  // Put option 67 "a.efi" into the file field (offset 108).
  const std::uint8_t opt[] = {67, 5, 'a', '.', 'e', 'f', 'i', 255};
  std::copy(std::begin(opt), std::end(opt), wire.begin() + 108);
  Packet back = parsed(wire);
  EXPECT_EQ(text_option(back, option::bootfile_name), "a.efi");
  EXPECT_TRUE(back.file.empty());
}

TEST(Codec, RejectsWithNamedReasons) {
  ClientPacket c(MessageType::discover);
  Bytes good = c.bytes();

  EXPECT_EQ(error_of(Bytes(good.begin(), good.begin() + 239)), ParseError::too_short);
  Bytes huge = good;
  huge.resize(kMaxPacketSize + 1);
  EXPECT_EQ(error_of(huge), ParseError::too_long);

  Bytes cookie = good;
  cookie[236] = 0;
  EXPECT_EQ(error_of(cookie), ParseError::bad_magic_cookie);

  Bytes op = good;
  op[0] = 9;
  EXPECT_EQ(error_of(op), ParseError::bad_op);

  Bytes hlen = good;
  hlen[2] = 17;
  EXPECT_EQ(error_of(hlen), ParseError::bad_hardware_length);

  // An option whose length runs past the end of the packet.
  Bytes overrun(good.begin(), good.begin() + 240);
  overrun.insert(overrun.end(), {53, 1, 1, 60, 200, 'P', 'X', 'E'});
  EXPECT_EQ(error_of(overrun), ParseError::option_overrun);
  // A length byte with nothing after it.
  Bytes cut(good.begin(), good.begin() + 240);
  cut.insert(cut.end(), {53});
  EXPECT_EQ(error_of(cut), ParseError::option_overrun);

  Bytes type(good.begin(), good.begin() + 240);
  type.insert(type.end(), {53, 1, 42, 255});
  EXPECT_EQ(error_of(type), ParseError::unknown_message_type);
  Bytes type_len(good.begin(), good.begin() + 240);
  type_len.insert(type_len.end(), {53, 2, 1, 1, 255});
  EXPECT_EQ(error_of(type_len), ParseError::bad_message_type);

  Bytes overload(good.begin(), good.begin() + 240);
  overload.insert(overload.end(), {53, 1, 1, 52, 1, 9, 255});
  EXPECT_EQ(error_of(overload), ParseError::bad_overload);
}

TEST(Codec, MissingEndOptionIsTolerated) {
  ClientPacket c(MessageType::request);
  Bytes wire = c.bytes();
  Bytes no_end(wire.begin(), wire.begin() + 243);  // cookie + option 53
  EXPECT_EQ(parsed(no_end).message_type(), MessageType::request);
}

TEST(UserClass, Rfc3004AndRawForms) {
  // RFC 3004: length-prefixed instances.
  Bytes rfc{4, 'i', 'P', 'X', 'E', 3, 'a', 'b', 'c'};
  EXPECT_EQ(decode_user_classes(rfc), (std::vector<std::string>{"iPXE", "abc"}));
  // iPXE's raw form: the bytes "iPXE" ('i' = 105 is no valid length here).
  EXPECT_EQ(decode_user_classes(as_bytes("iPXE")), (std::vector<std::string>{"iPXE"}));
  EXPECT_TRUE(decode_user_classes({}).empty());
}

}  // namespace
}  // namespace ramfleet::dhcp
