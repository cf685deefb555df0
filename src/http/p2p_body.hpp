#pragma once
// The body of POST /api/v1/machines/{id}/p2p/{image_id} (the p2p tracker,
// docs/scale.md): {"port":7480,"have":[i,...],"want":[i,...]}. Sent by nodes
// (or anyone on the boot network), so untrusted: a pure function, unit-tested
// and fuzzed (tests/fuzz/fuzz_http_p2p_body.cpp). Indices are checked against
// the image's chunk count later, by the tracker.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ramfleet::http {

// More indices than an image can have chunks (stage1::max_chunks) is a lie.
inline constexpr std::size_t kMaxP2pIndices = 65536;

struct P2pAnnounceBody {
  std::uint16_t port = 0;
  std::vector<std::uint32_t> have;
  std::vector<std::uint32_t> want;
};

struct P2pBody {
  std::optional<P2pAnnounceBody> announce;  // set exactly when error is empty
  std::string error;                        // what a 400 tells the sender
};

// "port" (1..65535) is required; "have" and "want" are arrays of chunk
// indices (integers 0..65535, at most kMaxP2pIndices each), absent = empty;
// any other field is refused.
P2pBody parse_p2p_body(std::string_view body);

}  // namespace ramfleet::http
