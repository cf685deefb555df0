#pragma once
// The cluster's PKI, as kubeadm lays it out, kept in the state directory:
//
//   STATE/cluster.json                  name, endpoint, distribution, version
//   STATE/pki/ca.{crt,key}              Kubernetes CA   (CN kubernetes)
//   STATE/pki/front-proxy-ca.{crt,key}  front-proxy CA  (CN front-proxy-ca)
//   STATE/pki/etcd/ca.{crt,key}         etcd CA         (CN etcd-ca)
//   STATE/pki/kubelet-serving-ca.{crt,key} signs only kubelet serving certs (CN kubelet-serving-ca)
//   STATE/pki/sa.{key,pub}              service-account signing key pair
//   STATE/pki/apiserver*.{crt,key}, front-proxy-client.{crt,key}
//   STATE/pki/etcd/healthcheck-client.{crt,key}, ramfleet-client.{crt,key}
//   STATE/pki/etcd/members/<name>/{server,peer}.{crt,key}
//   STATE/kubeconfig/{admin,super-admin,controller-manager,scheduler}.conf
//   STATE/secrets/k3s-server-secret
//   STATE/tokens.json, STATE/nodes/<hostname>/...
//
// init_cluster is idempotent: material that exists is kept (and checked to
// pair with its key), only what is missing is issued. It never makes a new CA
// (or service-account key) while anything made with the old one exists, and
// never overwrites a key.
#include <filesystem>
#include <string>
#include <vector>

#include "kube/cluster_spec.hpp"
#include "kube/crypto.hpp"

namespace ramfleet::kube {

namespace paths {
inline constexpr const char* kClusterInfo = "cluster.json";
inline constexpr const char* kCa = "pki/ca";
inline constexpr const char* kFrontProxyCa = "pki/front-proxy-ca";
inline constexpr const char* kEtcdCa = "pki/etcd/ca";
// Signs the kubelets' serving certificates and nothing else: a serving
// certificate for any name ramfleet ever hands out cannot impersonate the API
// server, etcd or anything else that chains to the cluster CA. Control-plane
// members get the .crt; the apiserver verifies kubelets with it.
inline constexpr const char* kKubeletServingCa = "pki/kubelet-serving-ca";
inline constexpr const char* kServiceAccountKey = "pki/sa.key";
inline constexpr const char* kServiceAccountPub = "pki/sa.pub";
inline constexpr const char* kApiserver = "pki/apiserver";
inline constexpr const char* kApiserverKubeletClient = "pki/apiserver-kubelet-client";
inline constexpr const char* kApiserverEtcdClient = "pki/apiserver-etcd-client";
inline constexpr const char* kFrontProxyClient = "pki/front-proxy-client";
inline constexpr const char* kEtcdHealthcheckClient = "pki/etcd/healthcheck-client";
// ramfleet's own etcd client (CN ramfleet): membership and snapshots (docs/etcd.md).
inline constexpr const char* kEtcdRamfleetClient = "pki/etcd/ramfleet-client";
inline constexpr const char* kAdminConf = "kubeconfig/admin.conf";
inline constexpr const char* kSuperAdminConf = "kubeconfig/super-admin.conf";
inline constexpr const char* kControllerManagerConf = "kubeconfig/controller-manager.conf";
inline constexpr const char* kSchedulerConf = "kubeconfig/scheduler.conf";
inline constexpr const char* kK3sServerSecret = "secrets/k3s-server-secret";
std::string etcd_member(const std::string& name, const char* kind);  // "pki/etcd/members/<name>/<kind>"
}  // namespace paths

// What `cluster show` and node identities need without re-reading cluster.yaml.
struct ClusterInfo {
  std::string name;
  std::string server;  // https://endpoint:port
  Distribution distribution = Distribution::kubeadm;
  std::string kubernetes_version;
};

struct InitItem {
  std::string path;  // relative to the state dir
  bool created = false;
};
using InitReport = std::vector<InitItem>;

// Throws StateError (unreadable/mismatched material, a state dir of another
// cluster, a CA half missing while material it signed exists) or CryptoError.
// Also tightens the state directory and the PKI's directories to 0700 and
// their files to 0600 if something loosened them, and re-issues node serving
// certificates not signed by the kubelet-serving CA (node_identity.hpp).
InitReport init_cluster(const ClusterSpec& spec, const std::filesystem::path& state,
                        Clock::time_point now = Clock::now());

ClusterInfo load_cluster_info(const std::filesystem::path& state);

// STATE/pki/etcd/ramfleet-client.{crt,key}, issued from the etcd CA if missing
// (init_cluster issues it too; serve calls this for a STATE from before it
// existed). Throws StateError when the etcd CA is missing or unpaired.
void ensure_ramfleet_etcd_client(const std::filesystem::path& state, KeyAlgorithm algorithm,
                                 Clock::time_point now = Clock::now());

// A certificate and its key, e.g. a CA used to sign.
struct KeyedCert {
  Pkey key;
  Cert cert;
};
// Loads STATE/<base>.crt and .key; throws StateError when missing or unpaired.
KeyedCert load_keyed_cert(const std::filesystem::path& state, const std::string& base);

// The certificate profiles kubeadm uses (see docs/cluster.md for the table).
CertProfile ca_profile(const std::string& common_name);
CertProfile apiserver_profile(const ClusterSpec& spec);
CertProfile etcd_member_profile(const EtcdMember& member);  // server and peer are the same shape
CertProfile client_profile(const std::string& cn, std::vector<std::string> organizations = {});
// A kubelet's serving certificate: CN system:node:<name>, O system:nodes,
// serverAuth, SANs exactly the node's name and its IPs.
CertProfile kubelet_serving_profile(const std::string& node, const std::vector<std::string>& ips);

// admin.conf's group: kubeadm >= 1.29 binds "kubeadm:cluster-admins" and keeps
// system:masters for super-admin.conf only; older kubeadm and k3s use system:masters.
std::string admin_group(const ClusterSpec& spec);

std::string k3s_token(const std::filesystem::path& state);

}  // namespace ramfleet::kube
