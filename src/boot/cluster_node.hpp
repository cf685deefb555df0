#pragma once
// Which role a booting machine takes in the cluster of <config>/cluster.yaml,
// under which node name, and the files it then receives, as one more Butane
// layer for the node configuration compiler (appended after the machine's own
// layers, so its identity always wins).
//
// Identity comes from the operator, never from the client (docs/cluster.md,
// "Who a machine is"): a node's name and role are decided by the metadata of a
// group that pins the machine's MAC, by its DHCP reservation, and by
// cluster.yaml's selectors over those. What a client sends (hostname=,
// labels) can narrow which group matches, but never names a node or gives it
// a role.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/address_owners.hpp"
#include "inventory/facts.hpp"
#include "inventory/model.hpp"
#include "kube/cluster_spec.hpp"
#include "kube/node_files.hpp"

namespace ramfleet::boot {
using inventory::Group;
using inventory::MachineFacts;

// `group` when its metadata is the operator's word about this machine: its
// selector constrains the MAC. A group chosen by client-sent facts alone
// (labels, hostname, product...) speaks for whoever sends them: nullptr.
const Group* operator_group(const Group* group);

// The Kubernetes node name of a machine: its operator group's
// metadata.hostname, else the hostname of its DHCP reservation, else
// node-<mac with hyphens> (node-<uuid> without a MAC), lower-cased. Never the
// hostname the client sent. Stable across boots, which is what the identity
// is keyed by.
std::string cluster_node_name(const MachineFacts& facts, const Group* group, std::string_view reserved_hostname = {});

// What cluster.yaml's role selectors see: the MAC, the node name above, and
// as labels only its operator group's metadata (never client labels).
kube::MachineView cluster_machine_view(const MachineFacts& facts, const Group* group,
                                       std::string_view reserved_hostname = {});

// Who the operator says a machine is in the cluster.
struct ClusterIdentity {
  std::string name;
  std::optional<kube::Role> role;  // none: no role, no cluster files, no token
  // The address the operator gave it: a control-plane member's etcd IP, else
  // its operator group's metadata.ip, else its DHCP reservation. Empty: none.
  std::string expected_address;
};
ClusterIdentity cluster_identity(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                 const AddressOwners* owners);

// The machine's place in the cluster (kube::place_node) under its operator
// identity; a worker advertises `worker_ip`.
kube::PlacementResult place_machine(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                    const AddressOwners* owners, const std::string& worker_ip);

// The requester's IPv4 address as text ("::ffff:10.0.0.7" -> "10.0.0.7"); empty when it is not IPv4.
std::string requester_ipv4(std::string_view peer_address);

// Empty when `requester` may stand for the machine `mac` of `identity`, else
// why not. Full DHCP mode: `requester` must hold `mac`'s lease now. Any mode:
// when the operator gave the machine an address, the requester must be it.
std::string address_mismatch(const ClusterIdentity& identity, const std::optional<MacAddress>& mac,
                             const std::string& requester, const AddressOwners* owners);

// The RAM root size the kubelet's eviction and image GC thresholds are set
// against: `ram_root_size` from the group's metadata or the machine's labels
// ("8Gi", "512Mi", "2G", or bytes). Unset: 0 (kubelet defaults). Malformed: the error.
struct RamRootResult {
  kube::RamRoot ram;
  std::string error;
};
RamRootResult ram_root_for(const MachineFacts& facts, const Group* group);

// The files as a Butane layer (storage.files, overwrite: true, mode 0600 for
// secrets else 0644), for config::compile_machine. Throws std::invalid_argument
// if a file's text holds "{{", which the compiler would read as a template.
std::string node_files_layer(const std::vector<kube::NodeFile>& files);

}  // namespace ramfleet::boot
