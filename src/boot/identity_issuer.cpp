#include "boot/identity_issuer.hpp"

#include <exception>

#include "core/counters.hpp"
#include "core/log.hpp"
#include "core/work_pool.hpp"
#include "kube/node_identity.hpp"

namespace ramfleet::boot {

namespace {
// The nodes prepare() remembers as issued; past this the set starts again
// (the cost is one look-up per node, not a wrong answer).
constexpr std::size_t kMaxKnownIssued = 65536;
// Failures remembered at once; past this the oldest expire early.
constexpr std::size_t kMaxFailures = 4096;
// Waiters kept per node. A request that stopped waiting (timed out, then
// retried) leaves its wake-up behind until the issue ends; past this a new
// waiter is told at once (its request is answered 503 and retries).
constexpr std::size_t kMaxWaitersPerNode = 64;
}  // namespace

IdentityIssuer::IdentityIssuer(Options options, PostToLoop post, Counters& counters, IssueFn issue, IssuedFn issued)
    : options_(options),
      post_(std::move(post)),
      counters_(counters),
      issue_(std::move(issue)),
      issued_(std::move(issued)),
      pool_(std::make_unique<WorkPool>(options.workers, options.max_queued)) {
  if (!issue_) {
    issue_ = [](const std::filesystem::path& state, const std::string& node, const std::vector<std::string>& ips) {
      (void)kube::node_identity(state, node, ips);
    };
  }
  if (!issued_) issued_ = kube::node_identity_issued;
}

IdentityIssuer::~IdentityIssuer() { pool_.reset(); }

std::size_t IdentityIssuer::workers() const { return pool_->threads(); }
std::size_t IdentityIssuer::max_queued() const { return pool_->max_queued(); }

IdentityIssuer::Answer IdentityIssuer::ensure(const std::filesystem::path& state, const std::string& node,
                                              const std::vector<std::string>& ips,
                                              std::chrono::steady_clock::time_point now) {
  if (waiters_.contains(node)) return {Status::pending, {}};
  if (auto it = failures_.find(node); it != failures_.end()) {
    if (now < it->second.until) return {Status::failed, it->second.error};
    failures_.erase(it);
  }
  if (issued_(state, node)) {
    if (known_issued_.size() >= kMaxKnownIssued) known_issued_.clear();
    known_issued_.insert(node);
    return {Status::ready, {}};
  }
  known_issued_.erase(node);  // e.g. a serving certificate to re-issue after `cluster init`
  if (!start(state, node, ips)) return {Status::full, {}};
  return {Status::pending, {}};
}

void IdentityIssuer::prepare(const std::filesystem::path& state, const std::string& node,
                             const std::vector<std::string>& ips, std::chrono::steady_clock::time_point now) {
  if (known_issued_.contains(node) || waiters_.contains(node)) return;
  const auto a = ensure(state, node, ips, now);
  if (a.status == Status::pending) counters_.inc("boot.identity.prepared");
  if (a.status == Status::full) counters_.inc("boot.identity.prepare_skipped_queue_full");
}

void IdentityIssuer::when_done(const std::string& node, std::function<void()> done) {
  auto it = waiters_.find(node);
  if (it == waiters_.end()) {
    done();
    return;
  }
  if (it->second.size() >= kMaxWaitersPerNode) {
    counters_.inc("boot.identity.waiters_full");
    done();
    return;
  }
  it->second.push_back(std::move(done));
}

bool IdentityIssuer::start(const std::filesystem::path& state, const std::string& node,
                           const std::vector<std::string>& ips) {
  // Everything the worker uses is copied in; `this` is used only back on the loop.
  auto job = [state, node, ips, issue = issue_, post = post_, alive = std::weak_ptr<Alive>(alive_), self = this] {
    const auto t0 = std::chrono::steady_clock::now();
    std::string error;
    try {
      issue(state, node, ips);
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "identity issue failed";
    }
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    post([alive, self, node, error = std::move(error), took] {
      if (alive.lock()) self->finished(node, error, took);
    });
  };
  waiters_.emplace(node, std::vector<std::function<void()>>{});
  if (!pool_->try_submit(std::move(job))) {
    waiters_.erase(node);
    counters_.inc("boot.identity.queue_full");
    log::warn("boot.identity.queue_full", {{"node", node},
                                           {"queued", pool_->max_queued()},
                                           {"effect", "the config fetch is answered 503 with Retry-After"}});
    return false;
  }
  counters_.inc("boot.identity.queued");
  return true;
}

void IdentityIssuer::finished(const std::string& node, const std::string& error, std::chrono::milliseconds took) {
  auto it = waiters_.find(node);
  if (it == waiters_.end()) return;
  auto waiting = std::move(it->second);
  waiters_.erase(it);
  if (error.empty()) {
    counters_.inc("boot.identity.issued");
    log::info("boot.identity.issued", {{"node", node}, {"ms", took.count()}, {"waiting", waiting.size()}});
  } else {
    counters_.inc("boot.identity.failed");
    log::error("boot.identity.failed", {{"node", node}, {"error", error}});
    if (failures_.size() >= kMaxFailures) failures_.erase(failures_.begin());
    failures_[node] = {error, std::chrono::steady_clock::now() + options_.failure_memory};
  }
  for (auto& done : waiting) done();
}

}  // namespace ramfleet::boot
