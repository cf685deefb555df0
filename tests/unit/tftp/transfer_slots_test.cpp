#include "tftp/transfer_slots.hpp"

#include <gtest/gtest.h>

using namespace ramfleet;
using namespace ramfleet::tftp;

TEST(TransferSlots, CapsEachClientAndTheTotal) {
  TransferSlots slots(3, 2);
  const Ipv4 a(10, 0, 0, 1), b(10, 0, 0, 2), c(10, 0, 0, 3);
  EXPECT_EQ(slots.acquire(a), TransferSlots::Admission::admitted);
  EXPECT_EQ(slots.acquire(a), TransferSlots::Admission::admitted);
  EXPECT_EQ(slots.acquire(a), TransferSlots::Admission::client_full);  // a third from a: refused...
  EXPECT_EQ(slots.acquire(b), TransferSlots::Admission::admitted);     // ...while b is served
  EXPECT_EQ(slots.acquire(c), TransferSlots::Admission::server_full);
  EXPECT_EQ(slots.total(), 3U);
  slots.release(a);
  EXPECT_EQ(slots.held_by(a), 1U);
  EXPECT_EQ(slots.acquire(c), TransferSlots::Admission::admitted);
  slots.release(a);
  slots.release(b);
  slots.release(c);
  EXPECT_EQ(slots.total(), 0U);
  EXPECT_EQ(slots.clients(), 0U);  // nothing kept for clients without transfers
  slots.release(c);                // releasing what is not held changes nothing
  EXPECT_EQ(slots.total(), 0U);
}
