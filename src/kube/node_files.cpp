#include "kube/node_files.hpp"

#include "core/ipv4.hpp"
#include "core/log.hpp"
#include "kube/pki.hpp"
#include "kube/secret_files.hpp"
#include "kube/tokens.hpp"

namespace ramfleet::kube {

namespace fs = std::filesystem;

namespace {

constexpr const char* kBootstrapped = "bootstrapped";
constexpr auto kBootstrapTokenTtl = std::chrono::hours(24);  // kubeadm's default

bool is_secret_path(const std::string& path) {
  return path.ends_with(".key") || path.ends_with(".conf") || path.ends_with(".pem");
}

class Files {
 public:
  explicit Files(const StateReader& read) : read_(read) {}
  void add(std::string path, std::string contents, bool secret) {
    out_.push_back({std::move(path), std::move(contents), secret});
  }
  // A state file, delivered as `path` on the node.
  void copy(const std::string& state_rel, std::string path) {
    const bool secret = is_secret_path(state_rel);
    add(std::move(path), read_(state_rel), secret);
  }
  void copy_pair(const std::string& state_base, const std::string& node_base) {
    copy(state_base + ".crt", node_base + ".crt");
    copy(state_base + ".key", node_base + ".key");
  }
  std::vector<NodeFile> take() { return std::move(out_); }

 private:
  const StateReader& read_;
  std::vector<NodeFile> out_;
};

// kubeadm's stacked control plane: every file `kubeadm init` would create,
// with kubeadm's names, so it finds and keeps them (and joins need no
// --certificate-key upload).
void kubeadm_control_plane(Files& f, const ClusterSpec& spec, const NodePlacement& p) {
  const std::string pki = "/etc/kubernetes/";
  f.copy(std::string(paths::kCa) + ".key", pki + "pki/ca.key");
  for (const char* base : {paths::kFrontProxyCa, paths::kEtcdCa, paths::kApiserver, paths::kApiserverKubeletClient,
                           paths::kApiserverEtcdClient, paths::kFrontProxyClient, paths::kEtcdHealthcheckClient}) {
    f.copy_pair(base, pki + base);
  }
  // The apiserver verifies kubelets' serving certificates with this CA
  // (render.cpp: kubelet-certificate-authority); its key never leaves STATE.
  f.copy(std::string(paths::kKubeletServingCa) + ".crt", pki + paths::kKubeletServingCa + ".crt");
  f.copy(paths::kServiceAccountKey, pki + paths::kServiceAccountKey);
  f.copy(paths::kServiceAccountPub, pki + paths::kServiceAccountPub);
  // STATE keeps every member's etcd certificates; a node gets its own as
  // kubeadm names them.
  f.copy_pair(paths::etcd_member(p.member->name, "server"), pki + "pki/etcd/server");
  f.copy_pair(paths::etcd_member(p.member->name, "peer"), pki + "pki/etcd/peer");
  for (const char* conf : {paths::kAdminConf, paths::kControllerManagerConf, paths::kSchedulerConf}) {
    f.copy(conf, pki + fs::path(conf).filename().string());
  }
  // super-admin.conf exists only where admin.conf is not system:masters (kubeadm >= 1.29).
  if (admin_group(spec) != "system:masters") f.copy(paths::kSuperAdminConf, pki + "super-admin.conf");
}

// k3s reads a custom CA from its data directory on the first start of a
// server (k3s docs, "Using Custom CA Certificates"); kubeadm's CAs map onto
// its names so both distributions share one PKI and the K10 token hash
// matches the server's CA bundle.
void k3s_server(Files& f) {
  const std::string tls = "/var/lib/rancher/k3s/server/tls/";
  f.copy_pair(paths::kCa, tls + "server-ca");
  f.copy_pair(paths::kCa, tls + "client-ca");
  f.copy_pair(paths::kFrontProxyCa, tls + "request-header-ca");
  f.copy_pair(paths::kEtcdCa, tls + "etcd/server-ca");
  f.copy_pair(paths::kEtcdCa, tls + "etcd/peer-ca");
  f.copy(paths::kServiceAccountKey, tls + "service.key");
}

}  // namespace

PlacementResult place_node(const ClusterSpec& spec, const MachineView& machine, const std::string& worker_ip) {
  PlacementResult r;
  const auto roles = spec.roles_for(machine);
  if (roles.empty()) return r;
  NodePlacement p;
  p.role = roles.front();  // roles_for lists control-plane first
  p.node.name = machine.hostname;
  if (p.role == Role::control_plane) {
    for (std::size_t i = 0; i < spec.etcd_members.size(); ++i) {
      if (spec.etcd_members[i].name == machine.hostname) {
        p.member = spec.etcd_members[i];
        p.first_member = i == 0;
      }
    }
    if (!p.member) {
      r.error = "machine '" + machine.hostname +
                "' has the control-plane role but is not in cluster.yaml's etcd.members (each control-plane node is "
                "a stacked etcd member of the same name)";
      return r;
    }
    p.node.ip = p.member->ip.str();
  } else {
    if (!Ipv4::parse(worker_ip)) {
      r.error = "worker '" + machine.hostname + "' has no IPv4 address to advertise (got '" + worker_ip +
                "'; send an ip= label)";
      return r;
    }
    p.node.ip = worker_ip;
  }
  r.placement = std::move(p);
  return r;
}

bool cluster_bootstrapped(const fs::path& state) {
  std::error_code ec;
  return fs::exists(state / kBootstrapped, ec);
}

void mark_bootstrapped(const fs::path& state, const std::string& node) {
  if (cluster_bootstrapped(state)) return;
  write_file_atomic(state / kBootstrapped, "init config served to " + node + "\n");
  log::info("kube.cluster.bootstrapped", {{"node", node}});
}

void add_etcd_member_files(std::vector<NodeFile>& out, const EtcdMember& member, const etcd::MemberBoot& boot,
                           const StateReader& read_state) {
  namespace np = etcd::node_paths;
  out.push_back({np::kConf, etcd::render_conf(member.name, member.ip.str(), boot), false});
  out.push_back({np::kCa, read_state(std::string(paths::kEtcdCa) + ".crt"), false});
  for (const char* kind : {"server", "peer"}) {
    const std::string base = paths::etcd_member(member.name, kind);
    const bool server = std::string_view(kind) == "server";
    out.push_back({server ? np::kServerCert : np::kPeerCert, read_state(base + ".crt"), false});
    out.push_back({server ? np::kServerKey : np::kPeerKey, read_state(base + ".key"), true});
  }
  // Carries a one-time URL to all of the cluster's data.
  if (boot.restore) out.push_back({np::kRestoreEnv, etcd::render_restore_env(*boot.restore), true});
}

std::vector<NodeFile> assemble_node_files(const ClusterSpec& spec, const NodePlacement& p, bool init,
                                          const NodeIdentity& id, const JoinSecrets& secrets, const RamRoot& ram,
                                          const StateReader& read_state, const etcd::MemberBoot* etcd_boot) {
  Files f(read_state);
  // Who the node is: the same on every boot.
  f.add("/etc/hostname", p.node.name + "\n", false);
  f.add("/etc/machine-id", id.machine_id + "\n", false);
  f.add("/etc/ssh/ssh_host_ed25519_key", id.ssh_host_ed25519_key, true);
  f.add("/etc/ssh/ssh_host_ed25519_key.pub", id.ssh_host_ed25519_key_pub, false);

  const bool control_plane = p.role == Role::control_plane;
  if (spec.distribution == Distribution::kubeadm) {
    const std::string config = init ? render_kubeadm_init(spec, p.node, secrets, ram)
                                    : render_kubeadm_join(spec, p.role, p.node, secrets, ram);
    f.add("/etc/kubernetes/kubeadm.yaml", config, true);  // carries the bootstrap token
    f.copy(std::string(paths::kCa) + ".crt", "/etc/kubernetes/pki/ca.crt");
    f.add("/etc/kubernetes/kubelet.conf", id.kubelet_kubeconfig, true);
    // Where the kubelet keeps its client certificate (cert and key in one
    // file): with a valid one there it makes no CSR, so the Node keeps its
    // credentials across reboots.
    f.add("/var/lib/kubelet/pki/kubelet-client-current.pem", id.kubelet_client_cert + id.kubelet_client_key, true);
    f.add("/var/lib/kubelet/pki/kubelet.crt", id.kubelet_serving_cert, false);
    f.add("/var/lib/kubelet/pki/kubelet.key", id.kubelet_serving_key, true);
    if (control_plane) kubeadm_control_plane(f, spec, p);
    for (const auto& [path, text] : render_containerd_hosts(spec)) f.add(path, text, false);
  } else {
    f.add("/etc/rancher/k3s/config.yaml", render_k3s_config(spec, p.role, init, p.node, secrets), true);
    f.add("/etc/rancher/node/password", id.k3s_node_password + "\n", true);
    if (auto reg = render_k3s_registries(spec); !reg.empty()) f.add("/etc/rancher/k3s/registries.yaml", reg, false);
    if (control_plane) k3s_server(f);
  }
  auto files = f.take();
  if (spec.etcd.mode == EtcdMode::ramfleet && p.member && etcd_boot != nullptr) {
    add_etcd_member_files(files, *p.member, *etcd_boot, read_state);
  }
  return files;
}

NodeBundle node_bundle(const ClusterSpec& spec, const fs::path& state, const NodePlacement& p, const RamRoot& ram,
                       Clock::time_point now, const etcd::MemberBoot* etcd_boot) {
  const ClusterInfo info = load_cluster_info(state);
  if (info.name != spec.name) {
    throw StateError(state.string() + " holds the PKI of cluster \"" + info.name + "\" but cluster.yaml names \"" +
                     spec.name + "\"");
  }
  const std::vector<std::string> ips{p.node.ip};
  NodeIdentity id = node_identity(state, p.node.name, ips, now);

  JoinSecrets secrets;
  const auto ca_pem = read_file_or_throw(state / (std::string(paths::kCa) + ".crt"));
  secrets.discovery_hash = discovery_hash(*certificate_from_pem(ca_pem));
  secrets.k3s_token = k3s_token(state);
  if (spec.distribution == Distribution::kubeadm) {
    secrets.bootstrap_token = TokenStore(state).current(kBootstrapTokenTtl, now).str();
  }

  const StateReader read = [&state](const std::string& rel) {
    auto text = read_file(state / rel);
    if (!text) {
      throw StateError((state / rel).string() +
                       " is missing: run `ramfleet cluster init` again after editing cluster.yaml");
    }
    return std::move(*text);
  };
  NodeBundle b;
  b.init = p.first_member && !cluster_bootstrapped(state);
  b.files = assemble_node_files(spec, p, b.init, id, secrets, ram, read, etcd_boot);
  return b;
}

}  // namespace ramfleet::kube
