#include "kube/pki.hpp"

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;
using std::chrono::hours;

std::string paths::etcd_member(const std::string& name, const char* kind) {
  return "pki/etcd/members/" + name + "/" + kind;
}

namespace {

constexpr auto kCaValidity = hours(24 * 365 * 10);  // kubeadm: 10 years
constexpr auto kLeafValidity = hours(24 * 365);     // kubeadm: 1 year

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Keeps STATE/<base>.crt+.key when both exist and pair; otherwise issues a new
// pair. The key is written before the certificate, so a crash in between
// leaves a key without certificate, which the next run replaces.
KeyedCert ensure_keyed_cert(const fs::path& state, const std::string& base, const CertProfile& profile,
                            const KeyedCert* issuer, KeyAlgorithm algorithm, Clock::time_point now,
                            InitReport& report) {
  const fs::path crt = state / (base + ".crt");
  if (present(crt)) {
    report.push_back({base + ".crt", false});
    return load_keyed_cert(state, base);
  }
  KeyedCert out;
  out.key = generate_key(algorithm);
  out.cert = issuer != nullptr ? issue_certificate(profile, *out.key, issuer->cert.get(), *issuer->key, now)
                               : issue_certificate(profile, *out.key, nullptr, *out.key, now);
  write_file_atomic(state / (base + ".key"), private_key_pem(*out.key));
  write_file_atomic(crt, certificate_pem(*out.cert));
  report.push_back({base + ".crt", true});
  log::info("kube.pki.issued", {{"cert", base}, {"cn", profile.common_name}});
  return out;
}

void ensure_kubeconfig(const fs::path& state, const char* rel, const ClusterSpec& spec, const KeyedCert& ca,
                       const std::string& user, const CertProfile& profile, Clock::time_point now, InitReport& report) {
  const fs::path file = state / rel;
  if (present(file)) {
    report.push_back({rel, false});
    return;
  }
  auto key = generate_key(spec.key_algorithm);
  auto cert = issue_certificate(profile, *key, ca.cert.get(), *ca.key, now);
  KubeconfigParams p{spec.name,
                     spec.control_plane_endpoint.url(),
                     certificate_pem(*ca.cert),
                     user,
                     certificate_pem(*cert),
                     private_key_pem(*key)};
  write_file_atomic(file, render_kubeconfig(p));
  report.push_back({rel, true});
  log::info("kube.pki.kubeconfig", {{"file", rel}, {"user", profile.common_name}});
}

void check_or_write_cluster_info(const fs::path& state, const ClusterSpec& spec, InitReport& report) {
  const fs::path file = state / paths::kClusterInfo;
  if (auto text = read_file(file)) {
    ClusterInfo existing = load_cluster_info(state);
    if (existing.name != spec.name) {
      throw StateError(state.string() + " holds the PKI of cluster \"" + existing.name + "\", not \"" + spec.name +
                       "\"; use another --state directory");
    }
  }
  nlohmann::json j{{"name", spec.name},
                   {"server", spec.control_plane_endpoint.url()},
                   {"distribution", std::string(to_string(spec.distribution))},
                   {"kubernetesVersion", spec.kubernetes_version.text}};
  const std::string text = j.dump(2) + "\n";
  const bool same = read_file(file) == text;
  if (!same) write_file_atomic(file, text);
  report.push_back({paths::kClusterInfo, !same});
}

}  // namespace

CertProfile ca_profile(const std::string& common_name) {
  CertProfile p;
  p.common_name = common_name;
  p.is_ca = true;
  p.dns_names = {common_name};  // newer kubeadm (client-go certutil) adds the CN as a SAN
  p.validity = kCaValidity;
  return p;
}

CertProfile apiserver_profile(const ClusterSpec& spec) {
  CertProfile p;
  p.common_name = "kube-apiserver";
  p.server_auth = true;
  p.validity = kLeafValidity;
  auto add_dns = [&](const std::string& n) {
    if (std::find(p.dns_names.begin(), p.dns_names.end(), n) == p.dns_names.end()) p.dns_names.push_back(n);
  };
  auto add_ip = [&](const std::string& n) {
    if (std::find(p.ip_addresses.begin(), p.ip_addresses.end(), n) == p.ip_addresses.end()) p.ip_addresses.push_back(n);
  };
  auto add_any = [&](const std::string& n) { Ipv4::parse(n) ? add_ip(n) : add_dns(n); };
  // One certificate for every control-plane member (kubeadm issues one per
  // node): each member's name and address, plus the in-cluster names.
  for (const auto& m : spec.etcd_members) add_dns(m.name);
  add_dns("kubernetes");
  add_dns("kubernetes.default");
  add_dns("kubernetes.default.svc");
  add_dns("kubernetes.default.svc." + spec.dns_domain);
  add_ip(spec.apiserver_service_ip().str());
  for (const auto& m : spec.etcd_members) add_ip(m.ip.str());
  add_any(spec.control_plane_endpoint.host);
  for (const auto& san : spec.cert_sans) add_any(san);
  // k3s agents and local clients reach the apiserver on loopback.
  if (spec.distribution == Distribution::k3s) {
    add_dns("localhost");
    add_ip("127.0.0.1");
  }
  return p;
}

CertProfile etcd_member_profile(const EtcdMember& member) {
  CertProfile p;
  p.common_name = member.name;
  p.server_auth = true;
  p.client_auth = true;  // etcd dials its peers with the same certificate
  p.dns_names = {member.name, "localhost"};
  p.ip_addresses = {member.ip.str(), "127.0.0.1", "::1"};
  p.validity = kLeafValidity;
  return p;
}

CertProfile client_profile(const std::string& cn, std::vector<std::string> organizations) {
  CertProfile p;
  p.common_name = cn;
  p.organizations = std::move(organizations);
  p.client_auth = true;
  p.validity = kLeafValidity;
  return p;
}

std::string admin_group(const ClusterSpec& spec) {
  if (spec.distribution == Distribution::kubeadm && spec.kubernetes_version.at_least(1, 29))
    return "kubeadm:cluster-admins";
  return "system:masters";
}

KeyedCert load_keyed_cert(const fs::path& state, const std::string& base) {
  KeyedCert out;
  out.cert = certificate_from_pem(read_file_or_throw(state / (base + ".crt")));
  out.key = private_key_from_pem(read_file_or_throw(state / (base + ".key")));
  if (!key_matches_certificate(*out.cert, *out.key))
    throw StateError((state / (base + ".key")).string() + " does not belong to " + base + ".crt");
  return out;
}

ClusterInfo load_cluster_info(const fs::path& state) {
  const fs::path file = state / paths::kClusterInfo;
  auto text = read_file(file);
  if (!text) throw StateError(state.string() + " has no cluster; run `ramfleet cluster init` first");
  try {
    auto j = nlohmann::json::parse(*text);
    ClusterInfo info;
    info.name = j.at("name").get<std::string>();
    info.server = j.at("server").get<std::string>();
    info.distribution = j.at("distribution").get<std::string>() == "k3s" ? Distribution::k3s : Distribution::kubeadm;
    info.kubernetes_version = j.at("kubernetesVersion").get<std::string>();
    return info;
  } catch (const nlohmann::json::exception& e) {
    throw StateError(file.string() + ": " + e.what());
  }
}

InitReport init_cluster(const ClusterSpec& spec, const fs::path& state, Clock::time_point now) {
  InitReport report;
  make_private_dirs(state);
  check_or_write_cluster_info(state, spec, report);
  const KeyAlgorithm alg = spec.key_algorithm;

  const auto ca = ensure_keyed_cert(state, paths::kCa, ca_profile("kubernetes"), nullptr, alg, now, report);
  const auto fp_ca =
      ensure_keyed_cert(state, paths::kFrontProxyCa, ca_profile("front-proxy-ca"), nullptr, alg, now, report);
  const auto etcd_ca = ensure_keyed_cert(state, paths::kEtcdCa, ca_profile("etcd-ca"), nullptr, alg, now, report);

  // Service-account tokens are signed with sa.key; sa.pub is derived from it.
  const fs::path sa_key = state / paths::kServiceAccountKey;
  Pkey sa;
  if (present(sa_key)) {
    sa = private_key_from_pem(read_file_or_throw(sa_key));
    report.push_back({paths::kServiceAccountKey, false});
  } else {
    sa = generate_key(KeyAlgorithm::rsa2048);  // kubeadm: RSA regardless of the cert algorithm
    write_file_atomic(sa_key, private_key_pem(*sa));
    report.push_back({paths::kServiceAccountKey, true});
  }
  const std::string sa_pub = public_key_pem(*sa);
  const bool pub_same = read_file(state / paths::kServiceAccountPub) == sa_pub;
  if (!pub_same) write_file_atomic(state / paths::kServiceAccountPub, sa_pub);
  report.push_back({paths::kServiceAccountPub, !pub_same});

  const bool modern = admin_group(spec) == "kubeadm:cluster-admins";
  ensure_keyed_cert(state, paths::kApiserver, apiserver_profile(spec), &ca, alg, now, report);
  ensure_keyed_cert(
      state, paths::kApiserverKubeletClient,
      client_profile("kube-apiserver-kubelet-client", {modern ? "kubeadm:cluster-admins" : "system:masters"}), &ca, alg,
      now, report);
  ensure_keyed_cert(state, paths::kFrontProxyClient, client_profile("front-proxy-client"), &fp_ca, alg, now, report);
  ensure_keyed_cert(state, paths::kApiserverEtcdClient,
                    client_profile("kube-apiserver-etcd-client",
                                   modern ? std::vector<std::string>{} : std::vector<std::string>{"system:masters"}),
                    &etcd_ca, alg, now, report);
  ensure_keyed_cert(state, paths::kEtcdHealthcheckClient,
                    client_profile("kube-etcd-healthcheck-client",
                                   modern ? std::vector<std::string>{} : std::vector<std::string>{"system:masters"}),
                    &etcd_ca, alg, now, report);
  for (const auto& m : spec.etcd_members) {
    ensure_keyed_cert(state, paths::etcd_member(m.name, "server"), etcd_member_profile(m), &etcd_ca, alg, now, report);
    ensure_keyed_cert(state, paths::etcd_member(m.name, "peer"), etcd_member_profile(m), &etcd_ca, alg, now, report);
  }

  ensure_kubeconfig(state, paths::kAdminConf, spec, ca, "kubernetes-admin",
                    client_profile("kubernetes-admin", {admin_group(spec)}), now, report);
  if (modern) {
    ensure_kubeconfig(state, paths::kSuperAdminConf, spec, ca, "kubernetes-super-admin",
                      client_profile("kubernetes-super-admin", {"system:masters"}), now, report);
  }
  ensure_kubeconfig(state, paths::kControllerManagerConf, spec, ca, "system:kube-controller-manager",
                    client_profile("system:kube-controller-manager"), now, report);
  ensure_kubeconfig(state, paths::kSchedulerConf, spec, ca, "system:kube-scheduler",
                    client_profile("system:kube-scheduler"), now, report);

  const fs::path k3s_secret = state / paths::kK3sServerSecret;
  if (present(k3s_secret)) {
    report.push_back({paths::kK3sServerSecret, false});
  } else {
    write_file_atomic(k3s_secret, random_string("abcdefghijklmnopqrstuvwxyz0123456789", 32) + "\n");
    report.push_back({paths::kK3sServerSecret, true});
  }
  return report;
}

std::string k3s_token(const fs::path& state) {
  std::string secret = read_file_or_throw(state / paths::kK3sServerSecret);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return k3s_secure_token(read_file_or_throw(state / (std::string(paths::kCa) + ".crt")), secret);
}

}  // namespace ramfleet::kube
