#include "http/p2p_body.hpp"

#include <nlohmann/json.hpp>

#include "core/json_nesting.hpp"

namespace ramfleet::http {
namespace {
using json = nlohmann::json;

P2pBody bad(std::string why) { return P2pBody{std::nullopt, std::move(why)}; }

// The document is an object holding two flat arrays: anything nested deeper
// is refused before the parser builds it.
constexpr int kMaxDepth = 2;

std::optional<std::string> indices(const json& doc, const char* key, std::vector<std::uint32_t>& out) {
  const auto it = doc.find(key);
  if (it == doc.end()) return std::nullopt;
  if (!it->is_array()) return std::string("\"") + key + "\" must be an array of chunk indices";
  if (it->size() > kMaxP2pIndices)
    return std::string("\"") + key + "\" lists more than " + std::to_string(kMaxP2pIndices) + " chunks";
  out.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_number_unsigned() || v.get<std::uint64_t>() >= kMaxP2pIndices)
      return std::string("\"") + key + "\" holds something that is not a chunk index (0.." +
             std::to_string(kMaxP2pIndices - 1) + ")";
    out.push_back(static_cast<std::uint32_t>(v.get<std::uint64_t>()));
  }
  return std::nullopt;
}
}  // namespace

P2pBody parse_p2p_body(std::string_view body) {
  if (!json_nests_within(body, kMaxDepth))
    return bad("the body nests deeper than {\"port\":..,\"have\":[..],\"want\":[..]}");
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return bad("the body must be a JSON object");
  for (const auto& [k, v] : doc.items())
    if (k != "port" && k != "have" && k != "want") return bad("unknown field \"" + k.substr(0, 64) + "\"");
  P2pAnnounceBody a;
  const auto port = doc.find("port");
  if (port == doc.end() || !port->is_number_unsigned() || port->get<std::uint64_t>() == 0 ||
      port->get<std::uint64_t>() > 65535)
    return bad("\"port\" must be the TCP port (1..65535) this node serves chunks on");
  a.port = static_cast<std::uint16_t>(port->get<std::uint64_t>());
  if (auto e = indices(doc, "have", a.have)) return bad(*e);
  if (auto e = indices(doc, "want", a.want)) return bad(*e);
  return P2pBody{std::move(a), {}};
}

}  // namespace ramfleet::http
