// SHA-256 names config ETags, image ids and the kubeadm discovery hash: it
// must give the FIPS 180-2 digests, one-shot and streamed alike.
#include "core/sha256.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace ramfleet {
namespace {

constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kTwoBlocks = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* kTwoBlocksText = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr const char* kMillionA = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(std::string_view()), kEmpty);
  EXPECT_EQ(sha256_hex(std::string_view("abc")), kAbc);
  EXPECT_EQ(sha256_hex(std::string_view(kTwoBlocksText)), kTwoBlocks);
  EXPECT_EQ(sha256_hex(std::string(1'000'000, 'a')), kMillionA);
}

TEST(Sha256, BytesAndTextAgree) {
  const Bytes abc{'a', 'b', 'c'};
  EXPECT_EQ(sha256_hex(ByteView(abc)), kAbc);
  EXPECT_EQ(to_hex(sha256(ByteView(abc))), kAbc);
  EXPECT_EQ(sha256(std::string_view("abc")), sha256(ByteView(abc)));
}

TEST(Sha256, StreamedInPiecesGivesTheSameDigest) {
  const std::string million(1'000'000, 'a');
  Sha256 h;
  for (std::size_t at = 0; at < million.size(); at += 4093)
    h.update(as_bytes(std::string_view(million).substr(at, 4093)));
  EXPECT_EQ(to_hex(h.finish()), kMillionA);
  // finish() starts over: the next digest is of what follows only.
  h.update(as_bytes("abc"));
  EXPECT_EQ(to_hex(h.finish()), kAbc);
  EXPECT_EQ(to_hex(h.finish()), kEmpty);
}

}  // namespace
}  // namespace ramfleet
