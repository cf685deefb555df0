// Node-name policy: which names a node may never be given (issue 10).
#include "kube/names.hpp"

#include <gtest/gtest.h>

namespace ramfleet::kube {
namespace {

ClusterSpec spec() {
  auto r = parse_cluster_spec(R"(name: unit
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: k8s.lab.example:6443
apiServer:
  certSANs: [k8s.lab.example, api.lab.example, "*.api.lab.example", 192.168.50.10]
etcd:
  members:
    - {name: cp1, ip: 192.168.50.11}
    - {name: cp2.lab.example, ip: 192.168.50.12}
    - {name: cp3, ip: 192.168.50.13}
roles:
  control-plane: [{hostname: cp1}]
)",
                              "cluster.yaml");
  EXPECT_TRUE(r.spec.has_value()) << (r.diagnostics.empty() ? "" : r.diagnostics.front().str());
  return *r.spec;
}

bool refused(std::string_view name, Role role = Role::worker) {
  return node_name_refusal(spec(), name, role).has_value();
}

TEST(NodeNamePolicy, OrdinaryNamesAreAccepted) {
  EXPECT_FALSE(refused("w1"));
  EXPECT_FALSE(refused("worker-7.lab.example"));
  EXPECT_FALSE(refused("kube-w1"));
  EXPECT_FALSE(refused("my-kubernetes"));  // only the prefix is reserved
  EXPECT_FALSE(refused("cp4", Role::control_plane));
}

TEST(NodeNamePolicy, InvalidDnsNames) {
  for (const char* bad : {"", "W1", "w_1", "-w1", "w1-", "../evil", "a/b", "w1.", ".w1", "a..b"}) {
    auto why = node_name_refusal(spec(), bad, Role::worker);
    ASSERT_TRUE(why.has_value()) << bad;
    EXPECT_NE(why->find("not a lowercase DNS name"), std::string::npos) << *why;
  }
  EXPECT_TRUE(refused(std::string(254, 'a')));
  EXPECT_TRUE(refused(std::string(64, 'a')));  // one label longer than 63
}

TEST(NodeNamePolicy, Ipv4AddressesAreNotNames) { EXPECT_TRUE(refused("192.168.50.21")); }

TEST(NodeNamePolicy, KubernetesPrefix) {
  for (const char* bad : {"kubernetes", "kubernetes.default", "kubernetes.default.svc",
                          "kubernetes.default.svc.cluster.local", "kubernetes-1"}) {
    auto why = node_name_refusal(spec(), bad, Role::control_plane);
    ASSERT_TRUE(why.has_value()) << bad;
    EXPECT_NE(why->find("kubernetes"), std::string::npos) << *why;
  }
}

TEST(NodeNamePolicy, ControlPlaneEndpointHost) {
  auto why = node_name_refusal(spec(), "k8s.lab.example", Role::control_plane);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "node name \"k8s.lab.example\" is the controlPlaneEndpoint host");
  auto s = spec();
  s.cert_sans.clear();  // the endpoint is refused on its own, not only as a SAN
  EXPECT_TRUE(node_name_refusal(s, "k8s.lab.example", Role::worker).has_value());
}

TEST(NodeNamePolicy, CertSans) {
  auto why = node_name_refusal(spec(), "api.lab.example", Role::worker);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(*why, "node name \"api.lab.example\" is covered by apiServer.certSANs entry \"api.lab.example\"");
  EXPECT_TRUE(refused("x.api.lab.example"));     // the wildcard covers one label
  EXPECT_FALSE(refused("x.y.api.lab.example"));  // but not two
  EXPECT_TRUE(refused("192.168.50.10"));         // an IP SAN is refused as an IP already
}

TEST(NodeNamePolicy, EtcdMemberNamesAreForControlPlaneNodesOnly) {
  for (const char* member : {"cp1", "cp2.lab.example", "cp3"}) {
    auto why = node_name_refusal(spec(), member, Role::worker);
    ASSERT_TRUE(why.has_value()) << member;
    EXPECT_NE(why->find("etcd member"), std::string::npos) << *why;
    EXPECT_FALSE(node_name_refusal(spec(), member, Role::control_plane).has_value()) << member;
  }
  EXPECT_FALSE(refused("cp2"));  // a different name than cp2.lab.example
}

}  // namespace
}  // namespace ramfleet::kube
