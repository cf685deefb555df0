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

std::string bytes(const fs::path& p) { return read_file_or_throw(p); }

TEST_F(StateTest, KubeletServingCertsHaveTheirOwnCa) {
  init_cluster(spec(), state);
  const auto serving_ca = load_keyed_cert(state, paths::kKubeletServingCa);
  const auto ca = load_keyed_cert(state, paths::kCa);
  EXPECT_EQ(subject_common_name(*serving_ca.cert), "kubelet-serving-ca");
  // Even for the API server's own name: the cluster CA signs nothing a client could ask for.
  const auto id = node_identity(state, "k8s.lab.example", {"192.168.50.10"});
  const auto serving = certificate_from_pem(id.kubelet_serving_cert);
  EXPECT_TRUE(signed_by(*serving, *serving_ca.cert));
  EXPECT_FALSE(signed_by(*serving, *ca.cert));
  EXPECT_TRUE(signed_by(*certificate_from_pem(id.kubelet_client_cert), *ca.cert));  // client certs: cluster CA
  EXPECT_TRUE(key_matches_certificate(*serving, *private_key_from_pem(id.kubelet_serving_key)));
}

TEST_F(StateTest, OldServingCertsAreReissuedByInit) {
  init_cluster(spec(), state);
  node_identity(state, "w1", {"192.168.50.21"});
  // An identity from before the kubelet-serving CA: its serving pair came from the cluster CA.
  const auto ca = load_keyed_cert(state, paths::kCa);
  auto key = generate_key(KeyAlgorithm::ecdsa_p256);
  auto old =
      issue_certificate(kubelet_serving_profile("w1", {"192.168.50.21"}), *key, ca.cert.get(), *ca.key, Clock::now());
  write_file_atomic(state / "nodes/w1/kubelet.key", private_key_pem(*key));
  write_file_atomic(state / "nodes/w1/kubelet.crt", certificate_pem(*old));
  fs::remove(state / "pki/kubelet-serving-ca.crt");  // and the state predates that CA
  fs::remove(state / "pki/kubelet-serving-ca.key");
  const std::string client = bytes(state / "nodes/w1/kubelet-client.crt");
  const std::string ssh = bytes(state / "nodes/w1/ssh_host_ed25519_key");

  auto report = init_cluster(spec(), state);
  std::vector<std::string> created;
  for (const auto& i : report)
    if (i.created) created.push_back(i.path);
  EXPECT_EQ(created, (std::vector<std::string>{"pki/kubelet-serving-ca.crt", "nodes/w1/kubelet.crt"}));
  const auto serving_ca = load_keyed_cert(state, paths::kKubeletServingCa);
  const auto now = certificate_from_pem(bytes(state / "nodes/w1/kubelet.crt"));
  EXPECT_TRUE(signed_by(*now, *serving_ca.cert));
  EXPECT_NE(bytes(state / "nodes/w1/kubelet.key"), private_key_pem(*key));  // a new key too
  // Only the serving pair changed.
  EXPECT_EQ(bytes(state / "nodes/w1/kubelet-client.crt"), client);
  EXPECT_EQ(bytes(state / "nodes/w1/ssh_host_ed25519_key"), ssh);
  EXPECT_EQ(node_identity(state, "w1", {}).ips, std::vector<std::string>{"192.168.50.21"});
}

TEST_F(StateTest, NodeIdentityReissuesAStaleServingCertItself) {
  init_cluster(spec(), state);
  node_identity(state, "w1", {"192.168.50.21"});
  const auto ca = load_keyed_cert(state, paths::kCa);
  auto key = generate_key(KeyAlgorithm::ecdsa_p256);
  write_file_atomic(state / "nodes/w1/kubelet.key", private_key_pem(*key));
  write_file_atomic(state / "nodes/w1/kubelet.crt",
                    certificate_pem(*issue_certificate(kubelet_serving_profile("w1", {"192.168.50.21"}), *key,
                                                       ca.cert.get(), *ca.key, Clock::now())));
  const auto id = node_identity(state, "w1", {});
  const auto serving_ca = load_keyed_cert(state, paths::kKubeletServingCa);
  EXPECT_TRUE(signed_by(*certificate_from_pem(id.kubelet_serving_cert), *serving_ca.cert));
  EXPECT_TRUE(key_matches_certificate(*certificate_from_pem(id.kubelet_serving_cert),
                                      *private_key_from_pem(id.kubelet_serving_key)));
}

TEST_F(StateTest, StateWithoutServingCaIsAnErrorForNodes) {
  init_cluster(spec(), state);
  fs::remove(state / "pki/kubelet-serving-ca.crt");
  fs::remove(state / "pki/kubelet-serving-ca.key");
  EXPECT_THROW(node_identity(state, "w1", {}), StateError);
}

// init must never make a new CA while anything made with the old one exists.
class CaContinuityTest : public StateTest, public ::testing::WithParamInterface<std::pair<const char*, const char*>> {};

TEST_P(CaContinuityTest, MissingHalfIsRefusedAndNothingIsWritten) {
  init_cluster(spec(), state);
  node_identity(state, "w1", {"192.168.50.21"});
  const auto [base, half] = GetParam();
  const fs::path gone = state / (std::string(base) + half);
  const fs::path other = state / (std::string(base) + (std::string(half) == ".crt" ? ".key" : ".crt"));
  const std::string kept = bytes(other);
  fs::remove(gone);
  try {
    init_cluster(spec(), state);
    FAIL() << "init made a new CA over " << base;
  } catch (const StateError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(std::string(base) + half + " is missing"), std::string::npos) << what;
    EXPECT_NE(what.find("Restore"), std::string::npos) << what;
    EXPECT_NE(what.find("remove the whole state directory"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(gone));
  EXPECT_EQ(bytes(other), kept);
}

INSTANTIATE_TEST_SUITE_P(EveryCa, CaContinuityTest,
                         ::testing::Values(std::pair{"pki/ca", ".crt"}, std::pair{"pki/ca", ".key"},
                                           std::pair{"pki/front-proxy-ca", ".crt"},
                                           std::pair{"pki/front-proxy-ca", ".key"}, std::pair{"pki/etcd/ca", ".crt"},
                                           std::pair{"pki/etcd/ca", ".key"},
                                           std::pair{"pki/kubelet-serving-ca", ".crt"},
                                           std::pair{"pki/kubelet-serving-ca", ".key"}));

TEST_F(StateTest, WholeCaGoneWhileLeavesExistIsRefused) {
  init_cluster(spec(), state);
  node_identity(state, "w1", {"192.168.50.21"});
  for (const char* base : {"pki/ca", "pki/etcd/ca", "pki/front-proxy-ca", "pki/kubelet-serving-ca"}) {
    SCOPED_TRACE(base);
    const std::string crt = bytes(state / (std::string(base) + ".crt"));
    const std::string key = bytes(state / (std::string(base) + ".key"));
    fs::remove(state / (std::string(base) + ".crt"));
    fs::remove(state / (std::string(base) + ".key"));
    EXPECT_THROW(init_cluster(spec(), state), StateError);
    EXPECT_FALSE(fs::exists(state / (std::string(base) + ".crt")));
    write_file_atomic(state / (std::string(base) + ".crt"), crt);
    write_file_atomic(state / (std::string(base) + ".key"), key);
  }
  auto report = init_cluster(spec(), state);  // restored: init is happy again
  EXPECT_TRUE(std::none_of(report.begin(), report.end(), [](const auto& i) { return i.created; }));
}

TEST_F(StateTest, ServiceAccountKeyIsNeverReplaced) {
  init_cluster(spec(), state);
  const std::string pub = bytes(state / "pki/sa.pub");
  fs::remove(state / "pki/sa.key");
  EXPECT_THROW(init_cluster(spec(), state), StateError);
  EXPECT_FALSE(fs::exists(state / "pki/sa.key"));
  EXPECT_EQ(bytes(state / "pki/sa.pub"), pub);
  // sa.pub alone is derived: losing it is repaired from sa.key.
  fs::remove_all(state);
  init_cluster(spec(), state);
  const std::string key = bytes(state / "pki/sa.key");
  const std::string pub2 = bytes(state / "pki/sa.pub");
  fs::remove(state / "pki/sa.pub");
  init_cluster(spec(), state);
  EXPECT_EQ(bytes(state / "pki/sa.key"), key);
  EXPECT_EQ(bytes(state / "pki/sa.pub"), pub2);
}

TEST_F(StateTest, BootstrappedClusterKeepsEveryCa) {
  // Nothing issued from it is in STATE, but a running cluster trusts it.
  init_cluster(spec(), state);
  write_file_atomic(state / "bootstrapped", "init config served to cp1\n");
  fs::remove(state / "pki/front-proxy-client.crt");
  fs::remove(state / "pki/front-proxy-client.key");
  fs::remove(state / "pki/front-proxy-ca.crt");
  fs::remove(state / "pki/front-proxy-ca.key");
  EXPECT_THROW(init_cluster(spec(), state), StateError);
}

TEST_F(StateTest, LeafWithoutCertificateKeepsItsKey) {
  init_cluster(spec(), state);
  const std::string key = bytes(state / "pki/apiserver.key");
  fs::remove(state / "pki/apiserver.crt");
  init_cluster(spec(), state);
  EXPECT_EQ(bytes(state / "pki/apiserver.key"), key);
  EXPECT_TRUE(
      signed_by(*certificate_from_pem(bytes(state / "pki/apiserver.crt")), *load_keyed_cert(state, paths::kCa).cert));
  EXPECT_NO_THROW(load_keyed_cert(state, paths::kApiserver));
}

TEST_F(StateTest, InitTightensLoosePermissions) {
  fs::create_directories(state / "pki");
  fs::permissions(state, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                             fs::perms::others_exec);
  fs::permissions(state / "pki", fs::perms::owner_all | fs::perms::others_read | fs::perms::others_exec);
  init_cluster(spec(), state);
  node_identity(state, "w1", {});
  fs::permissions(state / "nodes/w1/kubelet.key", fs::perms::others_read, fs::perm_options::add);
  fs::permissions(state / "nodes", fs::perms::group_exec, fs::perm_options::add);
  init_cluster(spec(), state);
  for (const auto& e : fs::recursive_directory_iterator(state)) {
    const auto perms = e.status().permissions() & fs::perms::all;
    EXPECT_EQ(perms, e.is_directory() ? fs::perms::owner_all : (fs::perms::owner_read | fs::perms::owner_write))
        << e.path();
  }
  EXPECT_EQ(fs::status(state).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(StateTest, NodeNamesCannotEscapeTheStateDir) {
  init_cluster(spec(), state);
  EXPECT_THROW(node_identity(state, "../evil", {}), StateError);
  EXPECT_THROW(node_identity(state, "w1", {"not-an-ip"}), StateError);
}

}  // namespace
}  // namespace ramfleet::kube
