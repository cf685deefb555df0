#pragma once
// The inventory's side of the Kubernetes bootstrap (docs/cluster.md): which
// role a booting machine takes in the cluster of <config>/cluster.yaml, under
// which node name, and the files it then receives, as one more Butane layer
// for the node configuration compiler (appended after the machine's own
// layers, so its identity always wins).
#include <string>
#include <vector>

#include "inventory/facts.hpp"
#include "inventory/model.hpp"
#include "kube/cluster_spec.hpp"
#include "kube/node_files.hpp"

namespace ramfleet::boot {
using inventory::Group;
using inventory::MachineFacts;

// The Kubernetes node name of a machine: its hostname fact, else its group's
// metadata.hostname, else node-<mac with hyphens> (node-<uuid> without a MAC),
// lower-cased. Stable across boots, which is what the identity is keyed by.
std::string cluster_node_name(const MachineFacts& facts, const Group* group);

// What cluster.yaml's role selectors see: the MAC, the node name, and as
// labels the machine's labels overlaid with its group's metadata (the
// operator's word wins over what a machine sends).
kube::MachineFacts cluster_machine_facts(const MachineFacts& facts, const Group* group);

// The machine's place in the cluster (kube::place_node); `ip` is the address
// a worker advertises (its ip= label, else the address it connected from).
kube::PlacementResult place_machine(const kube::ClusterSpec& spec, const MachineFacts& facts, const Group* group,
                                    const std::string& ip);

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
