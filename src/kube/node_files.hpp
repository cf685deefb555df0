#pragma once
// Everything one cluster node receives at boot, as a list of files: what the
// renderers produce (render.hpp), the node's own identity (node_identity.hpp)
// and, for control-plane members, the shared PKI that kubeadm's stacked
// layout (or k3s's custom-CA layout) expects to find. The node configuration
// compiler places the files (boot/cluster_node.hpp); which machine may
// fetch them is the HTTP service's business (boot tokens).
//
// See docs/cluster.md section 5 for the table of paths.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "etcd/member_conf.hpp"
#include "kube/cluster_spec.hpp"
#include "kube/node_identity.hpp"
#include "kube/render.hpp"

namespace ramfleet::kube {

struct NodeFile {
  std::string path;  // absolute, on the node
  std::string contents;
  bool secret = false;  // mode 0600 (keys, tokens, kubeconfigs), else 0644
};

// A machine's place in the cluster.
struct NodePlacement {
  Role role = Role::worker;
  NodeRegistration node;             // Kubernetes node name and the address it advertises
  std::optional<EtcdMember> member;  // control-plane: the stacked etcd member it is
  // etcd.members[0]: the node that creates the cluster (kubeadm init, k3s
  // cluster-init) until STATE records that the cluster was bootstrapped.
  bool first_member = false;
};

struct PlacementResult {
  std::optional<NodePlacement> placement;  // empty: the machine has no role (no cluster files)
  std::string error;                       // non-empty: it has a role but cannot take it
};

// The machine's role by the spec's selectors; control-plane wins when both
// match. A control-plane machine must be an etcd member of the same name and
// advertises the member's address (its certificates name it); a worker
// advertises `worker_ip` (IPv4).
PlacementResult place_node(const ClusterSpec& spec, const MachineView& machine, const std::string& worker_ip);

// True once the first member's init config has been served (STATE/bootstrapped):
// from then on it gets a join config like the others, so a reboot of a
// RAM-root node never creates a second cluster.
bool cluster_bootstrapped(const std::filesystem::path& state);
void mark_bootstrapped(const std::filesystem::path& state, const std::string& node);

// Reads a file of the state directory by its relative path (pki/ca.crt...).
using StateReader = std::function<std::string(const std::string& relative_path)>;

// The files for one node: pure apart from `read_state`, which supplies the
// cluster PKI. `init` selects kubeadm init / k3s cluster-init for the first member.
// `etcd_boot`: with `etcd.mode: ramfleet`, what this member's etcd boots with
// (boot layer's decision); its files are the node contract of etcd/member_conf.hpp.
std::vector<NodeFile> assemble_node_files(const ClusterSpec& spec, const NodePlacement& placement, bool init,
                                          const NodeIdentity& identity, const JoinSecrets& secrets, const RamRoot& ram,
                                          const StateReader& read_state, const etcd::MemberBoot* etcd_boot = nullptr);

// The etcd member files of the node contract (etcd/member_conf.hpp).
void add_etcd_member_files(std::vector<NodeFile>& out, const EtcdMember& member, const etcd::MemberBoot& boot,
                           const StateReader& read_state);

struct NodeBundle {
  std::vector<NodeFile> files;
  bool init = false;  // the first member's init config: call mark_bootstrapped once it is served
};

// Issues the node's identity the first time (node_identity), takes the
// current bootstrap token (rotated as TokenStore::current does, 24 h), the
// discovery hash and the k3s token from STATE, and assembles the files.
// Throws StateError (no cluster in STATE, another cluster's STATE, material
// missing because `cluster init` was not run again after an edit) or CryptoError.
NodeBundle node_bundle(const ClusterSpec& spec, const std::filesystem::path& state, const NodePlacement& placement,
                       const RamRoot& ram, Clock::time_point now = Clock::now(),
                       const etcd::MemberBoot* etcd_boot = nullptr);

}  // namespace ramfleet::kube
