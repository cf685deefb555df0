// The node contract: etcd.conf.yml as etcd --config-file reads it (keys and
// values checked through a YAML parser, as etcd's own loader would see them).
#include "etcd/member_conf.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace ramfleet::etcd {
namespace {

MemberBoot three(ClusterState state) {
  MemberBoot b;
  b.state = state;
  b.token = "ramfleet-lab-1a2b";
  for (int i = 1; i <= 3; ++i) {
    b.initial_cluster.push_back({"etcd" + std::to_string(i), peer_url("10.0.0.1" + std::to_string(i))});
  }
  return b;
}

TEST(MemberConf, NewMemberListsEveryPeerOverTls) {
  const auto y = YAML::Load(render_conf("etcd2", "10.0.0.12", three(ClusterState::fresh)));
  EXPECT_EQ(y["name"].as<std::string>(), "etcd2");
  EXPECT_EQ(y["data-dir"].as<std::string>(), "/var/lib/etcd");
  EXPECT_EQ(y["listen-client-urls"].as<std::string>(), "https://10.0.0.12:2379,https://127.0.0.1:2379");
  EXPECT_EQ(y["advertise-client-urls"].as<std::string>(), "https://10.0.0.12:2379");
  EXPECT_EQ(y["listen-peer-urls"].as<std::string>(), "https://10.0.0.12:2380");
  EXPECT_EQ(y["initial-advertise-peer-urls"].as<std::string>(), "https://10.0.0.12:2380");
  EXPECT_EQ(y["initial-cluster"].as<std::string>(),
            "etcd1=https://10.0.0.11:2380,etcd2=https://10.0.0.12:2380,etcd3=https://10.0.0.13:2380");
  EXPECT_EQ(y["initial-cluster-state"].as<std::string>(), "new");
  EXPECT_EQ(y["initial-cluster-token"].as<std::string>(), "ramfleet-lab-1a2b");
  EXPECT_TRUE(y["enable-grpc-gateway"].as<bool>());  // off by default in a config file
  for (const char* side : {"client-transport-security", "peer-transport-security"}) {
    const auto t = y[side];
    ASSERT_TRUE(t.IsMap()) << side;
    EXPECT_TRUE(t["client-cert-auth"].as<bool>()) << side;
    EXPECT_EQ(t["trusted-ca-file"].as<std::string>(), node_paths::kCa);
  }
  EXPECT_EQ(y["client-transport-security"]["cert-file"].as<std::string>(), node_paths::kServerCert);
  EXPECT_EQ(y["client-transport-security"]["key-file"].as<std::string>(), node_paths::kServerKey);
  EXPECT_EQ(y["peer-transport-security"]["cert-file"].as<std::string>(), node_paths::kPeerCert);
  EXPECT_EQ(y["peer-transport-security"]["key-file"].as<std::string>(), node_paths::kPeerKey);
}

TEST(MemberConf, ExistingStateIsSpelledAsEtcdReadsIt) {
  const auto y = YAML::Load(render_conf("etcd1", "10.0.0.11", three(ClusterState::existing)));
  EXPECT_EQ(y["initial-cluster-state"].as<std::string>(), "existing");
}

TEST(MemberConf, RestoreEnvIsTwoShellAssignments) {
  EXPECT_EQ(render_restore_env({"http://10.0.0.1/etcd/snapshot/abc", std::string(64, 'f')}),
            "RESTORE_URL=http://10.0.0.1/etcd/snapshot/abc\nRESTORE_SHA256=" + std::string(64, 'f') + "\n");
}

}  // namespace
}  // namespace ramfleet::etcd
