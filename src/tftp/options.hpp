#pragma once
// RFC 2347 option negotiation for read requests: blksize (RFC 2348), timeout
// and tsize (RFC 2349), windowsize (RFC 7440). Options we do not know or whose
// values are invalid are ignored (never echoed); an OACK is sent only when at
// least one option was accepted.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "tftp/packet.hpp"
#include "tftp/settings.hpp"

namespace ramfleet::tftp {

inline constexpr std::uint16_t kDefaultBlockSize = 512;
inline constexpr std::uint16_t kMinBlockSize = 8;
inline constexpr std::uint16_t kMaxBlockSize = 65464;

struct Negotiated {
  std::uint16_t blksize = kDefaultBlockSize;
  std::uint16_t windowsize = 1;
  std::chrono::milliseconds timeout{1000};
  // Options to echo in the OACK, in the client's order; empty: no OACK, start with DATA 1.
  std::vector<Option> accepted;
  // Options that were present but ignored (unknown, duplicate or invalid), for logs and counters.
  std::vector<Option> ignored;
  // The client asked for a timeout above Settings::max_timeout (then ignored, in `ignored` too).
  bool timeout_over_cap = false;
};

// file_size: the size tsize reports; nullopt when it is not known up front
// (netascii, whose transferred size differs from the file's), so tsize is not echoed.
Negotiated negotiate(const std::vector<Option>& requested, const Settings& settings,
                     std::optional<std::uint64_t> file_size);

}  // namespace ramfleet::tftp
