#pragma once
// The etcd membership service inside `serve` (cluster.yaml `etcd.mode:
// ramfleet`, docs/etcd.md): it observes the members over the JSON gateway
// (net/etcd_client) with ramfleet's client certificate, asks the sans-IO
// decisions (etcd/decisions.hpp) what to do, and does it.
//
//   * On a member's authenticated boot (the boot layer calls member_booted on
//     the HTTP loop): observe, decide, act (remove the stale entry, add a
//     learner), answer what the member boots with. Bounded: every etcd call
//     has a deadline (1.5 s to observe, 3 s per change).
//   * On its own thread, every `tick`: mark the first formation, finish a
//     cold start, promote learners that caught up, take snapshots.
// Membership changes from the two are serialised by one mutex; the status
// the API shows is a copy under another, so GET /api/v1/etcd never waits for etcd.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "boot/etcd_membership.hpp"
#include "etcd/decisions.hpp"
#include "etcd/snapshot_store.hpp"
#include "net/etcd_client.hpp"

namespace ramfleet::net {

class EtcdService : public boot::EtcdMembership {
 public:
  struct Options {
    std::filesystem::path state_dir;
    std::filesystem::path config_dir;  // cluster.yaml
    std::chrono::milliseconds tick{2000};
    std::chrono::milliseconds restore_token_ttl{10 * 60 * 1000};
  };
  explicit EtcdService(Options options);
  ~EtcdService() override;
  EtcdService(const EtcdService&) = delete;
  EtcdService& operator=(const EtcdService&) = delete;

  void start();  // the reconciler thread
  void stop();

  boot::EtcdBootAnswer member_booted(const kube::ClusterSpec& spec, const kube::EtcdMember& member,
                                     const std::string& requester, const std::string& base_url, bool act) override;
  std::optional<std::filesystem::path> redeem_snapshot(const std::string& token, const std::string& requester) override;
  nlohmann::json status() override;

 private:
  struct Action {
    std::int64_t at_ms = 0;
    std::string action;
    std::string member;
    std::string reason;
    bool ok = true;
  };
  struct RestoreGrant {
    std::filesystem::path file;
    std::string address;
    std::chrono::steady_clock::time_point expires;
  };

  void run();
  void tick();
  std::optional<kube::ClusterSpec> current_spec();
  EtcdClient* client(const kube::ClusterSpec& spec);
  etcd::Observation observe(EtcdClient& c, const std::vector<etcd::ConfiguredMember>& members);
  etcd::Formation load_formation();
  void save_formation(const etcd::Formation& f);
  void record(std::string action, std::string member, std::string reason, bool ok = true);
  bool remove_stale(EtcdClient& c, const std::string& url, const std::string& name, const etcd::Member& stale,
                    const std::string& why, boot::EtcdBootAnswer& a);
  void take_snapshot(EtcdClient& c, const std::string& from, const kube::ClusterSpec& spec);
  boot::EtcdBootAnswer stacked_join(EtcdClient& c, const std::vector<etcd::ConfiguredMember>& members,
                                    const kube::EtcdMember& member, const etcd::Observation& seen,
                                    const etcd::BootDecision& d, const std::string& requester, bool act);

  Options opt_;
  etcd::SnapshotStore snapshots_;
  std::mutex ops_;  // membership changes and the formation file
  std::unique_ptr<EtcdClient> client_;
  std::filesystem::file_time_type spec_mtime_{};
  std::optional<kube::ClusterSpec> spec_;

  std::mutex view_mu_;  // everything below: what status() shows, the grants, counters
  std::optional<kube::ClusterSpec> view_spec_;
  etcd::Observation last_seen_;
  std::int64_t last_seen_ms_ = 0;
  std::deque<Action> actions_;
  std::map<std::string, std::uint64_t> counters_;
  std::map<std::string, RestoreGrant> grants_;
  std::string last_snapshot_error_;
  std::chrono::steady_clock::time_point last_snapshot_attempt_{};

  std::thread thread_;
  std::mutex run_mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace ramfleet::net
