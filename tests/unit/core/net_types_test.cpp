#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "core/ipv4.hpp"
#include "core/mac_address.hpp"

using namespace ramfleet;

TEST(MacAddress, ParsesCommonForms) {
  auto a = MacAddress::parse("52:54:00:AB:cd:01");
  auto b = MacAddress::parse("52-54-00-ab-cd-01");
  auto c = MacAddress::parse("525400abcd01");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(a->str(), "52:54:00:ab:cd:01");
}

TEST(MacAddress, RejectsMalformed) {
  EXPECT_FALSE(MacAddress::parse(""));
  EXPECT_FALSE(MacAddress::parse("52:54:00:ab:cd"));
  EXPECT_FALSE(MacAddress::parse("52:54:00:ab:cd:0g"));
  EXPECT_FALSE(MacAddress::parse("52;54;00;ab;cd;01"));
}

TEST(Ipv4, ParsesAndFormats) {
  auto ip = Ipv4::parse("10.0.2.15");
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->value(), 0x0a00020fU);
  EXPECT_EQ(ip->str(), "10.0.2.15");
  EXPECT_FALSE(Ipv4::parse("10.0.2"));
  EXPECT_FALSE(Ipv4::parse("10.0.2.256"));
  EXPECT_FALSE(Ipv4::parse("10.0.2.1x"));
  EXPECT_FALSE(Ipv4::parse(" 10.0.2.1"));
}

TEST(Ipv4Subnet, MasksAndContains) {
  auto s = Ipv4Subnet::parse("192.168.7.77/24");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->network.str(), "192.168.7.0");
  EXPECT_EQ(s->broadcast().str(), "192.168.7.255");
  EXPECT_EQ(s->netmask().str(), "255.255.255.0");
  EXPECT_TRUE(s->contains(*Ipv4::parse("192.168.7.200")));
  EXPECT_FALSE(s->contains(*Ipv4::parse("192.168.8.1")));
  EXPECT_FALSE(Ipv4Subnet::parse("1.2.3.4/33"));
}

TEST(ByteReader, RefusesToReadPastTheEnd) {
  Bytes data{0x01, 0x02, 0x03};
  ByteReader r(data);
  EXPECT_EQ(r.u16(), 0x0102);
  EXPECT_FALSE(r.u16());
  EXPECT_EQ(r.u8(), 0x03);
  EXPECT_FALSE(r.u8());
  EXPECT_FALSE(r.take(1));
}
