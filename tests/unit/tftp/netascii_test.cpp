#include "tftp/netascii.hpp"

#include <gtest/gtest.h>

#include "tftp_test_support.hpp"

using namespace ramfleet;
using namespace ramfleet::tftp;
using namespace ramfleet::tftp::testing;

namespace {
Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes encode_all(const Bytes& input, std::size_t chunk) {
  MemoryReader reader(input);
  NetasciiEncoder encoder(reader);
  Bytes out;
  for (;;) {
    Bytes buf(chunk);
    auto n = encoder.fill(buf);
    EXPECT_TRUE(n.has_value());
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    if (*n < chunk) break;
  }
  return out;
}
}  // namespace

TEST(TftpNetascii, ConvertsLfAndBareCr) {
  EXPECT_EQ(encode_all(bytes_of("a\nb\rc\r\nd"), 512), bytes_of(std::string("a\r\nb\r\0c\r\0\r\nd", 12)));
}

TEST(TftpNetascii, PairsSplitAcrossBlockBoundariesCarryOver) {
  Bytes input = bytes_of("\n\n\r\rx\n");
  Bytes expected = bytes_of(std::string("\r\n\r\n\r\0\r\0x\r\n", 11));
  for (std::size_t chunk = 1; chunk <= 12; ++chunk) {
    EXPECT_EQ(encode_all(input, chunk), expected) << "chunk " << chunk;
  }
}

TEST(TftpNetascii, LargeInputSpanningReadChunks) {
  Bytes input(40000, 'a');
  for (std::size_t i = 0; i < input.size(); i += 7) input[i] = '\n';
  auto out = encode_all(input, 512);
  std::size_t lf = static_cast<std::size_t>(std::count(input.begin(), input.end(), '\n'));
  EXPECT_EQ(out.size(), input.size() + lf);
}

TEST(TftpNetascii, ReadErrorIsReported) {
  MemoryReader reader(bytes_of("abc"));
  reader.fail_from(0);
  NetasciiEncoder encoder(reader);
  Bytes buf(8);
  EXPECT_FALSE(encoder.fill(buf).has_value());
}
