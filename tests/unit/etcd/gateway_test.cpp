// The JSON gateway's bodies, with replies as etcd 3.4.23 wrote them (captured
// from a real member: proto field names, 64-bit integers as strings, zero
// values omitted, bytes in base64).
#include "etcd/gateway.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ramfleet::etcd {
namespace {

TEST(Gateway, RequestsUseEtcdsFieldNames) {
  auto add = member_add_request("https://10.0.0.12:2380", true);
  EXPECT_EQ(add.path, "/v3/cluster/member/add");
  EXPECT_EQ(nlohmann::json::parse(add.body),
            nlohmann::json::parse(R"({"peerURLs":["https://10.0.0.12:2380"],"isLearner":true})"));
  // IDs above 2^53 survive: sent as strings.
  EXPECT_EQ(member_remove_request(18446744073709551615ULL).body, R"({"ID":"18446744073709551615"})");
  EXPECT_EQ(member_promote_request(7).path, "/v3/cluster/member/promote");
  EXPECT_EQ(put_request("foo", "bar").body, R"({"key":"Zm9v","value":"YmFy"})");
  EXPECT_EQ(range_request("foo").path, "/v3/kv/range");
}

TEST(Gateway, MemberListWithAnUnstartedLearner) {
  const auto r = parse_member_list(
      200,
      R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","raft_term":"2"},"members":[)"
      R"({"ID":"1639293195024404988","peerURLs":["http://127.0.0.2:23800"],"isLearner":true},)"
      R"({"ID":"3319814642761637952","name":"p1","peerURLs":["http://127.0.0.1:23800"],"clientURLs":["http://127.0.0.1:23790"]}]})");
  ASSERT_TRUE(std::holds_alternative<MemberList>(r)) << std::get<std::string>(r);
  const auto& l = std::get<MemberList>(r);
  EXPECT_EQ(l.cluster_id, 324952591200643719ULL);
  EXPECT_EQ(l.responder, 3319814642761637952ULL);
  ASSERT_EQ(l.members.size(), 2u);
  EXPECT_TRUE(l.members[0].learner);
  EXPECT_FALSE(l.members[0].started());
  EXPECT_EQ(l.members[1].name, "p1");
  EXPECT_EQ(l.members[1].client_urls.at(0), "http://127.0.0.1:23790");
  EXPECT_FALSE(l.members[1].learner);
  EXPECT_EQ(id_hex(l.members[1].id), "2e1259d415f2a040");
}

TEST(Gateway, StatusAndErrors) {
  const auto s = parse_status(
      200,
      R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"1","raft_term":"2"},)"
      R"("version":"3.4.23","dbSize":"20480","leader":"3319814642761637952","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4","dbSizeInUse":"16384"})");
  ASSERT_TRUE(std::holds_alternative<MemberStatus>(s));
  const auto& st = std::get<MemberStatus>(s);
  EXPECT_EQ(st.leader, st.id);
  EXPECT_EQ(st.revision, 1);
  EXPECT_EQ(st.db_size, 20480);
  EXPECT_EQ(st.raft_index, 4u);
  EXPECT_FALSE(st.learner);
  const auto e =
      parse_ack(400, R"({"error":"etcdserver: member not found","message":"etcdserver: member not found","code":5})");
  ASSERT_TRUE(std::holds_alternative<std::string>(e));
  EXPECT_EQ(std::get<std::string>(e), "etcdserver: member not found");
  // An error body with status 200 is still an error; garbage is named as such.
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_ack(200, R"({"error":"x","code":2})")));
  EXPECT_NE(std::get<std::string>(parse_status(502, "<html>")).find("not JSON"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::string>(parse_status(200, R"({"header":{"member_id":[1]}})")));
}

TEST(Gateway, RangeOfOneKey) {
  auto r = parse_range(200, R"({"header":{},"kvs":[{"key":"Zm9v","create_revision":"2","value":"YmFy"}],"count":"1"})");
  ASSERT_TRUE(std::holds_alternative<std::optional<std::string>>(r));
  EXPECT_EQ(std::get<std::optional<std::string>>(r), "bar");
  r = parse_range(200, R"({"header":{}})");
  EXPECT_EQ(std::get<std::optional<std::string>>(r), std::nullopt);
}

TEST(Gateway, SnapshotStreamSplitAnywhere) {
  const std::string body = std::string(R"({"result":{"blob":"aGVsbG8g"}})") + "\n" +
                           R"({"result":{"remaining_bytes":"0","blob":"d29ybGQ="}})" + "\n";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    SnapshotStream s;
    std::string out;
    ASSERT_TRUE(s.feed(body.substr(0, cut), out));
    ASSERT_TRUE(s.feed(body.substr(cut), out));
    ASSERT_TRUE(s.finish(out));
    EXPECT_EQ(out, "hello world") << cut;
  }
}

TEST(Gateway, SnapshotStreamRefusesErrorsAndGarbage) {
  SnapshotStream s;
  std::string out;
  EXPECT_FALSE(s.feed("{\"error\":{\"grpc_code\":14,\"message\":\"unavailable\"}}\n", out));
  EXPECT_NE(s.error().find("unavailable"), std::string::npos);
  SnapshotStream g;
  EXPECT_FALSE(g.feed("{\"result\":{\"blob\":\"!!!!\"}}\n", out));
  SnapshotStream trunc;
  EXPECT_TRUE(trunc.feed("{\"result\":{\"blob\":\"aGVs", out));
  EXPECT_FALSE(trunc.finish(out));
  SnapshotStream big;
  EXPECT_FALSE(big.feed(std::string(SnapshotStream::kMaxLine + 1, 'a'), out));
}

TEST(Gateway, Base64RoundTrip) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  }
  EXPECT_EQ(base64_decode("abc"), std::nullopt);
}

}  // namespace
}  // namespace ramfleet::etcd
