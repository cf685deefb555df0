#include "tftp/request.hpp"

#include <gtest/gtest.h>

#include "tftp_test_support.hpp"

using namespace ramfleet;
using namespace ramfleet::tftp;
using namespace ramfleet::tftp::testing;

namespace {
std::optional<Error> reply_of(const RequestDecision& d) {
  auto* r = std::get_if<Rejection>(&d);
  if (!r || !r->reply) return std::nullopt;
  return std::get<Error>(parsed(*r->reply));
}
bool silently_dropped(const RequestDecision& d) {
  auto* r = std::get_if<Rejection>(&d);
  return r && !r->reply;
}
}  // namespace

TEST(TftpRequest, ReadRequestIsAccepted) {
  Counters c;
  auto d = classify_request(encoded(read_request("undionly.kpxe", {{"blksize", "1468"}})), c);
  ASSERT_TRUE(std::holds_alternative<Request>(d));
  EXPECT_EQ(std::get<Request>(d).filename, "undionly.kpxe");
  EXPECT_EQ(c.get("tftp.request.read"), 1U);
}

TEST(TftpRequest, WriteRequestGetsAccessViolationWithMessage) {
  Counters c;
  auto wrq = read_request("upload.bin");
  wrq.write = true;
  auto e = reply_of(classify_request(encoded(wrq), c));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::access_violation);
  EXPECT_NE(e->message.find("read-only"), std::string::npos);
  EXPECT_EQ(c.get("tftp.request.write_refused"), 1U);
}

TEST(TftpRequest, MailModeAndUnknownModeAreIllegal) {
  Counters c;
  EXPECT_EQ(reply_of(classify_request(encoded(read_request("f", {}, Mode::mail)), c))->code,
            ErrorCode::illegal_operation);
  Bytes odd{0, 1, 'f', 0, 'x', 'y', 0};
  EXPECT_EQ(reply_of(classify_request(odd, c))->code, ErrorCode::illegal_operation);
  EXPECT_EQ(c.get("tftp.drop.malformed.request_unknown_mode"), 1U);
}

TEST(TftpRequest, NonRequestsOnTheServerPortAreIllegal) {
  Counters c;
  EXPECT_EQ(reply_of(classify_request(ack(1), c))->code, ErrorCode::illegal_operation);
  Bytes data;
  encode_data(1, pattern(3), data);
  EXPECT_EQ(reply_of(classify_request(data, c))->code, ErrorCode::illegal_operation);
  EXPECT_EQ(reply_of(classify_request(Bytes{0, 42}, c))->code, ErrorCode::illegal_operation);
}

TEST(TftpRequest, ErrorsAndRuntsAreDroppedSilently) {
  Counters c;
  EXPECT_TRUE(silently_dropped(classify_request(error_packet(ErrorCode::not_defined, "x"), c)));
  EXPECT_TRUE(silently_dropped(classify_request(Bytes{1}, c)));
  EXPECT_TRUE(silently_dropped(classify_request(Bytes{}, c)));
  EXPECT_EQ(c.get("tftp.drop.error_to_server_port"), 1U);
  EXPECT_EQ(c.get("tftp.drop.malformed"), 2U);
}

TEST(TftpRequest, TruncatedRequestGetsIllegalOperation) {
  Counters c;
  Bytes truncated{0, 1, 'f', 'i', 'l', 'e'};
  EXPECT_EQ(reply_of(classify_request(truncated, c))->code, ErrorCode::illegal_operation);
}
