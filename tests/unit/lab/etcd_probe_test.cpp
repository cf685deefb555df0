// How the lab reads etcdctl's JSON into "is this node a voting member":
// outputs as Debian's etcdctl 3.4 prints them, with stderr mixed in, for a
// cluster forming, a learner catching up and a member down.
#include "lab/etcd_probe.hpp"

#include <gtest/gtest.h>

#include "lab/lab_config.hpp"

namespace ramfleet::lab {
namespace {

const auto kNodes = plan_nodes(3, "bios");

// `etcdctl member list -w json`: node2 added back as a learner, not started
// yet (no name, no client URLs).
const char* kMembers =
    R"({"header":{"cluster_id":1,"member_id":2,"raft_term":3},"members":[)"
    R"({"ID":11,"name":"node1","peerURLs":["https://10.99.0.11:2380"],"clientURLs":["https://10.99.0.11:2379"]},)"
    R"({"ID":12,"peerURLs":["https://10.99.0.12:2380"],"isLearner":true},)"
    R"({"ID":13,"name":"node3","peerURLs":["https://10.99.0.13:2380"],"clientURLs":["https://10.99.0.13:2379"]}]})";

// `etcdctl endpoint health -w json`, followed by what it prints on stderr.
const char* kHealth =
    R"([{"endpoint":"https://10.99.0.11:2379","health":true,"took":"12ms"},)"
    R"({"endpoint":"https://10.99.0.12:2379","health":false,"took":"2s","error":"context deadline exceeded"},)"
    R"({"endpoint":"https://10.99.0.13:2379","health":true,"took":"15ms"}])"
    "\n{\"level\":\"warn\"}\nError: unhealthy cluster\n";

TEST(EtcdProbe, VotingMeansListedNotLearnerAndHealthy) {
  auto v = parse_etcd_views(kNodes, kMembers, kHealth);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v["node1"].voting());
  EXPECT_TRUE(v["node1"].started);
  EXPECT_TRUE(v["node2"].listed);  // found by its peer URL, though it has no name yet
  EXPECT_TRUE(v["node2"].learner);
  EXPECT_FALSE(v["node2"].started);
  EXPECT_FALSE(v["node2"].voting());
  EXPECT_EQ(v["node2"].error, "context deadline exceeded");
  EXPECT_TRUE(v["node3"].voting());
}

TEST(EtcdProbe, AHealthyLearnerIsNoVoter) {
  std::string health = R"([{"endpoint":"https://10.99.0.12:2379","health":true}])";
  auto v = parse_etcd_views(kNodes, kMembers, health);
  EXPECT_TRUE(v["node2"].healthy);
  EXPECT_FALSE(v["node2"].voting());
  EXPECT_FALSE(v["node1"].healthy);  // not in this answer
}

TEST(EtcdProbe, NothingAnsweringMeansNobodyVotes) {
  for (const char* garbage : {"", "Error: context deadline exceeded\n", "{\"members\":7}", "[1,2", "null"}) {
    auto v = parse_etcd_views(kNodes, garbage, garbage);
    ASSERT_EQ(v.size(), 3u) << garbage;
    for (const auto& [name, view] : v) EXPECT_FALSE(view.listed || view.healthy) << name << " " << garbage;
  }
}

TEST(EtcdProbe, AddressesMatchWholeNotByPrefix) {
  // 10.99.0.1 (the server) must not claim 10.99.0.11's member.
  std::vector<NodeSpec> nodes{{"srv", "52:54:00:99:00:ff", "10.99.0.1", "tap9", "bios"}};
  auto v = parse_etcd_views(nodes, kMembers, kHealth);
  EXPECT_FALSE(v["srv"].listed);
  EXPECT_FALSE(v["srv"].healthy);
}

TEST(EtcdProbe, ClientFlagsNameEveryEndpointAndTheCertificate) {
  EtcdClientCert c{"/s/pki/etcd/ca.crt", "/s/pki/etcd/c.crt", "/s/pki/etcd/c.key"};
  auto a = etcdctl_args(kNodes, c);
  ASSERT_FALSE(a.empty());
  EXPECT_EQ(a[0], "etcdctl");
  EXPECT_NE(std::find(a.begin(), a.end(),
                      "--endpoints=https://10.99.0.11:2379,https://10.99.0.12:2379,https://10.99.0.13:2379"),
            a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--cert=/s/pki/etcd/c.crt"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--key=/s/pki/etcd/c.key"), a.end());
  EXPECT_NE(std::find(a.begin(), a.end(), "--cacert=/s/pki/etcd/ca.crt"), a.end());
}

}  // namespace
}  // namespace ramfleet::lab
