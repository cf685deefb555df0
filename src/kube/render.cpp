#include "kube/render.hpp"

#include <yaml-cpp/yaml.h>

namespace ramfleet::kube {

namespace {

constexpr const char* kKubeletServingCaOnNode = "/etc/kubernetes/pki/kubelet-serving-ca.crt";

// kubeadm v1beta4 arrived in 1.31; older releases read v1beta3. The fields
// used here are spelled the same in both.
std::string kubeadm_api(const ClusterSpec& spec) {
  return spec.kubernetes_version.at_least(1, 31) ? "kubeadm.k8s.io/v1beta4" : "kubeadm.k8s.io/v1beta3";
}

std::string percent_of(std::uint64_t bytes, unsigned pct) {
  // Kubelet quantities: plain bytes with the Mi suffix keep the YAML readable.
  return std::to_string(bytes * pct / 100 / (std::uint64_t{1024} * 1024)) + "Mi";
}

void node_registration(YAML::Emitter& out, const NodeRegistration& node, Role role, bool joining) {
  out << YAML::Key << "nodeRegistration" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << node.name;
  out << YAML::Key << "criSocket" << YAML::Value << "unix:///run/containerd/containerd.sock";
  // RAM-root nodes may run with zram swap; the kubelet config below decides.
  out << YAML::Key << "ignorePreflightErrors" << YAML::Value << YAML::Flow << YAML::BeginSeq << "Swap";
  // ramfleet delivers kubelet.conf (with the node's own client certificate)
  // and, to workers, the CA certificate before `kubeadm join` runs, so a
  // rebooted node comes back with the same credentials. kubeadm's preflight
  // refuses to join over those files unless told they are expected.
  if (joining) out << "FileAvailable--etc-kubernetes-kubelet.conf";
  if (joining && role == Role::worker) out << "FileAvailable--etc-kubernetes-pki-ca.crt";
  out << YAML::EndSeq;
  if (role == Role::worker) out << YAML::Key << "taints" << YAML::Value << YAML::BeginSeq << YAML::EndSeq;
  out << YAML::EndMap;
}

std::string kubelet_configuration(const ClusterSpec& spec, const RamRoot& ram) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "kubelet.config.k8s.io/v1beta1";
  out << YAML::Key << "kind" << YAML::Value << "KubeletConfiguration";
  out << YAML::Key << "cgroupDriver" << YAML::Value << "systemd";
  out << YAML::Key << "clusterDomain" << YAML::Value << spec.dns_domain;
  out << YAML::Key << "clusterDNS" << YAML::Value << YAML::BeginSeq
      << Ipv4{spec.service_subnet.network.value() + 10}.str() << YAML::EndSeq;
  out << YAML::Key << "serverTLSBootstrap" << YAML::Value << false;  // ramfleet delivers the serving cert
  out << YAML::Key << "tlsCertFile" << YAML::Value << "/var/lib/kubelet/pki/kubelet.crt";
  out << YAML::Key << "tlsPrivateKeyFile" << YAML::Value << "/var/lib/kubelet/pki/kubelet.key";
  if (ram.tmpfs_bytes > 0) {
    // Images and writable layers share the root tmpfs with the OS: evict
    // before the node runs out of RAM, and collect images well before that.
    out << YAML::Key << "evictionHard" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "memory.available" << YAML::Value << "5%";
    out << YAML::Key << "nodefs.available" << YAML::Value << percent_of(ram.tmpfs_bytes, 15);
    out << YAML::Key << "imagefs.available" << YAML::Value << percent_of(ram.tmpfs_bytes, 15);
    out << YAML::Key << "nodefs.inodesFree" << YAML::Value << "5%";
    out << YAML::EndMap;
    out << YAML::Key << "evictionSoft" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "nodefs.available" << YAML::Value << percent_of(ram.tmpfs_bytes, 25);
    out << YAML::Key << "imagefs.available" << YAML::Value << percent_of(ram.tmpfs_bytes, 25);
    out << YAML::EndMap;
    out << YAML::Key << "evictionSoftGracePeriod" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "nodefs.available" << YAML::Value << "1m";
    out << YAML::Key << "imagefs.available" << YAML::Value << "1m";
    out << YAML::EndMap;
    out << YAML::Key << "imageGCHighThresholdPercent" << YAML::Value << 60;
    out << YAML::Key << "imageGCLowThresholdPercent" << YAML::Value << 40;
  }
  out << YAML::EndMap;
  return out.c_str();
}

void join_discovery(YAML::Emitter& out, const ClusterSpec& spec, const JoinSecrets& secrets) {
  out << YAML::Key << "discovery" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "bootstrapToken" << YAML::Value << YAML::BeginMap;
  out << YAML::Key << "apiServerEndpoint" << YAML::Value << spec.control_plane_endpoint.str();
  out << YAML::Key << "token" << YAML::Value << secrets.bootstrap_token;
  out << YAML::Key << "caCertHashes" << YAML::Value << YAML::BeginSeq << secrets.discovery_hash << YAML::EndSeq;
  out << YAML::EndMap << YAML::EndMap;
}

}  // namespace

std::string render_kubeadm_init(const ClusterSpec& spec, const NodeRegistration& node, const JoinSecrets& secrets,
                                const RamRoot& ram) {
  YAML::Emitter init;
  init << YAML::BeginMap;
  init << YAML::Key << "apiVersion" << YAML::Value << kubeadm_api(spec);
  init << YAML::Key << "kind" << YAML::Value << "InitConfiguration";
  init << YAML::Key << "bootstrapTokens" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  init << YAML::Key << "token" << YAML::Value << secrets.bootstrap_token;
  init << YAML::Key << "ttl" << YAML::Value << "24h0m0s";
  init << YAML::Key << "usages" << YAML::Value << YAML::Flow << YAML::BeginSeq << "signing"
       << "authentication" << YAML::EndSeq;
  init << YAML::Key << "groups" << YAML::Value << YAML::BeginSeq << "system:bootstrappers:kubeadm:default-node-token"
       << YAML::EndSeq;
  init << YAML::EndMap << YAML::EndSeq;
  node_registration(init, node, Role::control_plane, false);
  init << YAML::Key << "localAPIEndpoint" << YAML::Value << YAML::BeginMap;
  init << YAML::Key << "advertiseAddress" << YAML::Value << node.ip;
  init << YAML::Key << "bindPort" << YAML::Value << 6443;
  init << YAML::EndMap;
  init << YAML::EndMap;

  YAML::Emitter cluster;
  cluster << YAML::BeginMap;
  cluster << YAML::Key << "apiVersion" << YAML::Value << kubeadm_api(spec);
  cluster << YAML::Key << "kind" << YAML::Value << "ClusterConfiguration";
  cluster << YAML::Key << "clusterName" << YAML::Value << spec.name;
  cluster << YAML::Key << "kubernetesVersion" << YAML::Value << spec.kubernetes_version.text;
  cluster << YAML::Key << "controlPlaneEndpoint" << YAML::Value << spec.control_plane_endpoint.str();
  cluster << YAML::Key << "certificatesDir" << YAML::Value << "/etc/kubernetes/pki";
  cluster << YAML::Key << "networking" << YAML::Value << YAML::BeginMap;
  cluster << YAML::Key << "podSubnet" << YAML::Value << spec.pod_subnet.str();
  cluster << YAML::Key << "serviceSubnet" << YAML::Value << spec.service_subnet.str();
  cluster << YAML::Key << "dnsDomain" << YAML::Value << spec.dns_domain;
  cluster << YAML::EndMap;
  cluster << YAML::Key << "apiServer" << YAML::Value << YAML::BeginMap;
  if (!spec.cert_sans.empty()) {
    cluster << YAML::Key << "certSANs" << YAML::Value << YAML::BeginSeq;
    for (const auto& san : spec.cert_sans) cluster << san;
    cluster << YAML::EndSeq;
  }
  // Kubelet serving certificates come from their own CA (pki.hpp), never the
  // cluster CA; the apiserver checks them against it for logs, exec and
  // port-forward. v1beta4 spells extraArgs as a list of name/value pairs.
  cluster << YAML::Key << "extraArgs" << YAML::Value;
  if (spec.kubernetes_version.at_least(1, 31)) {
    cluster << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "kubelet-certificate-authority"
            << YAML::Key << "value" << YAML::Value << kKubeletServingCaOnNode << YAML::EndMap << YAML::EndSeq;
  } else {
    cluster << YAML::BeginMap << YAML::Key << "kubelet-certificate-authority" << YAML::Value << kKubeletServingCaOnNode
            << YAML::EndMap;
  }
  cluster << YAML::EndMap;
  cluster << YAML::EndMap;

  return std::string(init.c_str()) + "\n---\n" + cluster.c_str() + "\n---\n" + kubelet_configuration(spec, ram) + "\n";
}

std::string render_kubeadm_join(const ClusterSpec& spec, Role role, const NodeRegistration& node,
                                const JoinSecrets& secrets, const RamRoot& ram) {
  YAML::Emitter join;
  join << YAML::BeginMap;
  join << YAML::Key << "apiVersion" << YAML::Value << kubeadm_api(spec);
  join << YAML::Key << "kind" << YAML::Value << "JoinConfiguration";
  join_discovery(join, spec, secrets);
  node_registration(join, node, role, true);
  if (role == Role::control_plane) {
    // The shared certificates are pre-placed, so no --certificate-key upload is needed.
    join << YAML::Key << "controlPlane" << YAML::Value << YAML::BeginMap;
    join << YAML::Key << "localAPIEndpoint" << YAML::Value << YAML::BeginMap;
    join << YAML::Key << "advertiseAddress" << YAML::Value << node.ip;
    join << YAML::Key << "bindPort" << YAML::Value << 6443;
    join << YAML::EndMap << YAML::EndMap;
  }
  join << YAML::EndMap;
  return std::string(join.c_str()) + "\n---\n" + kubelet_configuration(spec, ram) + "\n";
}

std::string render_k3s_config(const ClusterSpec& spec, Role role, bool first_server, const NodeRegistration& node,
                              const JoinSecrets& secrets) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "node-name" << YAML::Value << node.name;
  out << YAML::Key << "node-ip" << YAML::Value << node.ip;
  out << YAML::Key << "token" << YAML::Value << secrets.k3s_token;
  if (role == Role::control_plane) {
    if (first_server)
      out << YAML::Key << "cluster-init" << YAML::Value << true;  // embedded etcd
    else
      out << YAML::Key << "server" << YAML::Value << spec.control_plane_endpoint.url();
    out << YAML::Key << "cluster-cidr" << YAML::Value << spec.pod_subnet.str();
    out << YAML::Key << "service-cidr" << YAML::Value << spec.service_subnet.str();
    out << YAML::Key << "cluster-domain" << YAML::Value << spec.dns_domain;
    out << YAML::Key << "tls-san" << YAML::Value << YAML::BeginSeq << spec.control_plane_endpoint.host;
    for (const auto& san : spec.cert_sans)
      if (san != spec.control_plane_endpoint.host) out << san;
    out << YAML::EndSeq;
  } else {
    out << YAML::Key << "server" << YAML::Value << spec.control_plane_endpoint.url();
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string render_k3s_registries(const ClusterSpec& spec) {
  if (spec.registry_mirrors.empty()) return {};
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "mirrors" << YAML::Value << YAML::BeginMap;
  for (const auto& m : spec.registry_mirrors) {
    // k3s writes containerd's hosts.toml from this itself; "*" is its
    // wildcard for every registry, as in render_containerd_hosts.
    out << YAML::Key << m.registry << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "endpoint" << YAML::Value << YAML::BeginSeq;
    for (const auto& e : m.endpoints) out << e;
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndMap << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::map<std::string, std::string> render_containerd_hosts(const ClusterSpec& spec) {
  std::map<std::string, std::string> files;
  for (const auto& m : spec.registry_mirrors) {
    // docker.io's real endpoint is registry-1.docker.io; "*" is containerd's
    // "_default" directory (a fallback for every registry).
    const std::string dir = m.registry == "*" ? "_default" : m.registry;
    std::string text;
    if (m.registry == "docker.io")
      text += "server = \"https://registry-1.docker.io\"\n";
    else if (m.registry != "*")
      text += "server = \"https://" + m.registry + "\"\n";
    for (const auto& e : m.endpoints) text += "\n[host.\"" + e + "\"]\n  capabilities = [\"pull\", \"resolve\"]\n";
    files["/etc/containerd/certs.d/" + dir + "/hosts.toml"] = text;
  }
  return files;
}

}  // namespace ramfleet::kube
