#pragma once
// Per-node bootstrap configuration as pure functions: facts in, file text out.
// The node configuration compiler decides where the text goes (and serves it
// only to the machine it belongs to); nothing here reads the state directory.
#include <map>
#include <string>

#include "kube/cluster_spec.hpp"

namespace ramfleet::kube {

// How a node registers with the cluster (kubeadm's nodeRegistration, k3s's
// node-name and node-ip).
struct NodeRegistration {
  std::string name;  // Kubernetes node name (= hostname)
  std::string ip;    // address the node advertises
};

struct JoinSecrets {
  std::string bootstrap_token;  // kubeadm: abcdef.0123456789abcdef
  std::string discovery_hash;   // kubeadm: sha256:...
  std::string k3s_token;        // k3s: K10...::server:...
};

// Node sizing that the kubelet configuration is derived from: a RAM-root node
// keeps its images and container layers in tmpfs, so eviction and image GC
// thresholds are set against that size rather than a disk's.
struct RamRoot {
  std::uint64_t tmpfs_bytes = 0;
};

// kubeadm: InitConfiguration + ClusterConfiguration (first control-plane node),
// JoinConfiguration (other control-plane nodes and workers), each followed by
// a KubeletConfiguration, as one multi-document YAML for `kubeadm --config`.
std::string render_kubeadm_init(const ClusterSpec& spec, const NodeRegistration& node, const JoinSecrets& secrets,
                                const RamRoot& ram);
std::string render_kubeadm_join(const ClusterSpec& spec, Role role, const NodeRegistration& node,
                                const JoinSecrets& secrets, const RamRoot& ram);

// k3s: /etc/rancher/k3s/config.yaml for a server (first: cluster-init) or agent.
std::string render_k3s_config(const ClusterSpec& spec, Role role, bool first_server, const NodeRegistration& node,
                              const JoinSecrets& secrets);

// k3s: /etc/rancher/k3s/registries.yaml for the registry mirrors (k3s runs
// its own containerd and writes its hosts.toml from this); empty without mirrors.
std::string render_k3s_registries(const ClusterSpec& spec);

// containerd: /etc/containerd/certs.d/<registry>/hosts.toml per mirror.
std::map<std::string, std::string> render_containerd_hosts(const ClusterSpec& spec);

}  // namespace ramfleet::kube
