#include "kube/pki.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/node_identity.hpp"
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

// Keeps STATE/<base>.crt+.key when both exist and pair. Otherwise issues
// what is missing without ever replacing a key: a leaf whose certificate is
// missing gets a new certificate for its existing key (a crash between the
// key's and the certificate's write leaves exactly that). A CA reaches this
// only with both halves present or both absent (check_ca_continuity).
KeyedCert ensure_keyed_cert(const fs::path& state, const std::string& base, const CertProfile& profile,
                            const KeyedCert* issuer, KeyAlgorithm algorithm, Clock::time_point now,
                            InitReport& report) {
  const fs::path crt = state / (base + ".crt");
  const fs::path key_file = state / (base + ".key");
  if (present(crt) && present(key_file)) {
    report.push_back({base + ".crt", false});
    return load_keyed_cert(state, base);
  }
  if (issuer == nullptr && (present(crt) || present(key_file)))
    throw StateError("refusing to replace one half of the CA " + base +
                     ": restore the missing file, or remove the whole state directory to start over");
  KeyedCert out;
  const bool reuse_key = present(key_file);
  out.key = reuse_key ? private_key_from_pem(read_file_or_throw(key_file)) : generate_key(algorithm);
  out.cert = issuer != nullptr ? issue_certificate(profile, *out.key, issuer->cert.get(), *issuer->key, now)
                               : issue_certificate(profile, *out.key, nullptr, *out.key, now);
  if (!reuse_key) write_file_atomic(key_file, private_key_pem(*out.key));
  write_file_atomic(crt, certificate_pem(*out.cert));
  report.push_back({base + ".crt", true});
  log::info("kube.pki.issued", {{"cert", base}, {"cn", profile.common_name}, {"kept_key", reuse_key}});
  return out;
}

// What `init` must not orphan: a CA (or the service-account key) and the
// files made with it. Making a new CA while they exist would leave a state
// whose leaves, kubeconfigs and node identities chain to a key that is gone,
// and every running node would reject the new material; so init refuses,
// names the files and says how to recover.
struct CaContinuity {
  std::string what;                       // "the cluster CA"
  std::vector<std::string> halves;        // the CA's own files, relative to STATE
  std::vector<std::string> made_with_it;  // existing files that depend on it
};

void add_if_present(const fs::path& state, const std::string& rel, std::vector<std::string>& out) {
  if (present(state / rel)) out.push_back(rel);
}

void add_pair_if_present(const fs::path& state, const std::string& base, std::vector<std::string>& out) {
  add_if_present(state, base + ".crt", out);
  add_if_present(state, base + ".key", out);
}

// Every regular file under STATE/<dir>, relative to STATE, sorted.
std::vector<std::string> files_under(const fs::path& state, const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(state / dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) out.push_back(fs::relative(it->path(), state).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Node identities: STATE/nodes/<name>/<file>, skipping half-issued temp dirs.
std::vector<std::string> node_files(const fs::path& state, const char* file) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state / "nodes", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(".")) continue;
    add_if_present(state, "nodes/" + name + "/" + file, out);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_ca_continuity(const fs::path& state) {
  std::vector<CaContinuity> cas;
  const std::string bootstrapped = "bootstrapped";  // a running cluster trusts every CA in STATE

  CaContinuity ca{"the cluster CA", {std::string(paths::kCa) + ".crt", std::string(paths::kCa) + ".key"}, {}};
  add_pair_if_present(state, paths::kApiserver, ca.made_with_it);
  add_pair_if_present(state, paths::kApiserverKubeletClient, ca.made_with_it);
  for (const char* conf :
       {paths::kAdminConf, paths::kSuperAdminConf, paths::kControllerManagerConf, paths::kSchedulerConf})
    add_if_present(state, conf, ca.made_with_it);
  for (auto& f : node_files(state, "kubelet-client.crt")) ca.made_with_it.push_back(std::move(f));
  add_if_present(state, bootstrapped, ca.made_with_it);
  cas.push_back(std::move(ca));

  CaContinuity fp{"the front-proxy CA",
                  {std::string(paths::kFrontProxyCa) + ".crt", std::string(paths::kFrontProxyCa) + ".key"},
                  {}};
  add_pair_if_present(state, paths::kFrontProxyClient, fp.made_with_it);
  add_if_present(state, bootstrapped, fp.made_with_it);
  cas.push_back(std::move(fp));

  CaContinuity etcd{"the etcd CA", {std::string(paths::kEtcdCa) + ".crt", std::string(paths::kEtcdCa) + ".key"}, {}};
  add_pair_if_present(state, paths::kApiserverEtcdClient, etcd.made_with_it);
  add_pair_if_present(state, paths::kEtcdHealthcheckClient, etcd.made_with_it);
  add_pair_if_present(state, paths::kEtcdRamfleetClient, etcd.made_with_it);
  for (auto& f : files_under(state, "pki/etcd/members")) etcd.made_with_it.push_back(std::move(f));
  add_if_present(state, bootstrapped, etcd.made_with_it);
  cas.push_back(std::move(etcd));

  // A state from before the kubelet-serving CA existed has node serving
  // certificates signed by the cluster CA: those are re-issued, not
  // orphaned. Any other serving certificate was signed by a kubelet-serving
  // CA that is now (partly) gone.
  CaContinuity ks{"the kubelet-serving CA",
                  {std::string(paths::kKubeletServingCa) + ".crt", std::string(paths::kKubeletServingCa) + ".key"},
                  {}};
  Cert cluster_ca;
  if (auto pem = read_file(state / (std::string(paths::kCa) + ".crt"))) {
    try {
      cluster_ca = certificate_from_pem(*pem);
    } catch (const CryptoError&) {
    }
  }
  for (auto& f : node_files(state, "kubelet.crt")) {
    bool old_style = false;
    if (cluster_ca) {
      try {
        old_style = signed_by(*certificate_from_pem(read_file_or_throw(state / f)), *cluster_ca);
      } catch (const CryptoError&) {
      }
    }
    if (!old_style) ks.made_with_it.push_back(std::move(f));
  }
  cas.push_back(std::move(ks));

  CaContinuity sa{"the service-account signing key", {paths::kServiceAccountKey}, {}};
  add_if_present(state, paths::kServiceAccountPub, sa.made_with_it);  // derived, but says a key existed
  add_if_present(state, bootstrapped, sa.made_with_it);
  cas.push_back(std::move(sa));

  std::string problems;
  for (const auto& c : cas) {
    std::vector<std::string> missing, kept;
    for (const auto& h : c.halves) (present(state / h) ? kept : missing).push_back(h);
    if (missing.empty()) continue;
    std::vector<std::string> depends = kept;
    depends.insert(depends.end(), c.made_with_it.begin(), c.made_with_it.end());
    if (depends.empty()) continue;  // nothing made with it: creating it is safe
    auto join = [](const std::vector<std::string>& v, std::size_t max) {
      std::string out;
      for (std::size_t i = 0; i < v.size() && i < max; ++i) out += (i ? ", " : "") + v[i];
      if (v.size() > max) out += ", ... (" + std::to_string(v.size() - max) + " more)";
      return out;
    };
    problems += "\n  " + c.what + ": " + join(missing, 2) + (missing.size() == 1 ? " is" : " are") + " missing, but " +
                join(depends, 6) + (depends.size() == 1 ? " exists" : " exist") + "; a new one would not match " +
                (depends.size() == 1 ? "it" : "them") + ". Restore " + join(missing, 2) + " from a backup";
  }
  if (!problems.empty()) {
    throw StateError("refusing to create new CAs in " + state.string() +
                     " while material made with the old ones exists (nothing was changed):" + problems +
                     "\nor, to start a new cluster, remove the whole state directory " + state.string() +
                     " (every node must then be set up again).");
  }
}

// The state directory and the PKI's directories are 0700 and their files
// 0600 whoever created them (an older ramfleet, `serve` making the state
// directory, an operator's cp -r): group and other bits are removed.
void tighten_private(const fs::path& path, bool is_dir) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;
  const mode_t want = is_dir ? (st.st_mode & 07700) : (st.st_mode & 07600);
  if ((st.st_mode & 07777) == want) return;
  if (::chmod(path.c_str(), want) != 0) throw StateError("chmod " + path.string() + " failed");
  log::warn("kube.pki.permissions_tightened", {{"path", path.string()}});
}

void tighten_state(const fs::path& state) {
  tighten_private(state, true);
  for (const char* dir : {"pki", "kubeconfig", "secrets", "nodes", "approved"}) {
    std::error_code ec;
    if (!fs::is_directory(fs::symlink_status(state / dir, ec))) continue;
    tighten_private(state / dir, true);
    for (auto it = fs::recursive_directory_iterator(state / dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_symlink(ec)) continue;
      if (it->is_directory(ec))
        tighten_private(it->path(), true);
      else if (it->is_regular_file(ec))
        tighten_private(it->path(), false);
    }
  }
  for (const char* file : {paths::kClusterInfo, "tokens.json", "bootstrapped"})
    if (present(state / file) && !fs::is_symlink(state / file)) tighten_private(state / file, false);
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

void check_cluster_name(const fs::path& state, const ClusterSpec& spec) {
  if (!present(state / paths::kClusterInfo)) return;
  ClusterInfo existing = load_cluster_info(state);
  if (existing.name != spec.name) {
    throw StateError(state.string() + " holds the PKI of cluster \"" + existing.name + "\", not \"" + spec.name +
                     "\"; use another --state directory");
  }
}

void write_cluster_info(const fs::path& state, const ClusterSpec& spec, InitReport& report) {
  const fs::path file = state / paths::kClusterInfo;
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

CertProfile kubelet_serving_profile(const std::string& node, const std::vector<std::string>& ips) {
  CertProfile p;
  p.common_name = "system:node:" + node;
  p.organizations = {"system:nodes"};
  p.server_auth = true;
  p.dns_names = {node};
  p.ip_addresses = ips;
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
  check_cluster_name(state, spec);
  check_ca_continuity(state);  // before anything is written
  make_private_dirs(state);
  tighten_state(state);
  write_cluster_info(state, spec, report);
  const KeyAlgorithm alg = spec.key_algorithm;

  const auto ca = ensure_keyed_cert(state, paths::kCa, ca_profile("kubernetes"), nullptr, alg, now, report);
  const auto fp_ca =
      ensure_keyed_cert(state, paths::kFrontProxyCa, ca_profile("front-proxy-ca"), nullptr, alg, now, report);
  const auto etcd_ca = ensure_keyed_cert(state, paths::kEtcdCa, ca_profile("etcd-ca"), nullptr, alg, now, report);
  const auto serving_ca =
      ensure_keyed_cert(state, paths::kKubeletServingCa, ca_profile("kubelet-serving-ca"), nullptr, alg, now, report);

  // Service-account tokens are signed with sa.key; sa.pub is derived from it.
  const fs::path sa_key = state / paths::kServiceAccountKey;
  Pkey sa;
  if (present(sa_key)) {  // never replaced: check_ca_continuity refused a lost one
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
  ensure_keyed_cert(state, paths::kEtcdRamfleetClient, client_profile("ramfleet"), &etcd_ca, alg, now, report);
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

  // Identities issued before the kubelet-serving CA existed carry a serving
  // certificate from the cluster CA: replace just that certificate.
  for (const auto& node : refresh_kubelet_serving_certs(state, serving_ca, now))
    report.push_back({"nodes/" + node + "/kubelet.crt", true});
  return report;
}

void ensure_ramfleet_etcd_client(const fs::path& state, KeyAlgorithm algorithm, Clock::time_point now) {
  if (present(state / (std::string(paths::kEtcdRamfleetClient) + ".crt")) &&
      present(state / (std::string(paths::kEtcdRamfleetClient) + ".key")))
    return;
  const auto etcd_ca = load_keyed_cert(state, paths::kEtcdCa);
  InitReport report;
  ensure_keyed_cert(state, paths::kEtcdRamfleetClient, client_profile("ramfleet"), &etcd_ca, algorithm, now, report);
}

std::string k3s_token(const fs::path& state) {
  std::string secret = read_file_or_throw(state / paths::kK3sServerSecret);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return k3s_secure_token(read_file_or_throw(state / (std::string(paths::kCa) + ".crt")), secret);
}

}  // namespace ramfleet::kube
