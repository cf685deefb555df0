#pragma once
// cluster.yaml: the one file that describes the Kubernetes cluster a fleet
// forms. See docs/cluster.md for the format. Parsing never throws on bad
// input: every problem becomes a Diagnostic naming file:line:column.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/diagnostic.hpp"
#include "core/ipv4.hpp"
#include "kube/crypto.hpp"
#include "kube/selector.hpp"

namespace ramfleet::kube {

inline constexpr std::string_view kClusterSpecFile = "cluster.yaml";

enum class Distribution { kubeadm, k3s };
enum class Role { control_plane, worker };
std::string_view to_string(Distribution d);
std::string_view to_string(Role r);

struct KubernetesVersion {
  int major = 1, minor = 0, patch = 0;
  std::string text;  // as written, e.g. "v1.29.4" or "v1.29.4+k3s1"
  static std::optional<KubernetesVersion> parse(std::string_view text);
  [[nodiscard]] bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
};

struct Endpoint {
  std::string host;  // DNS name or IPv4 address
  std::uint16_t port = 6443;
  [[nodiscard]] bool host_is_ip() const { return Ipv4::parse(host).has_value(); }
  [[nodiscard]] std::string str() const { return host + ":" + std::to_string(port); }
  [[nodiscard]] std::string url() const { return "https://" + str(); }
  static std::optional<Endpoint> parse(std::string_view text);
};

// A stacked etcd member, i.e. a control-plane machine: its etcd server and
// peer certificates carry this name and address.
struct EtcdMember {
  std::string name;
  Ipv4 ip;
};

// Who runs etcd on the members (docs/etcd.md):
//   stacked   kubeadm (static pod) or k3s run it; ramfleet only clears a
//             rebooted member's stale entry before it joins again
//   ramfleet  the node runs etcd from the config ramfleet compiles for it
//             (/etc/ramfleet/etcd/), and ramfleet owns membership and snapshots
enum class EtcdMode { stacked, ramfleet };
std::string_view to_string(EtcdMode m);

struct EtcdOptions {
  EtcdMode mode = EtcdMode::stacked;
  std::chrono::milliseconds snapshot_interval{5 * 60 * 1000};  // etcd.snapshot.interval
  unsigned snapshot_keep = 5;                                  // etcd.snapshot.keep
};

struct RegistryMirror {
  std::string registry;                // e.g. "docker.io"
  std::vector<std::string> endpoints;  // e.g. "https://mirror.lab:5000"
};

struct ClusterSpec {
  std::string name;
  KubernetesVersion kubernetes_version;
  Distribution distribution = Distribution::kubeadm;
  Endpoint control_plane_endpoint;
  Ipv4Subnet pod_subnet;
  Ipv4Subnet service_subnet;
  std::string dns_domain = "cluster.local";
  std::vector<std::string> cert_sans;  // extra apiserver SANs (DNS names or IPs)
  std::vector<EtcdMember> etcd_members;
  EtcdOptions etcd;
  std::vector<Selector> control_plane;  // role selectors
  std::vector<Selector> workers;
  std::vector<RegistryMirror> registry_mirrors;
  KeyAlgorithm key_algorithm = KeyAlgorithm::rsa2048;

  // First address of the service range: the in-cluster "kubernetes" Service.
  [[nodiscard]] Ipv4 apiserver_service_ip() const { return Ipv4{service_subnet.network.value() + 1}; }
  [[nodiscard]] std::vector<Role> roles_for(const MachineView& machine, const SelectorMatcher& matcher = {}) const;
};

struct SpecResult {
  std::optional<ClusterSpec> spec;  // set only when there are no errors
  Diagnostics diagnostics;
};

// file_name is what diagnostics print.
SpecResult parse_cluster_spec(std::string_view yaml, const std::string& file_name);
SpecResult load_cluster_spec(const std::filesystem::path& file);

// For `ramfleet check`: validates DIR/cluster.yaml (or the file itself when
// given a file). A config directory without cluster.yaml is valid: the fleet
// then boots machines without forming a cluster.
Diagnostics validate_cluster_spec(const std::filesystem::path& config_dir_or_file);

}  // namespace ramfleet::kube
