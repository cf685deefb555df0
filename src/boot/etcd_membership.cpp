#include "boot/etcd_membership.hpp"

namespace ramfleet::boot {

etcd::MemberBoot first_formation(const kube::ClusterSpec& spec) {
  etcd::MemberBoot b;
  b.state = etcd::ClusterState::fresh;
  for (const auto& m : spec.etcd_members) b.initial_cluster.push_back({m.name, etcd::peer_url(m.ip.str())});
  b.token = "ramfleet-" + spec.name;
  return b;
}

}  // namespace ramfleet::boot
