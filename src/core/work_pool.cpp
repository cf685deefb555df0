#include "core/work_pool.hpp"

#include <algorithm>
#include <exception>

#include "core/log.hpp"

namespace ramfleet {

WorkPool::WorkPool(std::size_t threads, std::size_t max_queued) : max_queued_(std::max<std::size_t>(max_queued, 1)) {
  threads = std::max<std::size_t>(threads, 1);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
}

WorkPool::~WorkPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (auto& t : threads_) t.join();
}

bool WorkPool::try_submit(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queued_) return false;
    queue_.push_back(std::move(job));
  }
  wake_.notify_one();
  return true;
}

std::size_t WorkPool::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkPool::running() const {
  std::lock_guard lock(mutex_);
  return running_;
}

std::size_t WorkPool::default_threads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores > 1 ? cores - 1 : 1;
}

void WorkPool::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    // A job reports its own errors; one that escapes must not end the worker
    // (std::terminate) and take the server with it.
    try {
      job();
    } catch (const std::exception& e) {
      log::error("work_pool.job_failed", {{"error", e.what()}});
    } catch (...) {
      log::error("work_pool.job_failed", {{"error", "unknown exception"}});
    }
    std::lock_guard lock(mutex_);
    --running_;
  }
}

}  // namespace ramfleet
