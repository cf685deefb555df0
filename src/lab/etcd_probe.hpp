#pragma once
// How the lab sees its etcd cluster from the host: Debian's etcdctl, run
// inside the lab's namespace with a client certificate from ramfleet's etcd
// CA, asking every member's endpoint (not ramfleet's own view: the lab
// checks ramfleet, it does not take its word). Parsing is pure and separate
// from running the command.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lab/lab_state.hpp"

namespace ramfleet::lab {

// The TLS files etcdctl presents: the etcd CA and a client certificate it
// issued. ramfleet's own (STATE/pki/etcd/ramfleet-client.*) when `cluster
// init` made one, else kubeadm's healthcheck client (same CA, clientAuth).
struct EtcdClientCert {
  std::filesystem::path ca, cert, key;
};
std::optional<EtcdClientCert> etcd_client_cert(const std::filesystem::path& state);

// etcdctl's global flags for the lab's members: endpoints, TLS files, and
// timeouts short enough that a node that is down costs a poll little.
std::vector<std::string> etcdctl_args(const std::vector<NodeSpec>& nodes, const EtcdClientCert& cert);

struct MemberView {
  bool listed = false;   // in the member list
  bool learner = false;  // listed as a learner (not voting)
  bool started = false;  // listed with client URLs (it has run since it was added)
  bool healthy = false;  // its endpoint answered a linearizable read (a learner cannot)
  std::string error;     // the endpoint's error, when not healthy
  // A voting member that serves reads: what "the member is back" means.
  [[nodiscard]] bool voting() const { return listed && !learner && healthy; }
};

// By member name. `member_list` is `etcdctl member list -w json`,
// `endpoint_health` is `etcdctl endpoint health -w json` over the nodes'
// endpoints (https://IP:2379); either may be empty or garbage (nothing
// answered): those nodes are simply not listed / not healthy.
std::map<std::string, MemberView> parse_etcd_views(const std::vector<NodeSpec>& nodes, const std::string& member_list,
                                                   const std::string& endpoint_health);

// Runs both etcdctl commands (from the calling thread's namespace).
std::map<std::string, MemberView> probe_etcd(const std::vector<NodeSpec>& nodes, const EtcdClientCert& cert);

}  // namespace ramfleet::lab
