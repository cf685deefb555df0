// What a node receives: role placement, the kubeadm and k3s file sets, the
// same identity on every boot, init only until the cluster is bootstrapped.
// Certificate contents are checked with openssl in
// tests/integration/test_cluster_node_config.py.
#include "kube/node_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "kube/pki.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {
namespace {

namespace fs = std::filesystem;

ClusterSpec spec(const std::string& distribution, const std::string& version) {
  auto r = parse_cluster_spec("name: unit\nkubernetesVersion: " + version + "\ndistribution: " + distribution + R"(
controlPlaneEndpoint: 192.168.50.10:6443
etcd:
  members: [{name: cp1, ip: 192.168.50.11}, {name: cp2, ip: 192.168.50.12}, {name: cp3, ip: 192.168.50.13}]
roles:
  control-plane: [{hostname: cp1}, {hostname: cp2}, {hostname: cp3}, {hostname: cp9}]
  worker: [{labels: {pool: general}}, {hostname: cp1}]
registryMirrors:
  docker.io: [https://mirror.lab:5000]
pki: {keyAlgorithm: ecdsa-p256}
)",
                              "cluster.yaml");
  EXPECT_TRUE(r.spec) << (r.diagnostics.empty() ? "" : r.diagnostics[0].str());
  return *r.spec;
}
ClusterSpec kubeadm() { return spec("kubeadm", "v1.29.4"); }
ClusterSpec k3s() { return spec("k3s", "v1.29.4+k3s1"); }

MachineView machine(const std::string& host, std::map<std::string, std::string, std::less<>> labels = {}) {
  MachineView m;
  m.hostname = host;
  m.labels = std::move(labels);
  return m;
}

std::map<std::string, NodeFile> by_path(const std::vector<NodeFile>& files) {
  std::map<std::string, NodeFile> out;
  for (const auto& f : files) EXPECT_TRUE(out.emplace(f.path, f).second) << "duplicate " << f.path;
  return out;
}

TEST(PlaceNode, ControlPlaneIsAnEtcdMemberAtItsAddress) {
  auto r = place_node(kubeadm(), machine("cp2"), "10.0.0.7");
  ASSERT_TRUE(r.placement);
  EXPECT_EQ(r.placement->role, Role::control_plane);
  EXPECT_EQ(r.placement->node.ip, "192.168.50.12");
  EXPECT_FALSE(r.placement->first_member);
  auto first = place_node(kubeadm(), machine("cp1"), "10.0.0.7");
  ASSERT_TRUE(first.placement);
  EXPECT_EQ(first.placement->role, Role::control_plane);  // cp1 is also selected as a worker: control-plane wins
  EXPECT_TRUE(first.placement->first_member);
}

TEST(PlaceNode, WorkersAdvertiseTheirOwnAddress) {
  auto r = place_node(kubeadm(), machine("w1", {{"pool", "general"}}), "10.0.0.7");
  ASSERT_TRUE(r.placement);
  EXPECT_EQ(r.placement->role, Role::worker);
  EXPECT_EQ(r.placement->node.ip, "10.0.0.7");
  EXPECT_FALSE(r.placement->member);
}

TEST(PlaceNode, NoRoleIsNoPlacementAndNoError) {
  auto r = place_node(kubeadm(), machine("w1", {{"pool", "gpu"}}), "10.0.0.7");
  EXPECT_FALSE(r.placement);
  EXPECT_TRUE(r.error.empty());
}

TEST(PlaceNode, MisfitsAreErrors) {
  auto stray = place_node(kubeadm(), machine("cp9"), "10.0.0.7");
  EXPECT_FALSE(stray.placement);
  EXPECT_NE(stray.error.find("etcd.members"), std::string::npos) << stray.error;
  auto v6 = place_node(kubeadm(), machine("w1", {{"pool", "general"}}), "fe80::1");
  EXPECT_FALSE(v6.placement);
  EXPECT_NE(v6.error.find("IPv4"), std::string::npos) << v6.error;
}

class NodeFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state = fs::temp_directory_path() / ("ramfleet-nodefiles-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state);
  }
  void TearDown() override { fs::remove_all(state); }
  NodePlacement place(const ClusterSpec& s, const std::string& host) {
    auto r = place_node(s, machine(host, {{"pool", "general"}}), "192.168.50.21");
    EXPECT_TRUE(r.placement) << r.error;
    return *r.placement;
  }
  fs::path state;
};

TEST_F(NodeFilesTest, KubeadmWorkerGetsItsIdentityAndNoClusterKeys) {
  const auto s = kubeadm();
  init_cluster(s, state);
  const auto b = node_bundle(s, state, place(s, "w1"), RamRoot{4ULL << 30});
  EXPECT_FALSE(b.init);
  const auto files = by_path(b.files);
  for (const char* p :
       {"/etc/hostname", "/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub",
        "/etc/kubernetes/kubeadm.yaml", "/etc/kubernetes/pki/ca.crt", "/etc/kubernetes/kubelet.conf",
        "/var/lib/kubelet/pki/kubelet-client-current.pem", "/var/lib/kubelet/pki/kubelet.crt",
        "/var/lib/kubelet/pki/kubelet.key", "/etc/containerd/certs.d/docker.io/hosts.toml"}) {
    EXPECT_TRUE(files.count(p)) << p;
  }
  for (const auto& [path, f] : files) {
    EXPECT_NE(path, "/etc/kubernetes/pki/ca.key");
    EXPECT_FALSE(path.starts_with("/etc/kubernetes/pki/etcd")) << path;
    EXPECT_FALSE(path.starts_with("/etc/kubernetes/pki/kubelet-serving-ca")) << path;
    EXPECT_FALSE(path.starts_with("/var/lib/rancher")) << path;
  }
  EXPECT_EQ(files.at("/etc/hostname").contents, "w1\n");
  EXPECT_TRUE(files.at("/etc/kubernetes/kubeadm.yaml").secret);
  EXPECT_TRUE(files.at("/var/lib/kubelet/pki/kubelet-client-current.pem").secret);
  EXPECT_FALSE(files.at("/var/lib/kubelet/pki/kubelet.crt").secret);
  EXPECT_EQ(files.at("/etc/kubernetes/pki/ca.crt").contents, read_file_or_throw(state / "pki/ca.crt"));
  auto docs = YAML::LoadAll(files.at("/etc/kubernetes/kubeadm.yaml").contents);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "JoinConfiguration");
  EXPECT_EQ(docs[0]["discovery"]["bootstrapToken"]["token"].as<std::string>().size(), 23u);
  EXPECT_EQ(docs[0]["nodeRegistration"]["name"].as<std::string>(), "w1");
  std::vector<std::string> ignored;
  for (const auto& n : docs[0]["nodeRegistration"]["ignorePreflightErrors"]) ignored.push_back(n.as<std::string>());
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "FileAvailable--etc-kubernetes-pki-ca.crt"), ignored.end());
  EXPECT_NE(std::find(ignored.begin(), ignored.end(), "FileAvailable--etc-kubernetes-kubelet.conf"), ignored.end());
  EXPECT_TRUE(docs[1]["evictionHard"]);  // the RAM root size reached the kubelet config
}

TEST_F(NodeFilesTest, SameIdentityOnEveryBoot) {
  const auto s = kubeadm();
  init_cluster(s, state);
  const auto first = by_path(node_bundle(s, state, place(s, "w1"), {}).files);
  const auto again = by_path(node_bundle(s, state, place(s, "w1"), {}).files);
  for (const char* p : {"/etc/machine-id", "/etc/ssh/ssh_host_ed25519_key", "/var/lib/kubelet/pki/kubelet.crt",
                        "/var/lib/kubelet/pki/kubelet-client-current.pem", "/etc/kubernetes/kubeadm.yaml"}) {
    EXPECT_EQ(first.at(p).contents, again.at(p).contents) << p;
  }
  const auto other = by_path(node_bundle(s, state, place(s, "w2"), {}).files);
  EXPECT_NE(other.at("/etc/machine-id").contents, first.at("/etc/machine-id").contents);
}

TEST_F(NodeFilesTest, KubeadmFirstMemberInitsOnceThenJoins) {
  const auto s = kubeadm();
  init_cluster(s, state);
  auto b = node_bundle(s, state, place(s, "cp1"), {});
  EXPECT_TRUE(b.init);
  auto files = by_path(b.files);
  auto docs = YAML::LoadAll(files.at("/etc/kubernetes/kubeadm.yaml").contents);
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "InitConfiguration");
  // Every shared file kubeadm's stacked control plane needs, under its own names.
  for (const char* p : {"ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "etcd/ca.crt", "etcd/ca.key", "sa.key",
                        "sa.pub", "apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt",
                        "apiserver-etcd-client.key", "front-proxy-client.crt", "etcd/healthcheck-client.key",
                        "etcd/server.crt", "etcd/server.key", "etcd/peer.crt", "etcd/peer.key"}) {
    EXPECT_TRUE(files.count(std::string("/etc/kubernetes/pki/") + p)) << p;
  }
  // The apiserver's trust anchor for kubelets; the CA key stays in STATE.
  EXPECT_EQ(files.at("/etc/kubernetes/pki/kubelet-serving-ca.crt").contents,
            read_file_or_throw(state / "pki/kubelet-serving-ca.crt"));
  EXPECT_FALSE(files.count("/etc/kubernetes/pki/kubelet-serving-ca.key"));
  for (const char* p : {"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"}) {
    EXPECT_TRUE(files.count(std::string("/etc/kubernetes/") + p)) << p;
    EXPECT_TRUE(files.at(std::string("/etc/kubernetes/") + p).secret) << p;
  }
  EXPECT_EQ(files.at("/etc/kubernetes/pki/etcd/server.crt").contents,
            read_file_or_throw(state / "pki/etcd/members/cp1/server.crt"));

  mark_bootstrapped(state, "cp1");
  b = node_bundle(s, state, place(s, "cp1"), {});
  EXPECT_FALSE(b.init);  // a reboot of the first member joins the cluster it made
  docs = YAML::LoadAll(by_path(b.files).at("/etc/kubernetes/kubeadm.yaml").contents);
  EXPECT_EQ(docs[0]["kind"].as<std::string>(), "JoinConfiguration");
  EXPECT_TRUE(docs[0]["controlPlane"]);
}

TEST_F(NodeFilesTest, OlderKubeadmHasNoSuperAdmin) {
  const auto s = spec("kubeadm", "v1.28.3");
  init_cluster(s, state);
  const auto files = by_path(node_bundle(s, state, place(s, "cp2"), {}).files);
  EXPECT_TRUE(files.count("/etc/kubernetes/admin.conf"));
  EXPECT_FALSE(files.count("/etc/kubernetes/super-admin.conf"));
  EXPECT_EQ(files.at("/etc/kubernetes/pki/etcd/peer.crt").contents,
            read_file_or_throw(state / "pki/etcd/members/cp2/peer.crt"));
}

TEST_F(NodeFilesTest, K3sServerAndAgent) {
  const auto s = k3s();
  init_cluster(s, state);
  auto server = node_bundle(s, state, place(s, "cp1"), {});
  EXPECT_TRUE(server.init);
  auto files = by_path(server.files);
  auto config = YAML::Load(files.at("/etc/rancher/k3s/config.yaml").contents);
  EXPECT_TRUE(config["cluster-init"].as<bool>());
  EXPECT_EQ(config["token"].as<std::string>(), k3s_token(state));
  EXPECT_EQ(files.at("/etc/rancher/node/password").contents.size(), 33u);
  EXPECT_EQ(files.at("/var/lib/rancher/k3s/server/tls/server-ca.crt").contents,
            read_file_or_throw(state / "pki/ca.crt"));  // what the K10 hash pins
  EXPECT_EQ(files.at("/var/lib/rancher/k3s/server/tls/request-header-ca.key").contents,
            read_file_or_throw(state / "pki/front-proxy-ca.key"));
  EXPECT_TRUE(files.count("/var/lib/rancher/k3s/server/tls/etcd/peer-ca.key"));
  EXPECT_TRUE(files.count("/var/lib/rancher/k3s/server/tls/service.key"));
  auto reg = YAML::Load(files.at("/etc/rancher/k3s/registries.yaml").contents);
  EXPECT_EQ(reg["mirrors"]["docker.io"]["endpoint"][0].as<std::string>(), "https://mirror.lab:5000");
  EXPECT_FALSE(files.count("/etc/kubernetes/kubeadm.yaml"));

  auto agent = by_path(node_bundle(s, state, place(s, "w1"), {}).files);
  EXPECT_EQ(YAML::Load(agent.at("/etc/rancher/k3s/config.yaml").contents)["server"].as<std::string>(),
            "https://192.168.50.10:6443");
  for (const auto& [path, f] : agent) EXPECT_FALSE(path.starts_with("/var/lib/rancher/k3s/server")) << path;
  const auto again = by_path(node_bundle(s, state, place(s, "w1"), {}).files);
  EXPECT_EQ(agent.at("/etc/rancher/node/password").contents, again.at("/etc/rancher/node/password").contents);
}

TEST_F(NodeFilesTest, StateOfAnotherClusterOrMissingMaterialIsAnError) {
  const auto s = kubeadm();
  EXPECT_THROW(node_bundle(s, state, place(s, "w1"), {}), StateError);  // no cluster init yet
  init_cluster(s, state);
  auto other = s;
  other.name = "other";
  EXPECT_THROW(node_bundle(other, state, place(other, "w1"), {}), StateError);
  fs::remove_all(state / "pki/etcd/members/cp3");  // as if cp3 was added without `cluster init`
  try {
    node_bundle(s, state, place(s, "cp3"), {});
    FAIL() << "no error for missing member certificates";
  } catch (const StateError& e) {
    EXPECT_NE(std::string(e.what()).find("cluster init"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ramfleet::kube

namespace ramfleet::kube {
namespace {

// etcd.mode: ramfleet: the member gets the node contract of etcd/member_conf.hpp
// (its own certificates, keys 0600); restore.env only on a cold start.
TEST_F(NodeFilesTest, RamfleetEtcdMemberGetsTheNodeContract) {
  auto s = kubeadm();
  s.etcd.mode = EtcdMode::ramfleet;
  init_cluster(s, state);
  etcd::MemberBoot boot;
  boot.state = etcd::ClusterState::existing;
  boot.token = "ramfleet-unit";
  boot.initial_cluster = {{"cp1", "https://192.168.50.11:2380"}, {"cp2", "https://192.168.50.12:2380"}};
  auto files = by_path(node_bundle(s, state, place(s, "cp2"), {}, Clock::now(), &boot).files);
  const auto conf = YAML::Load(files.at("/etc/ramfleet/etcd/etcd.conf.yml").contents);
  EXPECT_EQ(conf["name"].as<std::string>(), "cp2");
  EXPECT_EQ(conf["initial-cluster-state"].as<std::string>(), "existing");
  EXPECT_EQ(conf["advertise-client-urls"].as<std::string>(), "https://192.168.50.12:2379");
  EXPECT_EQ(files.at("/etc/ramfleet/etcd/pki/ca.crt").contents, read_file_or_throw(state / "pki/etcd/ca.crt"));
  for (const char* kind : {"server", "peer"}) {
    const std::string node = std::string("/etc/ramfleet/etcd/pki/") + kind;
    const std::string st = std::string("pki/etcd/members/cp2/") + kind;
    EXPECT_EQ(files.at(node + ".crt").contents, read_file_or_throw(state / (st + ".crt")));
    EXPECT_EQ(files.at(node + ".key").contents, read_file_or_throw(state / (st + ".key")));
    EXPECT_TRUE(files.at(node + ".key").secret);
    EXPECT_FALSE(files.at(node + ".crt").secret);
  }
  EXPECT_FALSE(files.count("/etc/ramfleet/etcd/restore.env"));

  boot.restore = etcd::Restore{"http://192.168.50.1/etcd/snapshot/t0k3n", std::string(64, 'a')};
  files = by_path(node_bundle(s, state, place(s, "cp2"), {}, Clock::now(), &boot).files);
  EXPECT_TRUE(files.at("/etc/ramfleet/etcd/restore.env").secret);
  EXPECT_NE(files.at("/etc/ramfleet/etcd/restore.env").contents.find("RESTORE_URL=http://192.168.50.1/"),
            std::string::npos);
  // Workers and stacked etcd get none of it.
  EXPECT_FALSE(by_path(node_bundle(s, state, place(s, "w1"), {}, Clock::now(), &boot).files)
                   .count("/etc/ramfleet/etcd/etcd.conf.yml"));
  s.etcd.mode = EtcdMode::stacked;
  EXPECT_FALSE(by_path(node_bundle(s, state, place(s, "cp2"), {}, Clock::now(), &boot).files)
                   .count("/etc/ramfleet/etcd/etcd.conf.yml"));
}

}  // namespace
}  // namespace ramfleet::kube
