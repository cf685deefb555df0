#pragma once
// The node contract: what an etcd member receives in its compiled config
// (Ignition, cloud-config and apkovl alike) when cluster.yaml says
// `etcd.mode: ramfleet`. docs/etcd.md, "What a member receives", is the
// reference; this is the code that writes it.
//
//   /etc/ramfleet/etcd/etcd.conf.yml   etcd's --config-file (YAML), 0644
//   /etc/ramfleet/etcd/pki/ca.crt      the etcd CA (trusts clients and peers)
//   /etc/ramfleet/etcd/pki/server.{crt,key}, peer.{crt,key}   keys 0600
//   /etc/ramfleet/etcd/restore.env     cold start only, 0600:
//       RESTORE_URL=<one-time URL of the snapshot, bound to this member's address>
//       RESTORE_SHA256=<sha256 of the whole file as served>
//
// The node: if restore.env exists, download RESTORE_URL, check RESTORE_SHA256,
// `ETCDCTL_API=3 etcdctl snapshot restore FILE --data-dir /var/lib/etcd` with the
// conf's name, initial-cluster, initial-cluster-token and
// initial-advertise-peer-urls; then (always) `etcd --config-file
// /etc/ramfleet/etcd/etcd.conf.yml`, restarted when it exits.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::etcd {

namespace node_paths {
inline constexpr const char* kConf = "/etc/ramfleet/etcd/etcd.conf.yml";
inline constexpr const char* kCa = "/etc/ramfleet/etcd/pki/ca.crt";
inline constexpr const char* kServerCert = "/etc/ramfleet/etcd/pki/server.crt";
inline constexpr const char* kServerKey = "/etc/ramfleet/etcd/pki/server.key";
inline constexpr const char* kPeerCert = "/etc/ramfleet/etcd/pki/peer.crt";
inline constexpr const char* kPeerKey = "/etc/ramfleet/etcd/pki/peer.key";
inline constexpr const char* kRestoreEnv = "/etc/ramfleet/etcd/restore.env";
inline constexpr const char* kDataDir = "/var/lib/etcd";
}  // namespace node_paths

inline constexpr std::uint16_t kClientPort = 2379;
inline constexpr std::uint16_t kPeerPort = 2380;
std::string client_url(std::string_view ip);  // https://IP:2379
std::string peer_url(std::string_view ip);    // https://IP:2380

enum class ClusterState { fresh, existing };  // etcd's initial-cluster-state new | existing
std::string_view to_string(ClusterState s);

struct InitialPeer {
  std::string name;
  std::string peer_url;
};

// A cold start: the snapshot this member restores before its first start.
struct Restore {
  std::string url;         // one-time, token-bound (docs/etcd.md, "The snapshot download")
  std::string sha256_hex;  // of the whole file, trailer included
};

// What one member boots with, as ramfleet decided at its authenticated boot.
struct MemberBoot {
  ClusterState state = ClusterState::fresh;
  std::vector<InitialPeer> initial_cluster;  // must list exactly the cluster's members (etcd checks the peer URLs)
  std::string token;                         // initial-cluster-token: [a-z0-9-]
  std::optional<Restore> restore;
};

// etcd.conf.yml for the member `name` at `ip`.
std::string render_conf(std::string_view name, std::string_view ip, const MemberBoot& boot);
std::string render_restore_env(const Restore& restore);

}  // namespace ramfleet::etcd
