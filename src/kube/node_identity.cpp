#include "kube/node_identity.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "core/hex.hpp"
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

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

KeyAlgorithm algorithm_of(const X509& ca) {
  return is_rsa(*X509_get0_pubkey(&ca)) ? KeyAlgorithm::rsa2048 : KeyAlgorithm::ecdsa_p256;
}

// Serialises serving-certificate re-issues in this process, and lets a
// reader that caught one halfway (new key, old certificate) wait for it.
std::mutex& serving_mutex() {
  static std::mutex m;
  return m;
}

void write_serving_pair(const fs::path& dir, const std::string& hostname, const std::vector<std::string>& ips,
                        const KeyedCert& serving_ca, Clock::time_point now) {
  auto key = generate_key(algorithm_of(*serving_ca.cert));
  auto cert =
      issue_certificate(kubelet_serving_profile(hostname, ips), *key, serving_ca.cert.get(), *serving_ca.key, now);
  write_file_atomic(dir / kServingKey, private_key_pem(*key));
  write_file_atomic(dir / kServingCrt, certificate_pem(*cert));
}

std::vector<std::string> read_ips(const fs::path& dir) {
  std::vector<std::string> ips;
  std::string ip_lines = read_file_or_throw(dir / kIps);
  for (std::size_t start = 0; start < ip_lines.size();) {
    auto nl = ip_lines.find('\n', start);
    if (nl == std::string::npos) nl = ip_lines.size();
    if (nl > start) ips.push_back(ip_lines.substr(start, nl - start));
    start = nl + 1;
  }
  return ips;
}

bool serving_cert_current(const fs::path& dir, const X509& serving_ca) {
  auto pem = read_file(dir / kServingCrt);
  if (!pem) return false;
  try {
    return signed_by(*certificate_from_pem(*pem), serving_ca);
  } catch (const CryptoError&) {
    return false;  // unreadable: re-issue
  }
}

// Re-issues dir's serving pair unless it is already signed by serving_ca.
bool refresh_serving(const fs::path& dir, const std::string& hostname, const KeyedCert& serving_ca,
                     Clock::time_point now) {
  if (serving_cert_current(dir, *serving_ca.cert)) return false;
  std::lock_guard lock(serving_mutex());
  if (serving_cert_current(dir, *serving_ca.cert)) return false;  // another thread did it
  write_serving_pair(dir, hostname, read_ips(dir), serving_ca, now);
  log::info("kube.node.serving_cert_reissued", {{"node", hostname}});
  return true;
}

void issue(const fs::path& dir, const std::string& hostname, const std::vector<std::string>& ips, const KeyedCert& ca,
           const KeyedCert& serving_ca, KeyAlgorithm alg, Clock::time_point now) {
  CertProfile client;
  client.common_name = "system:node:" + hostname;
  client.organizations = {"system:nodes"};
  client.client_auth = true;

  auto client_key = generate_key(alg);
  auto ssh_key = generate_key(KeyAlgorithm::ed25519);
  auto ssh = openssh_ed25519(*ssh_key, "root@" + hostname);
  // machine-id(5): 128 random bits; systemd wants the UUIDv4 bits, so set them.
  std::string id = random_bytes(16);
  id[6] = static_cast<char>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<char>((id[8] & 0x3f) | 0x80);

  write_file_atomic(dir / kMachineId, to_hex(id) + "\n");
  write_file_atomic(dir / kClientKey, private_key_pem(*client_key));
  write_file_atomic(dir / kClientCrt,
                    certificate_pem(*issue_certificate(client, *client_key, ca.cert.get(), *ca.key, now)));
  write_serving_pair(dir, hostname, ips, serving_ca, now);
  write_file_atomic(dir / kNodePassword, to_hex(random_bytes(16)) + "\n");
  write_file_atomic(dir / kSshKey, ssh.private_key);
  write_file_atomic(dir / kSshPub, ssh.public_key);
  std::string ip_lines;
  for (const auto& ip : ips) ip_lines += ip + "\n";
  write_file_atomic(dir / kIps, ip_lines);
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

  if (!fs::exists(state / (std::string(paths::kKubeletServingCa) + ".crt")))
    throw StateError(state.string() + " has no kubelet-serving CA: run `ramfleet cluster init` again");
  const auto serving_ca = load_keyed_cert(state, paths::kKubeletServingCa);
  if (!fs::exists(dir)) {
    const auto ca = load_keyed_cert(state, paths::kCa);
    make_private_dirs(nodes);
    const fs::path tmp = nodes / (".tmp-" + hostname + "-" + to_hex(random_bytes(6)));
    make_private_dirs(tmp);
    try {
      issue(tmp, hostname, ips, ca, serving_ca, algorithm_of(*ca.cert), now);
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
  } else {
    refresh_serving(dir, hostname, serving_ca, now);
  }

  NodeIdentity id;
  id.hostname = hostname;
  id.machine_id = trimmed(read_file_or_throw(dir / kMachineId));
  id.kubelet_client_cert = read_file_or_throw(dir / kClientCrt);
  id.kubelet_client_key = read_file_or_throw(dir / kClientKey);
  id.kubelet_serving_cert = read_file_or_throw(dir / kServingCrt);
  id.kubelet_serving_key = read_file_or_throw(dir / kServingKey);
  if (!key_matches_certificate(*certificate_from_pem(id.kubelet_serving_cert),
                               *private_key_from_pem(id.kubelet_serving_key))) {
    // Read between a re-issue's key and certificate writes: wait for it to end.
    std::lock_guard lock(serving_mutex());
    id.kubelet_serving_cert = read_file_or_throw(dir / kServingCrt);
    id.kubelet_serving_key = read_file_or_throw(dir / kServingKey);
    if (!key_matches_certificate(*certificate_from_pem(id.kubelet_serving_cert),
                                 *private_key_from_pem(id.kubelet_serving_key)))
      throw StateError((dir / kServingKey).string() + " does not belong to " + kServingCrt);
  }
  id.k3s_node_password = trimmed(read_file_or_throw(dir / kNodePassword));
  id.ssh_host_ed25519_key = read_file_or_throw(dir / kSshKey);
  id.ssh_host_ed25519_key_pub = read_file_or_throw(dir / kSshPub);
  id.ips = read_ips(dir);
  // kubelet.conf is derived, not stored: it follows the cluster's endpoint.
  const std::string ca_pem = read_file_or_throw(state / (std::string(paths::kCa) + ".crt"));
  id.kubelet_kubeconfig = render_kubeconfig(KubeconfigParams{info.name, info.server, ca_pem, "system:node:" + hostname,
                                                             id.kubelet_client_cert, id.kubelet_client_key});
  return id;
}

bool node_identity_issued(const fs::path& state, const std::string& hostname) {
  if (!is_dns_subdomain(hostname)) return false;
  const fs::path dir = state / "nodes" / hostname;
  std::error_code ec;
  if (!fs::exists(dir / kIps, ec)) return false;
  auto ca_pem = read_file(state / (std::string(paths::kKubeletServingCa) + ".crt"));
  if (!ca_pem) return false;
  try {
    return serving_cert_current(dir, *certificate_from_pem(*ca_pem));
  } catch (const CryptoError&) {
    return false;  // node_identity says what is wrong
  }
}

std::vector<std::string> refresh_kubelet_serving_certs(const fs::path& state, const KeyedCert& serving_ca,
                                                       Clock::time_point now) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state / "nodes", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".") || !is_dns_subdomain(name) || !entry.is_directory(ec)) continue;
    if (refresh_serving(entry.path(), name, serving_ca, now)) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ramfleet::kube
