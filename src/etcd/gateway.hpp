#pragma once
// etcd v3's JSON gateway (`POST /v3/...`, etcd >= 3.4), sans-IO: the request
// bodies ramfleet sends and the replies it reads. JSON gateway, not gRPC:
// the gateway covers everything ramfleet needs (membership, status, snapshot
// streaming, kv), rides on the HTTPS client already in the tree (Beast +
// OpenSSL, client certificates) and needs no protobuf/gRPC code generation.
// Field names are etcd's proto names (the gateway marshals with OrigName);
// 64-bit integers come as strings, zero values are omitted, bytes are base64.
// Sockets: net/etcd_client.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ramfleet::etcd {

using MemberId = std::uint64_t;
std::string id_hex(MemberId id);  // as etcdctl prints it

struct Member {
  MemberId id = 0;
  std::string name;  // empty until an added member first starts
  std::vector<std::string> peer_urls;
  std::vector<std::string> client_urls;
  bool learner = false;
  [[nodiscard]] bool started() const { return !name.empty(); }
};

struct MemberList {
  std::uint64_t cluster_id = 0;
  MemberId responder = 0;  // the member that answered
  std::vector<Member> members;
};

struct MemberStatus {
  MemberId id = 0;  // header.member_id
  std::uint64_t cluster_id = 0;
  MemberId leader = 0;  // 0: it knows no leader
  std::uint64_t raft_index = 0;
  std::uint64_t raft_term = 0;
  std::int64_t revision = 0;
  std::int64_t db_size = 0;
  bool learner = false;
  std::string version;
};

struct GatewayRequest {
  std::string path;  // POST target
  std::string body;  // JSON
};

GatewayRequest member_list_request();
GatewayRequest member_add_request(std::string_view peer_url, bool learner);
GatewayRequest member_remove_request(MemberId id);
GatewayRequest member_promote_request(MemberId id);
GatewayRequest status_request();
GatewayRequest snapshot_request();
GatewayRequest put_request(std::string_view key, std::string_view value);
GatewayRequest range_request(std::string_view key);

// A reply: the value, or etcd's error ("etcdserver: ...") / why the body is unreadable.
template <typename T>
using Parsed = std::variant<T, std::string>;

Parsed<MemberList> parse_member_list(int status, std::string_view body);
// member/add answers the added member and the list after it.
struct MemberAdded {
  Member member;
  MemberList list;
};
Parsed<MemberAdded> parse_member_added(int status, std::string_view body);
Parsed<MemberStatus> parse_status(int status, std::string_view body);
// member/remove, member/promote, kv/put: only success or the error.
Parsed<std::monostate> parse_ack(int status, std::string_view body);
// kv/range of one key: its value, or nullopt when absent.
Parsed<std::optional<std::string>> parse_range(int status, std::string_view body);

// /v3/maintenance/snapshot answers a stream of {"result":{"blob":BASE64}}
// objects, one per line; the blobs, concatenated, are the snapshot file (a
// bbolt database followed by its sha256). Feed the body as it arrives.
class SnapshotStream {
 public:
  static constexpr std::size_t kMaxLine = 8U << 20U;  // one message; etcd sends 32 KiB blobs
  // Appends decoded bytes to `out`; false (error() says why) on a malformed
  // or error message, or a line past kMaxLine.
  bool feed(std::string_view chunk, std::string& out);
  // At the end of the body: false if a message is incomplete.
  bool finish(std::string& out);
  [[nodiscard]] const std::string& error() const { return error_; }

 private:
  bool line(std::string_view text, std::string& out);
  std::string pending_;
  std::string error_;
};

std::optional<std::string> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

}  // namespace ramfleet::etcd
