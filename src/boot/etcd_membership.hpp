#pragma once
// The boot layer's view of etcd membership (cluster.yaml `etcd.mode:
// ramfleet`, docs/etcd.md). An etcd member's config is served only on its
// authenticated boot (boot token checked, operator approval): that proof, and
// nothing else, is what "this member booted with empty RAM" is believed from.
// The boot layer asks this interface what the member boots with; the
// implementation (net/etcd_service) talks to etcd and keeps the snapshots.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "etcd/member_conf.hpp"
#include "kube/cluster_spec.hpp"

namespace ramfleet::boot {

struct EtcdBootAnswer {
  std::optional<etcd::MemberBoot> boot;  // what the member boots with (etcd.mode: ramfleet)
  std::string refusal;                   // non-empty: why it gets no config now (else: go ahead)
  bool retry = false;                    // the refusal is temporary (503, Retry-After)
};

class EtcdMembership {
 public:
  virtual ~EtcdMembership() = default;
  // `member` booted (authenticated) from `requester`; `base_url` is where it
  // reached us (for a snapshot URL). act=false (HEAD): decide, change nothing.
  // etcd.mode: stacked (a kubeadm join): only its stale entry is removed; no boot.
  virtual EtcdBootAnswer member_booted(const kube::ClusterSpec& spec, const kube::EtcdMember& member,
                                       const std::string& requester, const std::string& base_url, bool act) = 0;
  // GET /etcd/snapshot/<token>: the snapshot file the token was minted for,
  // once, to the address it was minted for; nullopt otherwise.
  virtual std::optional<std::filesystem::path> redeem_snapshot(const std::string& token,
                                                               const std::string& requester) = 0;
  // GET /api/v1/etcd: members, health, leader, snapshots, RPO, recent decisions.
  virtual nlohmann::json status() = 0;
};

// Without a membership service (a test, a tool): the first formation only,
// every member `new` with every member of cluster.yaml.
etcd::MemberBoot first_formation(const kube::ClusterSpec& spec);

}  // namespace ramfleet::boot
