// The inventory's side of the cluster: node names, what role selectors see,
// the RAM root size, cluster.yaml reloads, and the node files as a layer that
// the real compiler places in all three outputs.
#include "boot/cluster_node.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "boot/cluster_config.hpp"
#include "boot/machine_script.hpp"
#include "boot/node_config.hpp"
#include "config/compile.hpp"

using namespace ramfleet;
using namespace ramfleet::inventory;
using namespace ramfleet::boot;
namespace fs = std::filesystem;

namespace {

MachineFacts facts(std::vector<std::pair<std::string, std::string>> params) {
  auto fr = facts_from_params(params);
  EXPECT_TRUE(fr.errors.empty());
  return fr.facts;
}

Group mac_group(const std::string& pattern) {
  Group g;
  g.selector =
      inventory::Selector({inventory::Constraint{inventory::Constraint::Kind::fact, FactKey::mac, {}, pattern}});
  return g;
}

TEST(ClusterNode, NameComesFromTheOperatorNeverTheClient) {
  // The hostname a machine sends names nothing.
  EXPECT_EQ(cluster_node_name(facts({{"mac", "52:54:00:00:00:07"}, {"hostname", "cp1"}}), nullptr),
            "node-52-54-00-00-00-07");
  Group g = mac_group("52:54:00:00:00:*");
  g.metadata["hostname"] = "W7";
  EXPECT_EQ(cluster_node_name(facts({{"mac", "52:54:00:00:00:07"}, {"hostname", "cp1"}}), &g), "w7");
  // A DHCP reservation names it when the group does not.
  Group unnamed = mac_group("52:54:00:00:00:*");
  EXPECT_EQ(cluster_node_name(facts({{"mac", "52:54:00:00:00:07"}}), &unnamed, "Res-7"), "res-7");
  EXPECT_EQ(cluster_node_name(facts({{"mac", "52:54:00:00:00:07"}}), &g, "res-7"), "w7");
  EXPECT_EQ(cluster_node_name(facts({{"mac", "52:54:00:AB:00:07"}}), nullptr), "node-52-54-00-ab-00-07");
  EXPECT_EQ(cluster_node_name(facts({{"uuid", "4C4C4544-0000-1000-8000-000000000001"}}), nullptr),
            "node-4c4c4544-0000-1000-8000-000000000001");
}

TEST(ClusterNode, AGroupChosenByClientFactsAloneDoesNotSpeakForTheMachine) {
  Group by_label;
  by_label.selector =
      inventory::Selector({inventory::Constraint{inventory::Constraint::Kind::label, FactKey::mac, "rack", "r1"}});
  by_label.metadata["hostname"] = "cp1";
  by_label.metadata["pool"] = "general";
  EXPECT_EQ(operator_group(&by_label), nullptr);
  auto m = cluster_machine_view(facts({{"mac", "52:54:00:00:00:07"}, {"rack", "r1"}}), &by_label);
  EXPECT_EQ(m.hostname, "node-52-54-00-00-00-07");
  EXPECT_TRUE(m.labels.empty());
  Group pinned = mac_group("52:54:00:00:00:07");
  EXPECT_EQ(operator_group(&pinned), &pinned);
}

TEST(ClusterNode, RoleSelectorsSeeOnlyOperatorLabels) {
  Group g = mac_group("52:54:00:00:00:*");
  g.metadata["pool"] = "general";
  auto m = cluster_machine_view(facts({{"mac", "52:54:00:00:00:07"}, {"pool", "gpu"}, {"rack", "r1"}}), &g);
  EXPECT_EQ(m.labels.at("pool"), "general");
  EXPECT_EQ(m.labels.count("rack"), 0u);  // what the client sent is not a label the cluster sees
  ASSERT_TRUE(m.mac);
  EXPECT_EQ(m.mac->str(), "52:54:00:00:00:07");
  EXPECT_EQ(m.hostname, "node-52-54-00-00-00-07");
}

class FakeLeases final : public AddressOwners {
 public:
  bool full = true;
  std::map<std::string, MacAddress> leases;
  [[nodiscard]] bool leases_known() const override { return full; }
  [[nodiscard]] std::optional<MacAddress> holder_of(Ipv4 a) const override {
    auto it = leases.find(a.str());
    if (it == leases.end()) return std::nullopt;
    return it->second;
  }
  [[nodiscard]] std::optional<Reservation> reservation_of(const MacAddress&) const override { return std::nullopt; }
};

TEST(ClusterNode, RequesterMustHoldTheLeaseOrTheOperatorsAddress) {
  const auto mac = MacAddress::parse("52:54:00:00:00:07");
  ASSERT_TRUE(mac);
  ClusterIdentity worker{"w7", kube::Role::worker, ""};
  FakeLeases owners;
  owners.leases["10.0.0.7"] = *mac;
  EXPECT_EQ(address_mismatch(worker, mac, "10.0.0.7", &owners), "");
  EXPECT_NE(address_mismatch(worker, mac, "10.0.0.8", &owners), "");  // no lease there
  owners.leases["10.0.0.9"] = *MacAddress::parse("52:54:00:00:00:09");
  EXPECT_NE(address_mismatch(worker, mac, "10.0.0.9", &owners), "");  // another machine's lease
  // Proxy mode: no lease book; an operator address pins it, else any address.
  owners.full = false;
  EXPECT_EQ(address_mismatch(worker, mac, "10.0.0.8", &owners), "");
  EXPECT_EQ(address_mismatch(worker, mac, "10.0.0.8", nullptr), "");
  ClusterIdentity cp{"cp1", kube::Role::control_plane, "10.0.0.11"};
  EXPECT_EQ(address_mismatch(cp, mac, "10.0.0.11", nullptr), "");
  EXPECT_NE(address_mismatch(cp, mac, "10.0.0.12", nullptr).find("10.0.0.11"), std::string::npos);
  EXPECT_NE(address_mismatch(cp, mac, "", nullptr), "");  // not IPv4
  EXPECT_EQ(requester_ipv4("::ffff:10.0.0.7"), "10.0.0.7");
  EXPECT_EQ(requester_ipv4("fe80::1"), "");
}

TEST(ClusterNode, RamRootSize) {
  Group g;
  EXPECT_EQ(ram_root_for(facts({{"mac", "52:54:00:00:00:07"}}), &g).ram.tmpfs_bytes, 0u);
  g.metadata["ram_root_size"] = "8Gi";
  EXPECT_EQ(ram_root_for(facts({{"mac", "52:54:00:00:00:07"}}), &g).ram.tmpfs_bytes, 8ULL << 30U);
  EXPECT_EQ(ram_root_for(facts({{"mac", "52:54:00:00:00:07"}, {"ram_root_size", "2G"}}), nullptr).ram.tmpfs_bytes,
            2000000000u);
  for (const char* bad : {"8 GiB", "Gi", "8gi", "-1", "99999999999999Gi"}) {
    g.metadata["ram_root_size"] = bad;
    EXPECT_FALSE(ram_root_for(facts({{"mac", "52:54:00:00:00:07"}}), &g).error.empty()) << bad;
  }
}

const std::vector<kube::NodeFile> kFiles = {
    {"/etc/hostname", "w1\n", false},
    {"/etc/kubernetes/pki/ca.key", "-----BEGIN PRIVATE KEY-----\nMIGH\"quote'\\back\n-----END PRIVATE KEY-----\n",
     true},
    {"/etc/ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA root@w1\n", false},
};

std::vector<config::LayerSource> layers_with_cluster_files() {
  return {{"base.bu",
           "variant: fcos\nversion: 1.4.0\nstorage:\n  files:\n    - path: /etc/hostname\n"
           "      contents: {inline: \"from-the-image\\n\"}\n"},
          {"cluster", node_files_layer(kFiles)}};
}

TEST(ClusterNode, FilesLayerCompilesToIgnition) {
  auto r = config::compile_machine(layers_with_cluster_files(), config::Variables::object(), config::Target::ignition);
  ASSERT_TRUE(r.ok()) << config::format_diagnostics(r.diagnostics);
  auto j = nlohmann::json::parse(*r.output);
  std::map<std::string, nlohmann::json> files;
  for (const auto& f : j["storage"]["files"]) files[f["path"].get<std::string>()] = f;
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files["/etc/kubernetes/pki/ca.key"]["mode"].get<int>(), 0600);
  EXPECT_EQ(files["/etc/ssh/ssh_host_ed25519_key.pub"]["mode"].get<int>(), 0644);
  EXPECT_TRUE(files["/etc/hostname"]["overwrite"].get<bool>());
  // The cluster layer comes last: the node's name wins over the image's.
  EXPECT_NE(files["/etc/hostname"]["contents"]["source"].get<std::string>().find("w1"), std::string::npos);
}

TEST(ClusterNode, FilesLayerCompilesToCloudConfigAndApkovl) {
  auto cc =
      config::compile_machine(layers_with_cluster_files(), config::Variables::object(), config::Target::cloud_config);
  ASSERT_TRUE(cc.ok()) << config::format_diagnostics(cc.diagnostics);
  EXPECT_NE(cc.output->find("/etc/kubernetes/pki/ca.key"), std::string::npos);
  EXPECT_NE(cc.output->find("MIGH\\\"quote'\\\\back"), std::string::npos) << *cc.output;  // bytes kept exactly
  auto ovl = config::compile_machine(layers_with_cluster_files(), config::Variables::object(), config::Target::apkovl);
  ASSERT_TRUE(ovl.ok()) << config::format_diagnostics(ovl.diagnostics);
}

TEST(ClusterNode, TemplateLookalikesAreRefused) {
  EXPECT_THROW(node_files_layer({{"/etc/x", "a {{hostname}}", false}}), std::invalid_argument);
}

TEST(ClusterNode, GeneratedLayerIsPartOfTheCacheKey) {
  NodeConfigPlan a, b;
  a.cache_key = b.cache_key = "same";
  add_generated_layer(a, "cluster", "one");
  add_generated_layer(b, "cluster", "two");
  EXPECT_NE(a.cache_key, b.cache_key);
  EXPECT_EQ(a.cache_key.find("one"), std::string::npos);  // a hash of the text, never the secrets themselves
}

TEST(ClusterNode, ConfigUrlsEndInTheBootToken) {
  Profile p;
  p.id = "fc";
  p.kernel = "vmlinuz";
  p.args = {"ignition.config.url={{ignition_url}}"};
  p.config = ProfileConfig{};
  p.config->target = "ignition";
  auto f = facts({{"mac", "52:54:00:00:00:07"}});
  auto ctx = machine_context(f, nullptr, p, "http://10.0.0.1", "0123abcd");
  EXPECT_EQ(ctx.vars.at("ignition_url"), "http://10.0.0.1/ignition/mac=52:54:00:00:00:07/token=0123abcd");
  EXPECT_EQ(ctx.vars.at("config_url"), ctx.vars.at("ignition_url"));
  EXPECT_EQ(machine_context(f, nullptr, p, "http://10.0.0.1").vars.at("ignition_url"),
            "http://10.0.0.1/ignition/mac=52:54:00:00:00:07");
}

class ClusterConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rf-clustercfg-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(dir_ / "cluster.yaml") << text; }
  fs::path dir_;
};

TEST_F(ClusterConfigTest, LoadsPerGenerationAndReportsErrors) {
  ClusterConfig c;
  EXPECT_TRUE(c.refresh(dir_, 1));
  EXPECT_FALSE(c.configured());
  write(
      "name: lab\nkubernetesVersion: v1.29.4\ndistribution: kubeadm\ncontrolPlaneEndpoint: 10.0.0.10:6443\n"
      "etcd: {members: [{name: cp1, ip: 10.0.0.11}]}\nroles: {control-plane: [{hostname: cp1}]}\n");
  EXPECT_FALSE(c.refresh(dir_, 1));  // same generation: not read again
  EXPECT_FALSE(c.configured());
  EXPECT_TRUE(c.refresh(dir_, 2));
  ASSERT_TRUE(c.spec()) << c.error();
  write("name: lab\nkubernetesVersion: nope\n");
  c.refresh(dir_, 3);
  EXPECT_TRUE(c.configured());
  EXPECT_FALSE(c.spec());
  EXPECT_NE(c.error().find("cluster.yaml:2:"), std::string::npos) << c.error();
}

}  // namespace
