// kubeadm / k3s / containerd rendering: parse the output back and check what
// kubeadm and k3s will read.
#include "kube/render.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <vector>

namespace ramfleet::kube {
namespace {

ClusterSpec spec(const std::string& version = "v1.29.4") {
  auto r = parse_cluster_spec("name: lab\nkubernetesVersion: " + version + R"(
distribution: kubeadm
controlPlaneEndpoint: k8s.lab.example:6443
apiServer: {certSANs: [k8s.lab.example, 192.168.50.10]}
etcd: {members: [{name: cp1, ip: 192.168.50.11}]}
roles: {control-plane: [{hostname: cp1}]}
registryMirrors:
  docker.io: [https://mirror.lab:5000]
  quay.io: [http://10.0.0.5:5001, https://mirror2.lab]
)",
                              "cluster.yaml");
  EXPECT_TRUE(r.spec) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
  return *r.spec;
}

const JoinSecrets kSecrets{"abcdef.0123456789abcdef", "sha256:" + std::string(64, 'a'), "K10aa::server:s"};
const NodeRegistration kNode{"cp1", "192.168.50.11"};

TEST(RenderKubeadm, InitCarriesClusterAndKubeletConfig) {
  auto docs = YAML::LoadAll(render_kubeadm_init(spec(), kNode, kSecrets, RamRoot{8ull << 30}));
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0]["apiVersion"].as<std::string>(), "kubeadm.k8s.io/v1beta3");
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "InitConfiguration");
  EXPECT_EQ(docs[0]["bootstrapTokens"][0]["token"].as<std::string>(), kSecrets.bootstrap_token);
  EXPECT_EQ(docs[0]["nodeRegistration"]["name"].as<std::string>(), "cp1");
  EXPECT_EQ(docs[0]["localAPIEndpoint"]["advertiseAddress"].as<std::string>(), "192.168.50.11");
  EXPECT_EQ(docs[1]["kind"].as<std::string>(), "ClusterConfiguration");
  EXPECT_EQ(docs[1]["controlPlaneEndpoint"].as<std::string>(), "k8s.lab.example:6443");
  EXPECT_EQ(docs[1]["networking"]["serviceSubnet"].as<std::string>(), "10.96.0.0/12");
  EXPECT_EQ(docs[1]["networking"]["podSubnet"].as<std::string>(), "10.244.0.0/16");
  EXPECT_EQ(docs[1]["apiServer"]["certSANs"][1].as<std::string>(), "192.168.50.10");
  // The apiserver checks kubelets against their own CA, not the cluster CA (v1beta3: a map).
  EXPECT_EQ(docs[1]["apiServer"]["extraArgs"]["kubelet-certificate-authority"].as<std::string>(),
            "/etc/kubernetes/pki/kubelet-serving-ca.crt");
  EXPECT_EQ(docs[2]["kind"].as<std::string>(), "KubeletConfiguration");
  EXPECT_EQ(docs[2]["clusterDNS"][0].as<std::string>(), "10.96.0.10");
  // 15% and 25% of an 8 GiB tmpfs.
  EXPECT_EQ(docs[2]["evictionHard"]["imagefs.available"].as<std::string>(), "1228Mi");
  EXPECT_EQ(docs[2]["evictionSoft"]["nodefs.available"].as<std::string>(), "2048Mi");
  EXPECT_LT(docs[2]["imageGCLowThresholdPercent"].as<int>(), docs[2]["imageGCHighThresholdPercent"].as<int>());
}

TEST(RenderKubeadm, NewerVersionsUseV1beta4) {
  auto docs = YAML::LoadAll(render_kubeadm_init(spec("v1.31.1"), kNode, kSecrets, RamRoot{}));
  EXPECT_EQ(docs[0]["apiVersion"].as<std::string>(), "kubeadm.k8s.io/v1beta4");
  EXPECT_FALSE(docs[2]["evictionHard"]);                // no tmpfs size known: kubelet defaults
  const auto args = docs[1]["apiServer"]["extraArgs"];  // v1beta4: a list of name/value
  ASSERT_TRUE(args.IsSequence());
  EXPECT_EQ(args[0]["name"].as<std::string>(), "kubelet-certificate-authority");
  EXPECT_EQ(args[0]["value"].as<std::string>(), "/etc/kubernetes/pki/kubelet-serving-ca.crt");
}

TEST(RenderKubeadm, JoinForWorkerAndControlPlane) {
  auto worker = YAML::LoadAll(render_kubeadm_join(spec(), Role::worker, {"w1", "192.168.50.21"}, kSecrets, {}));
  ASSERT_EQ(worker.size(), 2u);
  EXPECT_EQ(worker[0]["kind"].as<std::string>(), "JoinConfiguration");
  EXPECT_EQ(worker[0]["discovery"]["bootstrapToken"]["apiServerEndpoint"].as<std::string>(), "k8s.lab.example:6443");
  EXPECT_EQ(worker[0]["discovery"]["bootstrapToken"]["caCertHashes"][0].as<std::string>(), kSecrets.discovery_hash);
  EXPECT_FALSE(worker[0]["controlPlane"]);
  auto cp = YAML::LoadAll(render_kubeadm_join(spec(), Role::control_plane, {"cp2", "192.168.50.12"}, kSecrets, {}));
  EXPECT_EQ(cp[0]["controlPlane"]["localAPIEndpoint"]["advertiseAddress"].as<std::string>(), "192.168.50.12");
}

TEST(RenderK3s, ServerAndAgent) {
  auto first = YAML::Load(render_k3s_config(spec(), Role::control_plane, true, kNode, kSecrets));
  EXPECT_TRUE(first["cluster-init"].as<bool>());
  EXPECT_FALSE(first["server"]);
  EXPECT_EQ(first["token"].as<std::string>(), kSecrets.k3s_token);
  EXPECT_EQ(first["tls-san"].size(), 2u);
  auto second = YAML::Load(render_k3s_config(spec(), Role::control_plane, false, {"cp2", "192.168.50.12"}, kSecrets));
  EXPECT_EQ(second["server"].as<std::string>(), "https://k8s.lab.example:6443");
  auto agent = YAML::Load(render_k3s_config(spec(), Role::worker, false, {"w1", "192.168.50.21"}, kSecrets));
  EXPECT_EQ(agent["server"].as<std::string>(), "https://k8s.lab.example:6443");
  EXPECT_FALSE(agent["cluster-cidr"]);
  EXPECT_EQ(agent["node-name"].as<std::string>(), "w1");
}

TEST(RenderContainerd, HostsTomlPerMirror) {
  auto files = render_containerd_hosts(spec());
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files.at("/etc/containerd/certs.d/docker.io/hosts.toml"),
            "server = \"https://registry-1.docker.io\"\n\n[host.\"https://mirror.lab:5000\"]\n  capabilities = "
            "[\"pull\", \"resolve\"]\n");
  const auto& quay = files.at("/etc/containerd/certs.d/quay.io/hosts.toml");
  EXPECT_LT(quay.find("http://10.0.0.5:5001"), quay.find("https://mirror2.lab"));  // order is preference
}

}  // namespace
}  // namespace ramfleet::kube
