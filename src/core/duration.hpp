#pragma once
// One duration grammar for every setting, flag and file ramfleet reads:
//   units:  "500ms", "90s", "30m", "12h", "7d"
//   sums:   "1h30m", "1d12h", "2m30s500ms" (any order, each part a whole number)
//   bare:   "3600": a number alone counts in the field's own unit, so the
//           files and flags written before units existed stay valid.
// No signs, spaces or fractions; at most 100 years.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet {

// What a bare number means where it is read.
enum class BareUnit { rejected, milliseconds, seconds };

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, BareUnit bare = BareUnit::seconds);

// The largest-units-first form parse_duration reads back: "1h30m", "500ms", "0s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace ramfleet
