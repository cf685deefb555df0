// Hex text is how digests, tokens and identifiers reach files, URLs and logs:
// the spelling must be exact, and text that is not hex must be refused.
#include "core/hex.hpp"

#include <gtest/gtest.h>

namespace ramfleet {
namespace {

TEST(Hex, EncodesEveryByteAsTwoLowerCaseDigits) {
  const Bytes all = [] {
    Bytes b;
    for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
    return b;
  }();
  const std::string text = to_hex(all);
  ASSERT_EQ(text.size(), 512U);
  EXPECT_EQ(text.substr(0, 8), "00010203");
  EXPECT_EQ(text.substr(2 * 0x0f, 4), "0f10");
  EXPECT_EQ(text.substr(2 * 0xa9, 4), "a9aa");
  EXPECT_EQ(text.substr(508), "feff");
  EXPECT_EQ(to_hex(ByteView{}), "");
}

TEST(Hex, StringsOfRawBytesEncodeTheSame) {
  EXPECT_EQ(to_hex(std::string_view("\x00\x7f\x80\xff", 4)), "007f80ff");
  EXPECT_EQ(to_hex(std::string_view("ramfleet")), "72616d666c656574");
}

TEST(Hex, UpperCaseOnlyWhenAsked) {
  std::string out = "%";
  append_hex(out, 0x2f, HexCase::upper);
  EXPECT_EQ(out, "%2F");
  append_hex(out, 0xab);
  EXPECT_EQ(out, "%2Fab");
}

TEST(Hex, DecodesEitherCaseBackToTheBytes) {
  EXPECT_EQ(from_hex("00ff10Ab"), (Bytes{0x00, 0xff, 0x10, 0xab}));
  EXPECT_EQ(from_hex(""), Bytes{});
  Bytes all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<std::uint8_t>(i));
  EXPECT_EQ(from_hex(to_hex(all)), all);
}

TEST(Hex, RefusesTextThatIsNotHex) {
  EXPECT_FALSE(from_hex("abc"));          // odd length
  EXPECT_FALSE(from_hex("0g"));           // not a digit
  EXPECT_FALSE(from_hex("00 11"));        // separators
  EXPECT_FALSE(from_hex("52:54:00:01"));  // a MAC is not bare hex
  EXPECT_FALSE(from_hex("0x10"));
  EXPECT_FALSE(from_hex(std::string_view("0\0", 2)));
  EXPECT_EQ(hex_value('G'), -1);
  EXPECT_EQ(hex_value('/'), -1);
  EXPECT_EQ(hex_value(':'), -1);
  EXPECT_EQ(hex_value('@'), -1);
  EXPECT_EQ(hex_value('`'), -1);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('a'), 10);
  EXPECT_EQ(hex_value('9'), 9);
}

TEST(Hex, Sha256HexIsSixtyFourLowerCaseDigits) {
  const std::string digest(64, 'a');
  EXPECT_TRUE(is_sha256_hex(digest));
  EXPECT_TRUE(is_sha256_hex(std::string(63, '0') + "f"));
  EXPECT_FALSE(is_sha256_hex(std::string(64, 'A')));  // upper case names no image
  EXPECT_FALSE(is_sha256_hex(digest.substr(1)));
  EXPECT_FALSE(is_sha256_hex(digest + "0"));
  EXPECT_FALSE(is_sha256_hex(std::string(63, '0') + "g"));
}

}  // namespace
}  // namespace ramfleet
