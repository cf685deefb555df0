// Per-node boot progress: phases implied by later ones, the etcd phase only
// for members, and the table's columns.
#include "lab/progress.hpp"

#include <gtest/gtest.h>

#include "lab/lab_config.hpp"

namespace ramfleet::lab {
namespace {

NodeProgress node(bool member) {
  NodeProgress n;
  n.spec = plan_nodes(1, "bios").front();
  n.etcd_member = member;
  return n;
}

TEST(LabProgress, ReadyIsDoneForAPlainNode) {
  auto n = node(false);
  Observation o;
  o.last_phase = "ready";
  observe(n, o, 7.5);
  EXPECT_TRUE(n.done());
  EXPECT_EQ(*n.at[static_cast<std::size_t>(Phase::dhcp)], 7.5);  // implied by ready
  EXPECT_FALSE(n.at[static_cast<std::size_t>(Phase::etcd)]);
}

TEST(LabProgress, AMemberIsDoneOnlyAsAVoter) {
  auto n = node(true);
  Observation o;
  o.last_phase = "ready";
  observe(n, o, 10);
  EXPECT_TRUE(n.ready());
  EXPECT_FALSE(n.done());
  EXPECT_EQ(n.waiting_for(), Phase::etcd);
  o.etcd_voting = true;
  observe(n, o, 12);
  EXPECT_TRUE(n.done());
  EXPECT_EQ(*n.at[static_cast<std::size_t>(Phase::ready)], 10);  // kept from the first sighting
  EXPECT_EQ(*n.at[static_cast<std::size_t>(Phase::etcd)], 12);
}

TEST(LabProgress, VotingBeforeReadyWaitsForTheNodesReady) {
  auto n = node(true);
  Observation o;
  o.last_phase = "configured";
  o.etcd_voting = true;  // etcd votes while the node is still booting
  observe(n, o, 20);
  EXPECT_FALSE(n.ready());
  EXPECT_FALSE(n.at[static_cast<std::size_t>(Phase::etcd)]);
  EXPECT_EQ(n.waiting_for(), Phase::ready);
  o.last_phase = "ready";
  observe(n, o, 25);
  EXPECT_TRUE(n.done());
  EXPECT_EQ(*n.at[static_cast<std::size_t>(Phase::etcd)], 25);
}

TEST(LabProgress, VotingIsIgnoredForANonMember) {
  auto n = node(false);
  Observation o;
  o.etcd_voting = true;
  observe(n, o, 3);
  EXPECT_FALSE(n.at[static_cast<std::size_t>(Phase::etcd)]);
  EXPECT_FALSE(n.ready());
}

TEST(LabProgress, TableShowsTheEtcdColumnOnlyWithMembers) {
  std::vector<NodeProgress> plain{node(false)};
  EXPECT_EQ(render_table(plain, 1).find("etcd"), std::string::npos);
  std::vector<NodeProgress> members{node(true)};
  EXPECT_NE(render_table(members, 1).find("etcd"), std::string::npos);
}

TEST(LabConfig, ClusterYamlMakesEveryNodeAMemberAndControlPlane) {
  auto y = lab_cluster_yaml(plan_nodes(3, "bios"), "30s");
  EXPECT_NE(y.find("mode: ramfleet"), std::string::npos) << y;
  EXPECT_NE(y.find("snapshot: {interval: 30s}"), std::string::npos) << y;
  for (const char* m : {"{name: node1, ip: 10.99.0.11}", "{name: node3, ip: 10.99.0.13}", "hostname: node2"})
    EXPECT_NE(y.find(m), std::string::npos) << m << "\n" << y;
}

TEST(LabConfig, KernelArgsNameTheConfigUrlTheImageReads) {
  auto has = [](const std::vector<std::string>& args, const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  EXPECT_TRUE(has(node_kernel_args(ConfigDelivery::apkovl), "ramfleet.config={{apkovl_url}}"));
  EXPECT_TRUE(has(node_kernel_args(ConfigDelivery::ignition), "ignition.config.url={{ignition_url}}"));
  auto none = node_kernel_args(ConfigDelivery::none);
  EXPECT_FALSE(has(none, "ramfleet.config={{apkovl_url}}") || has(none, "ignition.config.url={{ignition_url}}"));
  // Every node reports its phases with its boot's own event credential.
  for (auto d : {ConfigDelivery::none, ConfigDelivery::apkovl, ConfigDelivery::ignition})
    EXPECT_TRUE(has(node_kernel_args(d), "ramfleet.event_credential={{event_credential}}"));
}

TEST(LabConfig, P2pTurnsOnOnlyForAStreamedRoot) {
  auto has = [](const std::vector<std::string>& args, const std::string& a) {
    return std::find(args.begin(), args.end(), a) != args.end();
  };
  const std::string image = "images/" + std::string(64, 'a') + "/rootfs.cpio.zst";
  auto on = node_kernel_args(ConfigDelivery::apkovl, image, std::string(64, 'a'), 45);
  EXPECT_TRUE(has(on, "ramfleet.p2p=on"));
  EXPECT_TRUE(has(on, "ramfleet.p2p_seed=45"));
  auto off = node_kernel_args(ConfigDelivery::apkovl, image, std::string(64, 'a'));
  EXPECT_FALSE(has(off, "ramfleet.p2p=on"));
  // Not streamed: there is no stage-1 fetcher to be a peer.
  EXPECT_FALSE(has(node_kernel_args(ConfigDelivery::apkovl, {}, {}, 45), "ramfleet.p2p=on"));
}

}  // namespace
}  // namespace ramfleet::lab
