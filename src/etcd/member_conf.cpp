#include "etcd/member_conf.hpp"

namespace ramfleet::etcd {

std::string client_url(std::string_view ip) { return "https://" + std::string(ip) + ":" + std::to_string(kClientPort); }
std::string peer_url(std::string_view ip) { return "https://" + std::string(ip) + ":" + std::to_string(kPeerPort); }

std::string_view to_string(ClusterState s) { return s == ClusterState::fresh ? "new" : "existing"; }

namespace {
// Every value is a DNS name, an address, a URL or a token of [a-z0-9-]: quoting
// keeps YAML from reading "new" or a number as anything but a string.
std::string quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

std::string transport(const char* cert, const char* key) {
  std::string out;
  out += "  cert-file: " + quoted(cert) + "\n";
  out += "  key-file: " + quoted(key) + "\n";
  out += "  trusted-ca-file: " + quoted(node_paths::kCa) + "\n";
  out += "  client-cert-auth: true\n";
  return out;
}
}  // namespace

std::string render_conf(std::string_view name, std::string_view ip, const MemberBoot& boot) {
  std::string cluster;
  for (const auto& p : boot.initial_cluster) cluster += (cluster.empty() ? "" : ",") + p.name + "=" + p.peer_url;
  std::string out =
      "# Written by ramfleet for this boot (docs/etcd.md). etcd --config-file " + std::string(node_paths::kConf) + "\n";
  out += "name: " + quoted(name) + "\n";
  out += "data-dir: " + quoted(node_paths::kDataDir) + "\n";
  // Loopback too, so etcdctl on the node itself needs no address (the
  // certificates name 127.0.0.1).
  out += "listen-client-urls: " + quoted(client_url(ip) + ",https://127.0.0.1:" + std::to_string(kClientPort)) + "\n";
  out += "advertise-client-urls: " + quoted(client_url(ip)) + "\n";
  out += "listen-peer-urls: " + quoted(peer_url(ip)) + "\n";
  out += "initial-advertise-peer-urls: " + quoted(peer_url(ip)) + "\n";
  out += "initial-cluster: " + quoted(cluster) + "\n";
  out += "initial-cluster-state: " + quoted(to_string(boot.state)) + "\n";
  out += "initial-cluster-token: " + quoted(boot.token) + "\n";
  // ramfleet speaks to members over the v3 JSON gateway; etcd's flag turns it
  // on by default, its config file does not.
  out += "enable-grpc-gateway: true\n";
  out += "client-transport-security:\n" + transport(node_paths::kServerCert, node_paths::kServerKey);
  out += "peer-transport-security:\n" + transport(node_paths::kPeerCert, node_paths::kPeerKey);
  return out;
}

std::string render_restore_env(const Restore& restore) {
  return "RESTORE_URL=" + restore.url + "\nRESTORE_SHA256=" + restore.sha256_hex + "\n";
}

}  // namespace ramfleet::etcd
