#include "kube/node_identity.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/ipv4.hpp"
#include "core/log.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/names.hpp"
#include "kube/openssh_key.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

namespace {

constexpr const char* kMachineId = "machine-id";
constexpr const char* kClientCrt = "kubelet-client.crt";
constexpr const char* kClientKey = "kubelet-client.key";
constexpr const char* kServingCrt = "kubelet.crt";
constexpr const char* kServingKey = "kubelet.key";
constexpr const char* kNodePassword = "k3s-node-password";
constexpr const char* kSshKey = "ssh_host_ed25519_key";
constexpr const char* kSshPub = "ssh_host_ed25519_key.pub";
constexpr const char* kIps = "ips";

std::string hex(std::string_view raw) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : raw) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

void issue(const fs::path& dir, const std::string& hostname, const std::vector<std::string>& ips, const KeyedCert& ca,
           KeyAlgorithm alg, Clock::time_point now) {
  const std::string cn = "system:node:" + hostname;
  CertProfile client;
  client.common_name = cn;
  client.organizations = {"system:nodes"};
  client.client_auth = true;
  CertProfile serving = client;
  serving.client_auth = false;
  serving.server_auth = true;
  serving.dns_names = {hostname};
  serving.ip_addresses = ips;

  auto client_key = generate_key(alg);
  auto serving_key = generate_key(alg);
  auto ssh_key = generate_key(KeyAlgorithm::ed25519);
  auto ssh = openssh_ed25519(*ssh_key, "root@" + hostname);
  // machine-id(5): 128 random bits; systemd wants the UUIDv4 bits, so set them.
  std::string id = random_bytes(16);
  id[6] = static_cast<char>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<char>((id[8] & 0x3f) | 0x80);

  write_file_atomic(dir / kMachineId, hex(id) + "\n");
  write_file_atomic(dir / kClientKey, private_key_pem(*client_key));
  write_file_atomic(dir / kClientCrt,
                    certificate_pem(*issue_certificate(client, *client_key, ca.cert.get(), *ca.key, now)));
  write_file_atomic(dir / kServingKey, private_key_pem(*serving_key));
  write_file_atomic(dir / kServingCrt,
                    certificate_pem(*issue_certificate(serving, *serving_key, ca.cert.get(), *ca.key, now)));
  write_file_atomic(dir / kNodePassword, hex(random_bytes(16)) + "\n");
  write_file_atomic(dir / kSshKey, ssh.private_key);
  write_file_atomic(dir / kSshPub, ssh.public_key);
  std::string ip_lines;
  for (const auto& ip : ips) ip_lines += ip + "\n";
  write_file_atomic(dir / kIps, ip_lines);
}

KeyAlgorithm algorithm_of(const X509& ca) {
  return is_rsa(*X509_get0_pubkey(&ca)) ? KeyAlgorithm::rsa2048 : KeyAlgorithm::ecdsa_p256;
}

}  // namespace

NodeIdentity node_identity(const fs::path& state, const std::string& hostname, const std::vector<std::string>& ips,
                           Clock::time_point now) {
  if (!is_dns_subdomain(hostname)) throw StateError("node name \"" + hostname + "\" is not a lowercase DNS name");
  for (const auto& ip : ips) {
    if (!Ipv4::parse(ip)) throw StateError("node " + hostname + ": \"" + ip + "\" is not an IPv4 address");
  }
  const ClusterInfo info = load_cluster_info(state);
  const fs::path nodes = state / "nodes";
  const fs::path dir = nodes / hostname;

  if (!fs::exists(dir)) {
    const auto ca = load_keyed_cert(state, paths::kCa);
    make_private_dirs(nodes);
    const fs::path tmp = nodes / (".tmp-" + hostname + "-" + hex(random_bytes(6)));
    make_private_dirs(tmp);
    try {
      issue(tmp, hostname, ips, ca, algorithm_of(*ca.cert), now);
    } catch (...) {
      fs::remove_all(tmp);
      throw;
    }
    // rename(2) onto an existing non-empty directory fails: the first boot to
    // finish wins, the loser discards its copy and reads the winner's.
    if (std::rename(tmp.c_str(), dir.c_str()) != 0) {
      const int err = errno;
      fs::remove_all(tmp);
      if (err != EEXIST && err != ENOTEMPTY) throw StateError("rename " + dir.string() + ": " + std::strerror(err));
    } else {
      sync_path(nodes);
      log::info("kube.node.identity_issued", {{"node", hostname}});
    }
  }

  NodeIdentity id;
  id.hostname = hostname;
  id.machine_id = trimmed(read_file_or_throw(dir / kMachineId));
  id.kubelet_client_cert = read_file_or_throw(dir / kClientCrt);
  id.kubelet_client_key = read_file_or_throw(dir / kClientKey);
  id.kubelet_serving_cert = read_file_or_throw(dir / kServingCrt);
  id.kubelet_serving_key = read_file_or_throw(dir / kServingKey);
  id.k3s_node_password = trimmed(read_file_or_throw(dir / kNodePassword));
  id.ssh_host_ed25519_key = read_file_or_throw(dir / kSshKey);
  id.ssh_host_ed25519_key_pub = read_file_or_throw(dir / kSshPub);
  std::string ip_lines = read_file_or_throw(dir / kIps);
  for (std::size_t start = 0; start < ip_lines.size();) {
    auto nl = ip_lines.find('\n', start);
    if (nl == std::string::npos) nl = ip_lines.size();
    if (nl > start) id.ips.push_back(ip_lines.substr(start, nl - start));
    start = nl + 1;
  }
  // kubelet.conf is derived, not stored: it follows the cluster's endpoint.
  const std::string ca_pem = read_file_or_throw(state / (std::string(paths::kCa) + ".crt"));
  id.kubelet_kubeconfig = render_kubeconfig(KubeconfigParams{info.name, info.server, ca_pem, "system:node:" + hostname,
                                                             id.kubelet_client_cert, id.kubelet_client_key});
  return id;
}

}  // namespace ramfleet::kube
