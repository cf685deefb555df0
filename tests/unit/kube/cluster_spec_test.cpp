// cluster.yaml parsing and validation: every error names file:line:column.
#include "kube/cluster_spec.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ramfleet::kube {
namespace {

constexpr const char* kGood = R"(name: lab
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: k8s.lab.example:6443
networking:
  podSubnet: 10.244.0.0/16
  serviceSubnet: 10.96.0.0/12
  dnsDomain: cluster.local
apiServer:
  certSANs: [k8s.lab.example, 192.168.50.10]
etcd:
  members:
    - {name: cp1, ip: 192.168.50.11}
    - {name: cp2, ip: 192.168.50.12}
    - {name: cp3, ip: 192.168.50.13}
roles:
  control-plane:
    - hostname: cp1
    - mac: "52:54:00:00:00:02"
    - labels: {role: cp}
  worker:
    - labels: {pool: general, rack: r1}
registryMirrors:
  docker.io: [https://mirror.lab:5000]
pki:
  keyAlgorithm: ecdsa-p256
)";

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto pos = text.find(from);
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) text.replace(pos, from.size(), to);
  return text;
}

// The errors, printed as the user sees them; a single error without newline.
std::string only_error(const std::string& yaml) {
  auto r = parse_cluster_spec(yaml, "cluster.yaml");
  EXPECT_FALSE(r.spec.has_value());
  std::string all;
  for (const auto& d : r.diagnostics) all += d.str() + "\n";
  return r.diagnostics.empty() ? "" : r.diagnostics.size() == 1 ? r.diagnostics[0].str() : all;
}

TEST(ClusterSpec, GoodSpecParses) {
  auto r = parse_cluster_spec(kGood, "cluster.yaml");
  ASSERT_TRUE(r.spec.has_value()) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
  const auto& s = *r.spec;
  EXPECT_EQ(s.name, "lab");
  EXPECT_EQ(s.kubernetes_version.minor, 29);
  EXPECT_EQ(s.distribution, Distribution::kubeadm);
  EXPECT_EQ(s.control_plane_endpoint.url(), "https://k8s.lab.example:6443");
  EXPECT_EQ(s.service_subnet.str(), "10.96.0.0/12");
  EXPECT_EQ(s.apiserver_service_ip().str(), "10.96.0.1");
  ASSERT_EQ(s.etcd_members.size(), 3u);
  EXPECT_EQ(s.etcd_members[2].ip.str(), "192.168.50.13");
  EXPECT_EQ(s.control_plane.size(), 3u);
  ASSERT_EQ(s.registry_mirrors.size(), 1u);
  EXPECT_EQ(s.registry_mirrors[0].endpoints[0], "https://mirror.lab:5000");
  EXPECT_EQ(s.key_algorithm, KeyAlgorithm::ecdsa_p256);
}

TEST(ClusterSpec, DefaultsFollowTheDistribution) {
  std::string yaml = replace(kGood, "distribution: kubeadm", "distribution: k3s");
  yaml = replace(yaml, "  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\n", "");
  auto r = parse_cluster_spec(yaml, "cluster.yaml");
  ASSERT_TRUE(r.spec.has_value());
  EXPECT_EQ(r.spec->pod_subnet.str(), "10.42.0.0/16");
  EXPECT_EQ(r.spec->service_subnet.str(), "10.43.0.0/16");
}

TEST(ClusterSpec, OverlappingCidrs) {
  auto yaml = replace(kGood, "podSubnet: 10.244.0.0/16", "podSubnet: 10.100.0.0/16");
  EXPECT_EQ(only_error(yaml),
            "cluster.yaml:7:18: error: networking.serviceSubnet 10.96.0.0/12 overlaps networking.podSubnet "
            "10.100.0.0/16");
}

TEST(ClusterSpec, EndpointNotInCertSans) {
  auto yaml = replace(kGood, "certSANs: [k8s.lab.example, 192.168.50.10]", "certSANs: [k8s.example, 192.168.50.10]");
  EXPECT_EQ(only_error(yaml),
            "cluster.yaml:4:23: error: controlPlaneEndpoint: host \"k8s.lab.example\" is not in apiServer.certSANs "
            "(line 10); clients would reject the apiserver certificate");
}

TEST(ClusterSpec, NoControlPlaneSelector) {
  auto yaml = replace(
      kGood, "  control-plane:\n    - hostname: cp1\n    - mac: \"52:54:00:00:00:02\"\n    - labels: {role: cp}\n", "");
  EXPECT_EQ(only_error(yaml),
            "cluster.yaml:17:3: error: roles.control-plane: no machine selector; the cluster would have no control "
            "plane");
}

TEST(ClusterSpec, EvenNumberOfEtcdMembers) {
  auto yaml = replace(kGood, "    - {name: cp3, ip: 192.168.50.13}\n", "");
  EXPECT_EQ(only_error(yaml),
            "cluster.yaml:13:5: error: etcd.members: 2 members is an even number; use an odd number (1, 3, 5) so a "
            "quorum survives a partition");
}

TEST(ClusterSpec, UnknownKey) {
  auto yaml = replace(kGood, "  dnsDomain: cluster.local\n", "  dnsDomain: cluster.local\n  podCidr: 10.0.0.0/8\n");
  EXPECT_EQ(only_error(yaml),
            "cluster.yaml:9:3: error: unknown key 'podCidr' in networking (expected one of: podSubnet, "
            "serviceSubnet, dnsDomain)");
}

TEST(ClusterSpec, WrongTypes) {
  EXPECT_EQ(only_error(replace(kGood, "networking:\n  podSubnet", "networking: [1]\nxnetworking:\n  podSubnet")),
            "cluster.yaml:5:13: error: networking: expected a mapping, found a list\n"
            "cluster.yaml:6:1: error: unknown key 'xnetworking' in cluster spec (expected one of: name, "
            "kubernetesVersion, distribution, controlPlaneEndpoint, networking, apiServer, etcd, roles, "
            "registryMirrors, pki)\n");
  EXPECT_EQ(only_error(replace(kGood, "name: lab", "name: {a: b}")),
            "cluster.yaml:1:7: error: name: expected a string, found a mapping");
  EXPECT_EQ(only_error(replace(kGood, "distribution: kubeadm", "distribution: rke2")),
            "cluster.yaml:3:15: error: distribution: \"rke2\" is not one of: kubeadm, k3s");
  EXPECT_EQ(only_error(replace(kGood, "podSubnet: 10.244.0.0/16", "podSubnet: 10.244.0.0/33")),
            "cluster.yaml:6:14: error: networking.podSubnet: \"10.244.0.0/33\" is not an IPv4 CIDR like 10.96.0.0/12");
  EXPECT_EQ(only_error(replace(kGood, "- {name: cp2, ip: 192.168.50.12}", "- {name: cp2, ip: 192.168.50.300}")),
            "cluster.yaml:14:23: error: etcd.members[1].ip: \"192.168.50.300\" is not an IPv4 address");
  EXPECT_EQ(only_error(replace(kGood, "mac: \"52:54:00:00:00:02\"", "mac: \"52:54:00:00:00\"")),
            "cluster.yaml:19:12: error: roles.control-plane[1].mac: \"52:54:00:00:00\" is not a MAC address like "
            "52:54:00:12:34:56");
}

TEST(ClusterSpec, MissingRequiredKeyPointsAtParent) {
  EXPECT_EQ(only_error(replace(kGood, "kubernetesVersion: v1.29.4\n", "")),
            "cluster.yaml:1:1: error: cluster spec: missing required key 'kubernetesVersion'");
}

TEST(ClusterSpec, SyntaxErrorHasPosition) {
  auto r = parse_cluster_spec("name: lab\nroles: [a, b\n", "cluster.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1u);
  // at the '[' that is never closed (yaml-cpp alone says 3:1, the end of the text)
  EXPECT_EQ(r.diagnostics[0].line, 2u);
  EXPECT_EQ(r.diagnostics[0].column, 8u);
  EXPECT_NE(r.diagnostics[0].message.find("YAML syntax"), std::string::npos);
}

TEST(ClusterSpec, HostBitsAndWideServiceRange) {
  EXPECT_EQ(only_error(replace(kGood, "serviceSubnet: 10.96.0.0/12", "serviceSubnet: 172.0.0.0/8")),
            "cluster.yaml:7:18: error: networking.serviceSubnet: 172.0.0.0/8 is wider than /12, which kube-apiserver "
            "refuses");
  EXPECT_EQ(only_error(replace(kGood, "podSubnet: 10.244.0.0/16", "podSubnet: 10.244.1.0/16")),
            "cluster.yaml:6:14: error: networking.podSubnet: \"10.244.1.0/16\" has host bits set; did you mean "
            "10.244.0.0/16?");
}

TEST(ClusterSpec, EmptySelectorIsRejected) {
  EXPECT_EQ(only_error(replace(kGood, "    - labels: {role: cp}\n", "    - {}\n")),
            "cluster.yaml:20:7: error: roles.control-plane[2]: an empty selector would match every machine; give mac, "
            "hostname or labels");
}

TEST(Selector, RolesForMachine) {
  auto spec = *parse_cluster_spec(kGood, "cluster.yaml").spec;
  MachineView cp1{std::nullopt, "cp1", {}};
  MachineView by_mac{MacAddress::parse("52:54:00:00:00:02"), "whatever", {}};
  MachineView worker{std::nullopt, "w1", {{"pool", "general"}, {"rack", "r1"}, {"extra", "x"}}};
  MachineView partial{std::nullopt, "w2", {{"pool", "general"}}};
  EXPECT_EQ(spec.roles_for(cp1), std::vector<Role>{Role::control_plane});
  EXPECT_EQ(spec.roles_for(by_mac), std::vector<Role>{Role::control_plane});
  EXPECT_EQ(spec.roles_for(worker), std::vector<Role>{Role::worker});
  EXPECT_TRUE(spec.roles_for(partial).empty());  // all labels of a selector must match
  // The inventory module can plug its own matching rule in.
  auto everything = [](const Selector&, const MachineView&) { return true; };
  EXPECT_EQ(spec.roles_for(partial, everything).size(), 2u);
}

TEST(KubernetesVersion, Parses) {
  EXPECT_TRUE(KubernetesVersion::parse("v1.29.4")->at_least(1, 29));
  EXPECT_FALSE(KubernetesVersion::parse("1.28.9")->at_least(1, 29));
  EXPECT_EQ(KubernetesVersion::parse("v1.30.2+k3s1")->patch, 2);
  EXPECT_FALSE(KubernetesVersion::parse("v1.29"));
  EXPECT_FALSE(KubernetesVersion::parse("latest"));
}

}  // namespace
}  // namespace ramfleet::kube

namespace ramfleet::kube {
namespace {

TEST(ClusterSpec, EtcdModeAndSnapshots) {
  auto r = parse_cluster_spec(kGood, "cluster.yaml");
  ASSERT_TRUE(r.spec.has_value());
  EXPECT_EQ(r.spec->etcd.mode, EtcdMode::stacked);
  EXPECT_EQ(r.spec->etcd.snapshot_interval, std::chrono::minutes(5));
  EXPECT_EQ(r.spec->etcd.snapshot_keep, 5u);
  const auto yaml = replace(kGood, "etcd:\n", "etcd:\n  mode: ramfleet\n  snapshot: {interval: 1m30s, keep: 3}\n");
  r = parse_cluster_spec(yaml, "cluster.yaml");
  ASSERT_TRUE(r.spec.has_value()) << r.diagnostics[0].str();
  EXPECT_EQ(r.spec->etcd.mode, EtcdMode::ramfleet);
  EXPECT_EQ(r.spec->etcd.snapshot_interval, std::chrono::seconds(90));
  EXPECT_EQ(r.spec->etcd.snapshot_keep, 3u);
}

TEST(ClusterSpec, BadEtcdOptionsNameTheirPlace) {
  EXPECT_EQ(only_error(replace(kGood, "etcd:\n", "etcd:\n  mode: k8s\n")),
            "cluster.yaml:12:9: error: etcd.mode: \"k8s\" is not one of: stacked, ramfleet");
  EXPECT_EQ(only_error(replace(kGood, "etcd:\n", "etcd:\n  snapshot: {interval: 2s}\n")),
            "cluster.yaml:12:24: error: etcd.snapshot.interval: \"2s\" is not a duration of at least 10s (like 5m)");
  EXPECT_EQ(only_error(replace(kGood, "etcd:\n", "etcd:\n  snapshot: {keep: 0}\n")),
            "cluster.yaml:12:20: error: etcd.snapshot.keep: \"0\" is not a number from 1 to 1000");
  EXPECT_EQ(only_error(replace(kGood, "etcd:\n", "etcd:\n  snapshot: {every: 1m}\n")),
            "cluster.yaml:12:14: error: unknown key 'every' in etcd.snapshot (expected one of: interval, keep)");
}

}  // namespace
}  // namespace ramfleet::kube
