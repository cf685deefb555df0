#pragma once
// A fixed set of worker threads with a bounded queue, for work that must not
// run on the event loop (a node identity's key generation: boot/identity_issuer).
// A full queue refuses the job (try_submit returns false) instead of growing:
// the caller turns that into an answer the client retries (503 + Retry-After),
// so a storm of first boots holds at most `max_queued` jobs in memory.
//
// Jobs run on the workers and must not touch state owned by the caller's
// thread; they hand results back through whatever the caller gave them (the
// issuer posts to its event loop). The destructor drops jobs still queued,
// lets the running ones finish and joins the threads.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ramfleet {

class WorkPool {
 public:
  using Job = std::function<void()>;

  // threads >= 1 and max_queued >= 1 (each is raised to 1 when 0).
  WorkPool(std::size_t threads, std::size_t max_queued);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Queues the job unless max_queued jobs are waiting already (running ones
  // do not count) or the pool is stopping; false: refused, the job is dropped.
  // Any thread.
  bool try_submit(Job job);

  [[nodiscard]] std::size_t threads() const { return threads_.size(); }
  [[nodiscard]] std::size_t max_queued() const { return max_queued_; }
  // Waiting jobs, and jobs a worker is running now (for metrics and tests).
  [[nodiscard]] std::size_t queued() const;
  [[nodiscard]] std::size_t running() const;

  // cores - 1 (one is the event loop's), at least 1.
  static std::size_t default_threads();

 private:
  void run();

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ramfleet
