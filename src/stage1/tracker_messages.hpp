#pragma once
// What a p2p node says to ramfleet's tracker and reads back
// (POST /api/v1/machines/{id}/p2p/{image_id}, docs/scale.md). Sans-IO; the
// reply comes over the boot network and is read as untrusted (bounded).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::stage1 {

// {"port":7480,"have":[...],"want":[...]}
std::string tracker_announce_body(std::uint16_t port, const std::vector<std::uint32_t>& have,
                                  const std::vector<std::uint32_t>& want);

struct TrackerReply {
  std::map<std::uint32_t, std::vector<std::string>> sources;  // chunk -> ["ip:port", ...] or ["server"]
  std::chrono::milliseconds retry{500};                       // clamped to 100 ms .. 10 s
};

// nullopt + `error` when the text is not a tracker reply; sources naming a
// chunk beyond `chunk_count` or anything but "server" / "A.B.C.D:port" are
// dropped (at most 16 per chunk kept).
std::optional<TrackerReply> parse_tracker_reply(std::string_view text, std::size_t chunk_count, std::string& error);

}  // namespace ramfleet::stage1
