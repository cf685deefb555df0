#include "boot/identity_issuer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include "core/counters.hpp"

namespace ramfleet::boot {
namespace {

using namespace std::chrono_literals;
using Status = IdentityIssuer::Status;

// The event loop, by hand: completions the workers post wait here until the
// test runs them on its own thread, as asio::post would on the loop's.
class Loop {
 public:
  IdentityIssuer::PostToLoop poster() {
    return [this](std::function<void()> f) {
      std::lock_guard lock(m_);
      posted_.push_back(std::move(f));
      cv_.notify_all();
    };
  }
  // Runs what was posted, waiting (bounded) until at least n were.
  bool run(std::size_t n) {
    std::vector<std::function<void()>> batch;
    {
      std::unique_lock lock(m_);
      if (!cv_.wait_for(lock, 10s, [&] { return posted_.size() >= n; })) return false;
      batch.swap(posted_);
    }
    for (auto& f : batch) f();
    return true;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  std::vector<std::function<void()>> posted_;
};

// The fake STATE: which nodes are issued, written by the workers.
struct FakeState {
  std::mutex m;
  std::set<std::string> issued;
  std::atomic<int> issues{0};
  std::atomic<int> entered{0};  // jobs a worker started (before the gate)
  std::set<std::thread::id> threads;
  std::mutex gate_m;
  std::condition_variable gate_cv;
  bool open = true;

  IdentityIssuer::IssueFn issue_fn() {
    return [this](const std::filesystem::path&, const std::string& node, const std::vector<std::string>& ips) {
      ++entered;
      {
        std::unique_lock lock(gate_m);
        gate_cv.wait(lock, [&] { return open; });
      }
      ++issues;
      if (node == "bad") throw std::runtime_error("no kubelet-serving CA");
      ASSERT_EQ(ips.size(), 1U);
      std::lock_guard lock(m);
      issued.insert(node);
      threads.insert(std::this_thread::get_id());
    };
  }
  IdentityIssuer::IssuedFn issued_fn() {
    return [this](const std::filesystem::path&, const std::string& node) {
      std::lock_guard lock(m);
      return issued.contains(node);
    };
  }
  void close_gate() {
    std::lock_guard lock(gate_m);
    open = false;
  }
  void open_gate() {
    {
      std::lock_guard lock(gate_m);
      open = true;
    }
    gate_cv.notify_all();
  }
};

const auto kNow = std::chrono::steady_clock::time_point{} + 1h;

IdentityIssuer make(Loop& loop, FakeState& fs, Counters& c, std::size_t workers, std::size_t queue) {
  return IdentityIssuer({workers, queue, 10s}, loop.poster(), c, fs.issue_fn(), fs.issued_fn());
}

TEST(IdentityIssuer, IssuesOnAWorkerAndTellsTheWaitersOnTheLoop) {
  Loop loop;
  FakeState fs;
  Counters c;
  auto issuer = make(loop, fs, c, 2, 8);
  EXPECT_EQ(issuer.ensure("/state", "node-a", {"10.0.0.5"}, kNow).status, Status::pending);
  // Asked again while under way: still one issue, both waiters told once.
  EXPECT_EQ(issuer.ensure("/state", "node-a", {"10.0.0.5"}, kNow).status, Status::pending);
  int told = 0;
  issuer.when_done("node-a", [&] { ++told; });
  issuer.when_done("node-a", [&] { ++told; });
  EXPECT_EQ(told, 0);
  EXPECT_EQ(issuer.in_flight(), 1U);
  ASSERT_TRUE(loop.run(1));
  EXPECT_EQ(told, 2);
  EXPECT_EQ(fs.issues, 1);
  EXPECT_FALSE(fs.threads.contains(std::this_thread::get_id()));
  EXPECT_EQ(issuer.in_flight(), 0U);
  EXPECT_EQ(issuer.ensure("/state", "node-a", {"10.0.0.5"}, kNow).status, Status::ready);
  EXPECT_EQ(c.get("boot.identity.issued"), 1U);
  // Nothing in flight: when_done calls back at once.
  issuer.when_done("node-a", [&] { ++told; });
  EXPECT_EQ(told, 3);
}

TEST(IdentityIssuer, WaitersPerNodeAreBounded) {
  Loop loop;
  FakeState fs;
  Counters c;
  fs.close_gate();
  auto issuer = make(loop, fs, c, 1, 4);
  EXPECT_EQ(issuer.ensure("/s", "n1", {"10.0.0.1"}, kNow).status, Status::pending);
  int told = 0;
  for (int i = 0; i < 64; ++i) issuer.when_done("n1", [&] { ++told; });
  EXPECT_EQ(told, 0);
  issuer.when_done("n1", [&] { ++told; });  // the 65th is told at once
  EXPECT_EQ(told, 1);
  EXPECT_EQ(c.get("boot.identity.waiters_full"), 1U);
  fs.open_gate();
  ASSERT_TRUE(loop.run(1));
  EXPECT_EQ(told, 65);
}

TEST(IdentityIssuer, AFullQueueIsRefusedAndNothingIsKept) {
  Loop loop;
  FakeState fs;
  Counters c;
  fs.close_gate();
  auto issuer = make(loop, fs, c, 1, 2);
  // One running (held at the gate), two queued, the fourth refused.
  EXPECT_EQ(issuer.ensure("/s", "n1", {"10.0.0.1"}, kNow).status, Status::pending);
  // n1 must be off the queue, on the worker, before two more fill the queue.
  for (int i = 0; i < 10000 && fs.entered == 0; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_EQ(fs.entered, 1);
  EXPECT_EQ(issuer.ensure("/s", "n2", {"10.0.0.2"}, kNow).status, Status::pending);
  EXPECT_EQ(issuer.ensure("/s", "n3", {"10.0.0.3"}, kNow).status, Status::pending);
  EXPECT_EQ(issuer.ensure("/s", "n4", {"10.0.0.4"}, kNow).status, Status::full);
  EXPECT_EQ(issuer.in_flight(), 3U);  // n4 is not remembered as under way
  EXPECT_EQ(c.get("boot.identity.queue_full"), 1U);
  int told = 0;
  issuer.when_done("n4", [&] { ++told; });  // not in flight: at once
  EXPECT_EQ(told, 1);
  fs.open_gate();
  ASSERT_TRUE(loop.run(3));
  EXPECT_EQ(issuer.in_flight(), 0U);
  // Room again: n4 is accepted now.
  EXPECT_EQ(issuer.ensure("/s", "n4", {"10.0.0.4"}, kNow).status, Status::pending);
  ASSERT_TRUE(loop.run(1));
  EXPECT_EQ(issuer.ensure("/s", "n4", {"10.0.0.4"}, kNow).status, Status::ready);
}

TEST(IdentityIssuer, AFailureIsReportedForAWhileThenTriedAgain) {
  Loop loop;
  FakeState fs;
  Counters c;
  auto issuer = make(loop, fs, c, 1, 4);
  EXPECT_EQ(issuer.ensure("/s", "bad", {"10.0.0.9"}, kNow).status, Status::pending);
  bool told = false;
  issuer.when_done("bad", [&] { told = true; });
  ASSERT_TRUE(loop.run(1));
  EXPECT_TRUE(told);
  // The issuer stamps failures with the real clock: ask "now" in its terms.
  const auto now = std::chrono::steady_clock::now();
  const auto a = issuer.ensure("/s", "bad", {"10.0.0.9"}, now);
  EXPECT_EQ(a.status, Status::failed);
  EXPECT_NE(a.error.find("kubelet-serving CA"), std::string::npos);
  EXPECT_EQ(fs.issues, 1);  // not tried on every retry
  EXPECT_EQ(issuer.ensure("/s", "bad", {"10.0.0.9"}, now + 11s).status, Status::pending);
  ASSERT_TRUE(loop.run(1));
  EXPECT_EQ(fs.issues, 2);
  EXPECT_EQ(c.get("boot.identity.failed"), 2U);
}

TEST(IdentityIssuer, PrepareStartsOnceAndRemembersIssuedNodes) {
  Loop loop;
  FakeState fs;
  Counters c;
  auto issuer = make(loop, fs, c, 2, 8);
  issuer.prepare("/s", "w1", {"10.0.0.7"}, kNow);
  issuer.prepare("/s", "w1", {"10.0.0.7"}, kNow);
  EXPECT_EQ(issuer.in_flight(), 1U);
  EXPECT_EQ(c.get("boot.identity.prepared"), 1U);
  ASSERT_TRUE(loop.run(1));
  EXPECT_EQ(issuer.ensure("/s", "w1", {"10.0.0.7"}, kNow).status, Status::ready);
  issuer.prepare("/s", "w1", {"10.0.0.7"}, kNow);  // known issued: nothing started
  EXPECT_EQ(issuer.in_flight(), 0U);
  EXPECT_EQ(fs.issues, 1);
}

TEST(IdentityIssuer, ACompletionPostedAfterTheIssuerIsGoneIsIgnored) {
  Loop loop;
  FakeState fs;
  Counters c;
  {
    auto issuer = make(loop, fs, c, 1, 4);
    EXPECT_EQ(issuer.ensure("/s", "n1", {"10.0.0.1"}, kNow).status, Status::pending);
    for (int i = 0; i < 10000 && fs.issues == 0; ++i) std::this_thread::sleep_for(1ms);
  }             // joined: the job ran (or was dropped); its completion, if posted, waits in the loop
  loop.run(0);  // must not touch the destroyed issuer
  EXPECT_EQ(c.get("boot.identity.issued"), 0U);
}

}  // namespace
}  // namespace ramfleet::boot
