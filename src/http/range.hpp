#pragma once
// Range request parsing (RFC 9110 section 14), sans-IO: header text and the
// representation's size in, the byte ranges to send (or why not) out.
#include <cstdint>
#include <string_view>
#include <vector>

namespace ramfleet::http {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  [[nodiscard]] std::uint64_t length() const { return last - first + 1; }
  bool operator==(const ByteRange&) const = default;
};

struct RangeRequest {
  enum class Kind {
    none,           // no Range header, or one we must ignore (bad syntax, other unit, too many): send 200
    satisfiable,    // send 206 with `ranges`, sorted, disjoint, each more than kCoalesceGap bytes apart
                    // (one: single part; several: multipart/byteranges)
    unsatisfiable,  // send 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::none;
  std::vector<ByteRange> ranges;
};

// At most this many ranges are honoured; more is treated as no Range (200), so
// a request cannot make the server emit thousands of tiny parts.
inline constexpr std::size_t kMaxRanges = 32;

// Ranges that overlap, touch, or are separated by fewer bytes than a multipart
// part header costs are coalesced into one (RFC 9110 14.2 allows it), so
// `bytes=0-,0-,0-` sends the file once, not three times.
inline constexpr std::uint64_t kCoalesceGap = 80;

RangeRequest parse_range(std::string_view header, std::uint64_t size);

// Sorts and coalesces (see kCoalesceGap); the result covers every byte asked
// for and no byte twice.
std::vector<ByteRange> coalesce_ranges(std::vector<ByteRange> ranges);

}  // namespace ramfleet::http
