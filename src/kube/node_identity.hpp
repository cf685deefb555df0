#pragma once
// A node's identity, issued the first time ramfleet sees the hostname and
// re-delivered unchanged on every later boot, so a RAM-booted node that lost
// everything comes back as the same Kubernetes Node (no "node password
// rejected", no "a Node with this name already exists").
//
// Stored as STATE/nodes/<hostname>/, created whole or not at all: the files
// are written into a temporary directory that is then renamed into place, so
// two boots racing for the same new node agree on one identity.
#include <filesystem>
#include <string>
#include <vector>

#include "kube/crypto.hpp"
#include "kube/pki.hpp"

namespace ramfleet::kube {

struct NodeIdentity {
  std::string hostname;
  std::string machine_id;           // 32 lowercase hex digits, for /etc/machine-id
  std::string kubelet_client_cert;  // CN system:node:<hostname>, O system:nodes, clientAuth
  std::string kubelet_client_key;
  std::string kubelet_serving_cert;  // same subject, serverAuth, SANs hostname + ips, kubelet-serving CA
  std::string kubelet_serving_key;
  std::string kubelet_kubeconfig;    // kubelet.conf embedding the client cert
  std::string k3s_node_password;     // for /etc/rancher/node/password
  std::string ssh_host_ed25519_key;  // OpenSSH private key format
  std::string ssh_host_ed25519_key_pub;
  std::vector<std::string> ips;  // the addresses the serving cert was issued for
};

// Needs an initialised cluster state (ramfleet cluster init). ips are used only
// when the identity is first issued; later calls return what was issued.
// The client certificate chains to the cluster CA, the serving certificate to
// the kubelet-serving CA (pki.hpp); a serving certificate from before that CA
// existed is re-issued (same SANs) on the way.
// Throws StateError for a bad hostname/IP, a missing cluster or a state
// without the kubelet-serving CA (run `cluster init` again), CryptoError.
NodeIdentity node_identity(const std::filesystem::path& state, const std::string& hostname,
                           const std::vector<std::string>& ips, Clock::time_point now = Clock::now());

// True when node_identity(state, hostname, ...) would only read: the identity
// was issued and its serving certificate is signed by the current
// kubelet-serving CA. Cheap (a stat and two certificate reads, no key
// generation), so the event loop asks this before handing the issue to a
// worker (boot/identity_issuer.hpp). False for a bad hostname or no cluster.
bool node_identity_issued(const std::filesystem::path& state, const std::string& hostname);

// Re-issues STATE/nodes/<node>/kubelet.{crt,key} (new key, same SANs from the
// stored ips) for every node whose kubelet.crt is not signed by serving_ca.
// Returns the nodes re-issued. Called by init_cluster.
std::vector<std::string> refresh_kubelet_serving_certs(const std::filesystem::path& state, const KeyedCert& serving_ca,
                                                       Clock::time_point now = Clock::now());

}  // namespace ramfleet::kube
