#include "tftp/packet.hpp"

#include <gtest/gtest.h>

#include "tftp_test_support.hpp"

using namespace ramfleet;
using namespace ramfleet::tftp;
using namespace ramfleet::tftp::testing;

namespace {

// opcode, then each field followed by a NUL (the TFTP string layout).
Bytes wire(std::uint8_t opcode, std::initializer_list<std::string_view> fields, bool terminate_last = true) {
  Bytes out{0, opcode};
  std::size_t i = 0;
  for (auto f : fields) {
    out.insert(out.end(), f.begin(), f.end());
    if (terminate_last || ++i < fields.size()) out.push_back(0);
  }
  return out;
}
}  // namespace

TEST(TftpPacket, ParsesRrqAsSentByCurlWithOptions) {
  // Byte layout of curl 7.88's request: tftp://host/undionly.kpxe --tftp-blksize 1468.
  auto bytes = wire(1, {"undionly.kpxe", "octet", "tsize", "0", "blksize", "1468", "timeout", "6"});
  ASSERT_EQ(bytes.size(), 53U);
  auto packet = parsed(bytes);
  auto& rrq = std::get<Request>(packet);
  EXPECT_FALSE(rrq.write);
  EXPECT_EQ(rrq.filename, "undionly.kpxe");
  EXPECT_EQ(rrq.mode, Mode::octet);
  ASSERT_EQ(rrq.options.size(), 3U);
  EXPECT_EQ(rrq.options[0], (Option{"tsize", "0"}));
  EXPECT_EQ(rrq.options[1], (Option{"blksize", "1468"}));
  EXPECT_EQ(rrq.options[2], (Option{"timeout", "6"}));
  EXPECT_EQ(encoded(rrq), bytes);
}

TEST(TftpPacket, ModeIsCaseInsensitiveAndNetasciiRecognised) {
  auto packet = parsed(wire(1, {"a", "NetASCII"}));
  EXPECT_EQ(std::get<Request>(packet).mode, Mode::netascii);
}

TEST(TftpPacket, WrqIsParsedAsWrite) {
  auto packet = parsed(wire(2, {"up.txt", "octet"}));
  EXPECT_TRUE(std::get<Request>(packet).write);
}

TEST(TftpPacket, TrailingNulPaddingIsTolerated) {
  auto packet = parsed(wire(1, {"f", "octet", "", "", ""}));
  EXPECT_TRUE(std::get<Request>(packet).options.empty());
}

TEST(TftpPacket, RejectsMalformedRequests) {
  auto reason = [](const Bytes& raw) {
    auto r = parse_packet(raw);
    return std::holds_alternative<ParseError>(r) ? std::get<ParseError>(r).reason : std::string("parsed");
  };
  EXPECT_EQ(reason(Bytes{0}), "truncated_opcode");
  EXPECT_EQ(reason(Bytes{}), "truncated_opcode");
  EXPECT_EQ(reason(wire(1, {"file"}, false)), "request_filename_unterminated");
  EXPECT_EQ(reason(wire(1, {"file", "octet"}, false)), "request_mode_unterminated");
  EXPECT_EQ(reason(wire(1, {"file", "binary"})), "request_unknown_mode");
  EXPECT_EQ(reason(wire(1, {"f", "octet", "blksize", "512"}, false)), "option_without_value");
  EXPECT_EQ(reason(wire(1, {"f", "octet", "blksize"})), "option_without_value");
  EXPECT_EQ(reason(wire(1, {"f", "octet", "blksize"}, false)), "option_unterminated");
  EXPECT_EQ(reason(wire(1, {"f", "octet", "", "512"})), "option_empty_name");
  EXPECT_EQ(reason(Bytes{0, 9}), "unknown_opcode");
  EXPECT_EQ(reason(Bytes{0, 4, 1}), "ack_truncated");
  EXPECT_EQ(reason(Bytes{0, 3}), "data_truncated");
}

TEST(TftpPacket, DataAckErrorOackRoundTrip) {
  Bytes payload = pattern(100);
  Bytes out;
  encode_data(65535, payload, out);
  ASSERT_EQ(out.size(), 104U);
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 3);
  EXPECT_EQ(out[2], 0xff);
  EXPECT_EQ(out[3], 0xff);
  auto data = std::get<Data>(parsed(out));
  EXPECT_EQ(data.block, 65535);
  EXPECT_TRUE(std::equal(data.payload.begin(), data.payload.end(), payload.begin(), payload.end()));

  EXPECT_EQ(ack(258), (Bytes{0, 4, 1, 2}));
  EXPECT_EQ(std::get<Ack>(parsed(ack(258))).block, 258);

  auto err = error_packet(ErrorCode::access_violation, "nope");
  EXPECT_EQ(err, (Bytes{0, 5, 0, 2, 'n', 'o', 'p', 'e', 0}));
  auto e = std::get<Error>(parsed(err));
  EXPECT_EQ(e.code, ErrorCode::access_violation);
  EXPECT_EQ(e.message, "nope");

  Bytes oack;
  encode_oack({{"blksize", "1468"}, {"tsize", "42"}}, oack);
  EXPECT_EQ(oack, wire(6, {"blksize", "1468", "tsize", "42"}));
  EXPECT_EQ(std::get<OptionAck>(parsed(oack)).options.size(), 2U);
}

TEST(TftpPacket, ErrorMessageWithEmbeddedNulIsCut) {
  auto err = error_packet(ErrorCode::not_defined, std::string_view("ab\0cd", 5));
  EXPECT_EQ(err, (Bytes{0, 5, 0, 0, 'a', 'b', 0}));
}

TEST(TftpPacket, ErrorWithoutTerminatorStillParses) {
  auto e = std::get<Error>(parsed(Bytes{0, 5, 0, 8, 'a', 'b', 'o', 'r', 't'}));
  EXPECT_EQ(e.code, ErrorCode::option_refused);
  EXPECT_EQ(e.message, "abort");
}
