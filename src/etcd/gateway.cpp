#include "etcd/gateway.hpp"

#include <openssl/evp.h>

#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace ramfleet::etcd {
using json = nlohmann::json;

std::string id_hex(MemberId id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding as zero bytes.
  if (!text.empty() && text.back() == '=') --len;
  if (text.size() >= 2 && text[text.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

namespace {
GatewayRequest post(const char* path, const json& body) { return {path, body.dump()}; }

// uint64/int64 come as JSON strings; accept numbers too.
template <typename T>
T integer(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<T>();
  if (!it->is_string()) throw std::invalid_argument(std::string(key) + " is not an integer");
  const auto& s = it->get_ref<const std::string&>();
  T v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) throw std::invalid_argument(std::string(key) + ": " + s);
  return v;
}

std::vector<std::string> strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (auto it = j.find(key); it != j.end() && it->is_array()) {
    for (const auto& v : *it) out.push_back(v.get<std::string>());
  }
  return out;
}

Member member_of(const json& j) {
  Member m;
  m.id = integer<std::uint64_t>(j, "ID");
  m.name = j.value("name", "");
  m.peer_urls = strings(j, "peerURLs");
  m.client_urls = strings(j, "clientURLs");
  m.learner = j.value("isLearner", false);
  return m;
}

MemberList list_of(const json& j) {
  MemberList l;
  if (auto h = j.find("header"); h != j.end()) {
    l.cluster_id = integer<std::uint64_t>(*h, "cluster_id");
    l.responder = integer<std::uint64_t>(*h, "member_id");
  }
  if (auto ms = j.find("members"); ms != j.end() && ms->is_array()) {
    for (const auto& m : *ms) l.members.push_back(member_of(m));
  }
  return l;
}

// Runs `read` over a parsed 200 reply; anything else becomes the error text.
template <typename T, typename F>
Parsed<T> reply(int status, std::string_view body, F read) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception&) {
    return "HTTP " + std::to_string(status) + ", not JSON: " + std::string(body.substr(0, 200));
  }
  if (!j.is_object()) return "HTTP " + std::to_string(status) + ": not a JSON object";
  if (status != 200 || j.contains("error")) {
    std::string msg = j.value("message", "");
    if (msg.empty() && j.contains("error") && j["error"].is_string()) msg = j["error"].get<std::string>();
    return msg.empty() ? "HTTP " + std::to_string(status) : msg;
  }
  try {
    return read(j);
  } catch (const std::exception& e) {
    return std::string("unexpected reply: ") + e.what();
  }
}
}  // namespace

GatewayRequest member_list_request() { return post("/v3/cluster/member/list", json::object()); }
GatewayRequest member_add_request(std::string_view peer_url, bool learner) {
  return post("/v3/cluster/member/add", {{"peerURLs", {peer_url}}, {"isLearner", learner}});
}
GatewayRequest member_remove_request(MemberId id) {
  return post("/v3/cluster/member/remove", {{"ID", std::to_string(id)}});
}
GatewayRequest member_promote_request(MemberId id) {
  return post("/v3/cluster/member/promote", {{"ID", std::to_string(id)}});
}
GatewayRequest status_request() { return post("/v3/maintenance/status", json::object()); }
GatewayRequest snapshot_request() { return post("/v3/maintenance/snapshot", json::object()); }
GatewayRequest put_request(std::string_view key, std::string_view value) {
  return post("/v3/kv/put", {{"key", base64_encode(key)}, {"value", base64_encode(value)}});
}
GatewayRequest range_request(std::string_view key) { return post("/v3/kv/range", {{"key", base64_encode(key)}}); }

Parsed<MemberList> parse_member_list(int status, std::string_view body) {
  return reply<MemberList>(status, body, [](const json& j) { return list_of(j); });
}

Parsed<MemberAdded> parse_member_added(int status, std::string_view body) {
  return reply<MemberAdded>(status, body, [](const json& j) {
    MemberAdded a;
    a.member = member_of(j.at("member"));
    a.list = list_of(j);
    return a;
  });
}

Parsed<MemberStatus> parse_status(int status, std::string_view body) {
  return reply<MemberStatus>(status, body, [](const json& j) {
    MemberStatus s;
    const json& h = j.at("header");
    s.id = integer<std::uint64_t>(h, "member_id");
    s.cluster_id = integer<std::uint64_t>(h, "cluster_id");
    s.revision = integer<std::int64_t>(h, "revision");
    s.leader = integer<std::uint64_t>(j, "leader");
    s.raft_index = integer<std::uint64_t>(j, "raftIndex");
    s.raft_term = integer<std::uint64_t>(j, "raftTerm");
    s.db_size = integer<std::int64_t>(j, "dbSize");
    s.learner = j.value("isLearner", false);
    s.version = j.value("version", "");
    return s;
  });
}

Parsed<std::monostate> parse_ack(int status, std::string_view body) {
  return reply<std::monostate>(status, body, [](const json&) { return std::monostate{}; });
}

Parsed<std::optional<std::string>> parse_range(int status, std::string_view body) {
  return reply<std::optional<std::string>>(status, body, [](const json& j) -> std::optional<std::string> {
    auto kvs = j.find("kvs");
    if (kvs == j.end() || !kvs->is_array() || kvs->empty()) return std::nullopt;
    auto v = base64_decode((*kvs)[0].value("value", ""));
    if (!v) throw std::invalid_argument("value is not base64");
    return v;
  });
}

bool SnapshotStream::line(std::string_view text, std::string& out) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return true;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception&) {
    error_ = "snapshot stream: a message is not JSON";
    return false;
  }
  if (!j.is_object() || j.contains("error")) {
    error_ = "snapshot stream: etcd reported an error: " + j.dump().substr(0, 300);
    return false;
  }
  auto r = j.find("result");
  if (r == j.end() || !r->is_object()) {
    error_ = "snapshot stream: a message without a result";
    return false;
  }
  auto blob = r->find("blob");
  if (blob == r->end()) return true;  // an empty chunk
  if (!blob->is_string()) {
    error_ = "snapshot stream: blob is not a string";
    return false;
  }
  auto bytes = base64_decode(blob->get_ref<const std::string&>());
  if (!bytes) {
    error_ = "snapshot stream: blob is not base64";
    return false;
  }
  out += *bytes;
  return true;
}

bool SnapshotStream::feed(std::string_view chunk, std::string& out) {
  if (!error_.empty()) return false;
  pending_.append(chunk);
  std::size_t start = 0;
  for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
    if (!line(std::string_view(pending_).substr(start, nl - start), out)) return false;
  }
  pending_.erase(0, start);
  if (pending_.size() > kMaxLine) {
    error_ = "snapshot stream: a message longer than " + std::to_string(kMaxLine) + " bytes";
    return false;
  }
  return true;
}

bool SnapshotStream::finish(std::string& out) {
  if (!error_.empty()) return false;
  const bool ok = line(pending_, out);
  pending_.clear();
  return ok;
}

}  // namespace ramfleet::etcd
