#pragma once
// Node identities (kube/node_identity.hpp: two RSA keys, an Ed25519 key, two
// certificates, nine fsyncs) issued on worker threads instead of the event
// loop, so a first boot of a thousand machines with cluster roles does not
// stall DHCP, TFTP and /ipxe behind the key generation (issue 14).
//
// Loop side (every member function): which nodes are being issued, who waits
// for them, which failed lately. Worker side: kube::node_identity() alone,
// which writes only STATE/nodes/<node>/ (into a temporary directory renamed
// into place, so never half-written) and touches nothing the loop owns; the
// outcome is posted back to the loop, where the waiters are told.
//
// Two callers: /ipxe starts a machine's issue as soon as it is matched
// (prepare), so its config fetch usually finds the identity ready; the config
// fetch asks again (ensure) and, while the identity is being made, either
// waits for it (http defers the reply, when_done) or is answered 503 with
// Retry-After. A full queue is a typed refusal (Status::full), never growth.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace ramfleet {
class Counters;
class WorkPool;
}  // namespace ramfleet

namespace ramfleet::boot {

class IdentityIssuer {
 public:
  // Runs a function on the event loop, from any thread (net: asio::post).
  using PostToLoop = std::function<void(std::function<void()>)>;
  // Issues one identity on a worker (tests replace kube::node_identity).
  using IssueFn = std::function<void(const std::filesystem::path& state, const std::string& node,
                                     const std::vector<std::string>& ips)>;
  // Whether the identity is there already (kube::node_identity_issued by default).
  using IssuedFn = std::function<bool(const std::filesystem::path& state, const std::string& node)>;

  struct Options {
    std::size_t workers = 1;
    std::size_t max_queued = 256;
    // A failed issue is reported to the requests that ask within this time,
    // rather than tried again on every retry.
    std::chrono::milliseconds failure_memory{10000};
  };

  IdentityIssuer(Options options, PostToLoop post, Counters& counters, IssueFn issue = {}, IssuedFn issued = {});
  ~IdentityIssuer();
  IdentityIssuer(const IdentityIssuer&) = delete;
  IdentityIssuer& operator=(const IdentityIssuer&) = delete;

  enum class Status {
    ready,    // issued: node_identity() only reads now
    pending,  // being issued (queued or running): when_done() tells when
    full,     // the queue is full: refused, ask again later
    failed,   // the last issue failed: error() says why
  };
  struct Answer {
    Status status = Status::ready;
    std::string error;  // Status::failed
  };

  // The config fetch: ready, or started (or already under way), or refused.
  Answer ensure(const std::filesystem::path& state, const std::string& node, const std::vector<std::string>& ips,
                std::chrono::steady_clock::time_point now);
  // /ipxe: starts the issue unless the node is known issued (remembered, so a
  // matched machine's script costs no file system look-up after the first).
  void prepare(const std::filesystem::path& state, const std::string& node, const std::vector<std::string>& ips,
               std::chrono::steady_clock::time_point now);
  // `done` runs on the loop when the node's issue in flight ends, or at once
  // (before returning) when none is in flight or 64 wait for it already.
  void when_done(const std::string& node, std::function<void()> done);

  [[nodiscard]] std::size_t in_flight() const { return waiters_.size(); }
  [[nodiscard]] std::size_t workers() const;
  [[nodiscard]] std::size_t max_queued() const;

 private:
  struct Failure {
    std::string error;
    std::chrono::steady_clock::time_point until;
  };
  struct Alive {};  // the posted completions hold a weak_ptr: a destroyed issuer is not called
  bool start(const std::filesystem::path& state, const std::string& node, const std::vector<std::string>& ips);
  void finished(const std::string& node, const std::string& error, std::chrono::milliseconds took);

  Options options_;
  PostToLoop post_;
  Counters& counters_;
  IssueFn issue_;
  IssuedFn issued_;
  std::map<std::string, std::vector<std::function<void()>>> waiters_;  // nodes in flight
  std::map<std::string, Failure> failures_;
  std::unordered_set<std::string> known_issued_;  // for prepare(); bounded, cleared when full
  std::shared_ptr<Alive> alive_ = std::make_shared<Alive>();
  std::unique_ptr<WorkPool> pool_;  // last: joined first, before the maps its completions would touch
};

}  // namespace ramfleet::boot
