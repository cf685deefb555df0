// Certificate profiles and the state directory's idempotence; the openssl,
// kubectl and etcd checks live in tests/integration/test_kube_*.py.
#include "kube/pki.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "kube/cluster_spec.hpp"
#include "kube/node_identity.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::kube {
namespace {

namespace fs = std::filesystem;

ClusterSpec spec() {
  auto r = parse_cluster_spec(R"(name: unit
kubernetesVersion: v1.29.4
distribution: kubeadm
controlPlaneEndpoint: 192.168.50.10:6443
networking: {serviceSubnet: 10.96.0.0/12, dnsDomain: corp.local}
etcd:
  members: [{name: cp1, ip: 192.168.50.11}]
roles:
  control-plane: [{hostname: cp1}]
pki: {keyAlgorithm: ecdsa-p256}
)",
                              "cluster.yaml");
  EXPECT_TRUE(r.spec.has_value());
  return *r.spec;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(PkiProfiles, ApiserverSansAreKubeadms) {
  auto p = apiserver_profile(spec());
  EXPECT_EQ(p.common_name, "kube-apiserver");
  EXPECT_TRUE(p.server_auth);
  EXPECT_FALSE(p.client_auth);
  for (const char* dns :
       {"cp1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.corp.local"})
    EXPECT_TRUE(has(p.dns_names, dns)) << dns;
  for (const char* ip : {"10.96.0.1", "192.168.50.11", "192.168.50.10"}) EXPECT_TRUE(has(p.ip_addresses, ip)) << ip;
}

TEST(PkiProfiles, AdminGroupFollowsVersion) {
  auto s = spec();
  EXPECT_EQ(admin_group(s), "kubeadm:cluster-admins");
  s.kubernetes_version = *KubernetesVersion::parse("v1.28.3");
  EXPECT_EQ(admin_group(s), "system:masters");
}

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state = fs::temp_directory_path() / ("ramfleet-pki-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state);
  }
  void TearDown() override { fs::remove_all(state); }
  fs::path state;
};

TEST_F(StateTest, InitIsIdempotentAndPrivate) {
  auto first = init_cluster(spec(), state);
  EXPECT_TRUE(std::all_of(first.begin(), first.end(), [](const auto& i) { return i.created; }));
  const std::string ca = read_file_or_throw(state / "pki/ca.crt");
  auto second = init_cluster(spec(), state);
  EXPECT_EQ(first.size(), second.size());
  EXPECT_TRUE(std::none_of(second.begin(), second.end(), [](const auto& i) { return i.created; }));
  EXPECT_EQ(read_file_or_throw(state / "pki/ca.crt"), ca);
  for (const auto& e : fs::recursive_directory_iterator(state)) {
    const auto perms = e.status().permissions() & fs::perms::all;
    if (e.is_directory())
      EXPECT_EQ(perms, fs::perms::owner_all) << e.path();
    else
      EXPECT_EQ(perms, fs::perms::owner_read | fs::perms::owner_write) << e.path();
  }
}

TEST_F(StateTest, MissingLeafIsReissuedFromExistingCa) {
  init_cluster(spec(), state);
  const std::string ca = read_file_or_throw(state / "pki/ca.crt");
  const std::string old = read_file_or_throw(state / "pki/apiserver.crt");
  fs::remove(state / "pki/apiserver.crt");
  auto report = init_cluster(spec(), state);
  EXPECT_EQ(std::count_if(report.begin(), report.end(), [](const auto& i) { return i.created; }), 1);
  EXPECT_EQ(read_file_or_throw(state / "pki/ca.crt"), ca);
  EXPECT_NE(read_file_or_throw(state / "pki/apiserver.crt"), old);
}

TEST_F(StateTest, RefusesAnotherClustersState) {
  init_cluster(spec(), state);
  auto other = spec();
  other.name = "other";
  EXPECT_THROW(init_cluster(other, state), StateError);
}

TEST_F(StateTest, UnpairedKeyIsAnError) {
  init_cluster(spec(), state);
  fs::copy_file(state / "pki/front-proxy-ca.key", state / "pki/ca.key", fs::copy_options::overwrite_existing);
  EXPECT_THROW(init_cluster(spec(), state), StateError);
}

TEST_F(StateTest, NodeIdentityIsIssuedOnceEvenUnderRace) {
  init_cluster(spec(), state);
  auto fetch = [&] { return node_identity(state, "w1", {"192.168.50.21"}); };
  auto a = std::async(std::launch::async, fetch);
  auto b = std::async(std::launch::async, fetch);
  auto ia = a.get(), ib = b.get();
  EXPECT_EQ(ia.kubelet_client_key, ib.kubelet_client_key);
  EXPECT_EQ(ia.machine_id, ib.machine_id);
  auto later = node_identity(state, "w1", {"10.0.0.99"});  // IPs only matter at first issue
  EXPECT_EQ(later.kubelet_serving_cert, ia.kubelet_serving_cert);
  EXPECT_EQ(later.ips, std::vector<std::string>{"192.168.50.21"});
  EXPECT_EQ(later.machine_id.size(), 32u);
  EXPECT_NE(node_identity(state, "w2", {}).machine_id, ia.machine_id);
  // No leftovers from the losing writer.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(state / "nodes")) ++entries;
  EXPECT_EQ(entries, 2);
}

TEST_F(StateTest, NodeNamesCannotEscapeTheStateDir) {
  init_cluster(spec(), state);
  EXPECT_THROW(node_identity(state, "../evil", {}), StateError);
  EXPECT_THROW(node_identity(state, "w1", {"not-an-ip"}), StateError);
}

}  // namespace
}  // namespace ramfleet::kube
