#include "tftp/ack_poller.hpp"

#include <gtest/gtest.h>

using namespace ramfleet::tftp;
using namespace std::chrono_literals;

TEST(TftpAckPoller, PollsForTheFirstAnswerWithinTheBudget) {
  AckPoller p(50us);
  const AckPoller::Clock::time_point sent{};
  EXPECT_TRUE(p.keep_polling(sent, sent));
  EXPECT_TRUE(p.keep_polling(sent, sent + 49us));
  EXPECT_FALSE(p.keep_polling(sent, sent + 50us)) << "past the budget: sleep";
}

TEST(TftpAckPoller, ASlowAnswerMeansSleepUntilAnAnswerIsFastAgain) {
  AckPoller p(50us);
  const AckPoller::Clock::time_point sent{};
  p.observe(400us);  // e.g. a client across a real network, or a busy one
  EXPECT_FALSE(p.keep_polling(sent, sent)) << "no CPU spent polling for a client that answers slowly";
  p.observe(60us);
  EXPECT_FALSE(p.keep_polling(sent, sent));
  p.observe(30us);
  EXPECT_TRUE(p.keep_polling(sent, sent + 10us));
  p.observe(50us);  // the budget itself still counts as fast
  EXPECT_TRUE(p.keep_polling(sent, sent + 10us));
}

TEST(TftpAckPoller, ZeroBudgetNeverPolls) {
  AckPoller p(0us);
  const AckPoller::Clock::time_point sent{};
  EXPECT_FALSE(p.keep_polling(sent, sent));
  p.observe(0us);
  EXPECT_FALSE(p.keep_polling(sent, sent));
}
