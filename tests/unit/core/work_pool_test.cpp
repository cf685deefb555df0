#include "core/work_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace ramfleet {
namespace {

using namespace std::chrono_literals;

// Holds the workers inside their jobs until opened, so a test knows what is
// running and what waits.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(m_);
    ++waiting_;
    entered_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Until n jobs are inside wait() (bounded: a broken pool fails, not hangs).
  bool until_waiting(int n) {
    std::unique_lock lock(m_);
    return entered_.wait_for(lock, 10s, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_, entered_;
  bool open_ = false;
  int waiting_ = 0;
};

bool eventually(const std::function<bool()>& f) {
  for (int i = 0; i < 1000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(WorkPool, RunsEveryAcceptedJobOnItsWorkers) {
  std::atomic<int> done{0};
  std::mutex m;
  std::set<std::thread::id> ids;
  {
    WorkPool pool(3, 100);
    EXPECT_EQ(pool.threads(), 3U);
    for (int i = 0; i < 50; ++i) {
      ASSERT_TRUE(pool.try_submit([&] {
        {
          std::lock_guard lock(m);
          ids.insert(std::this_thread::get_id());
        }
        ++done;
      }));
    }
    ASSERT_TRUE(eventually([&] { return done == 50; }));
  }
  EXPECT_FALSE(ids.contains(std::this_thread::get_id()));  // never on the caller's thread
  EXPECT_LE(ids.size(), 3U);
}

TEST(WorkPool, FullQueueRefusesInsteadOfGrowing) {
  Gate gate;
  std::atomic<int> done{0};
  WorkPool pool(2, 3);
  // Two jobs occupy the two workers...
  for (int i = 0; i < 2; ++i)
    ASSERT_TRUE(pool.try_submit([&] {
      gate.wait();
      ++done;
    }));
  ASSERT_TRUE(gate.until_waiting(2));
  EXPECT_EQ(pool.running(), 2U);
  // ...three wait in the queue, the sixth is refused.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.try_submit([&] { ++done; }));
  EXPECT_EQ(pool.queued(), 3U);
  EXPECT_FALSE(pool.try_submit([&] { ++done; }));
  EXPECT_EQ(pool.queued(), 3U);
  gate.open();
  ASSERT_TRUE(eventually([&] { return done == 5; }));
  // Room again once the queue drained.
  EXPECT_TRUE(pool.try_submit([&] { ++done; }));
  ASSERT_TRUE(eventually([&] { return done == 6; }));
}

TEST(WorkPool, AJobThatThrowsDoesNotEndItsWorker) {
  std::atomic<int> done{0};
  WorkPool pool(1, 10);
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(pool.try_submit([&] { ++done; }));
  EXPECT_TRUE(eventually([&] { return done == 1; }));
}

TEST(WorkPool, DestructionDropsQueuedJobsAndJoinsRunningOnes) {
  Gate gate;
  std::atomic<int> ran{0};
  std::atomic<bool> finished{false};
  std::thread opener;
  {
    WorkPool pool(1, 10);
    ASSERT_TRUE(pool.try_submit([&] {
      gate.wait();
      finished = true;
    }));
    ASSERT_TRUE(gate.until_waiting(1));
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.try_submit([&] { ++ran; }));
    opener = std::thread([&] {
      std::this_thread::sleep_for(50ms);
      gate.open();
    });
  }  // joins: waits for the running job, drops the five
  EXPECT_TRUE(finished);
  EXPECT_EQ(ran, 0);
  opener.join();
}

TEST(WorkPool, ZeroSizesAreRaisedToOne) {
  WorkPool pool(0, 0);
  EXPECT_EQ(pool.threads(), 1U);
  EXPECT_EQ(pool.max_queued(), 1U);
  EXPECT_GE(WorkPool::default_threads(), 1U);
}

}  // namespace
}  // namespace ramfleet
