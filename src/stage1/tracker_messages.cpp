#include "stage1/tracker_messages.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ramfleet::stage1 {
namespace {
using json = nlohmann::json;
constexpr std::size_t kMaxReply = 1U << 20U;
constexpr std::size_t kMaxPeersPerChunk = 16;

// "10.99.0.12:7480": what the tracker hands out (it only knows IPv4 peers
// that stage 1 can reach; anything else is skipped, not trusted).
bool ipv4_endpoint(std::string_view s) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == s.size() || s.size() - colon - 1 > 5) return false;
  const auto port = s.substr(colon + 1);
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
  int dots = 0, digits = 0;
  for (char c : s.substr(0, colon)) {
    if (c == '.') {
      if (digits == 0) return false;
      ++dots;
      digits = 0;
    } else if (c >= '0' && c <= '9' && digits < 3) {
      ++digits;
    } else {
      return false;
    }
  }
  return dots == 3 && digits > 0;
}
}  // namespace

std::string tracker_announce_body(std::uint16_t port, const std::vector<std::uint32_t>& have,
                                  const std::vector<std::uint32_t>& want) {
  return json{{"port", port}, {"have", have}, {"want", want}}.dump();
}

std::optional<TrackerReply> parse_tracker_reply(std::string_view text, std::size_t chunk_count, std::string& error) {
  if (text.size() > kMaxReply) {
    error = "tracker reply larger than " + std::to_string(kMaxReply) + " bytes";
    return std::nullopt;
  }
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "tracker reply is not a JSON object";
    return std::nullopt;
  }
  TrackerReply r;
  if (auto it = doc.find("retry_ms"); it != doc.end() && it->is_number_unsigned())
    r.retry = std::chrono::milliseconds(std::clamp<std::uint64_t>(it->get<std::uint64_t>(), 100, 10'000));
  const auto sources = doc.find("sources");
  if (sources == doc.end() || !sources->is_object()) {
    error = "tracker reply has no \"sources\" object";
    return std::nullopt;
  }
  for (const auto& [key, list] : sources->items()) {
    if (key.empty() || key.size() > 6 ||
        !std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    const auto chunk = std::stoul(key);
    if (chunk >= chunk_count || !list.is_array()) continue;
    std::vector<std::string> names;
    for (const auto& v : list) {
      if (!v.is_string() || names.size() >= kMaxPeersPerChunk) continue;
      const auto& s = v.get_ref<const std::string&>();
      if (s == "server" || ipv4_endpoint(s)) names.push_back(s);
    }
    if (!names.empty()) r.sources[static_cast<std::uint32_t>(chunk)] = std::move(names);
  }
  return r;
}

}  // namespace ramfleet::stage1
