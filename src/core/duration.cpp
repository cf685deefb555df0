#include "core/duration.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace ramfleet {

namespace {

constexpr long long kMaxPart = 100'000'000;                    // per number: keeps every product in range
constexpr long long kMaxTotalMs = 100LL * 365 * 86400 * 1000;  // 100 years

// Milliseconds per unit; "ms" before "m" so the longer name wins.
constexpr std::array<std::pair<std::string_view, long long>, 5> kUnits{
    {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}}};

bool all_digits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, BareUnit bare) {
  if (text.empty()) return std::nullopt;
  if (all_digits(text)) {
    if (bare == BareUnit::rejected) return std::nullopt;
    long long n = 0;
    auto [next, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || next != text.data() + text.size()) return std::nullopt;
    const long long per = bare == BareUnit::seconds ? 1000 : 1;
    if (n > kMaxTotalMs / per) return std::nullopt;
    return std::chrono::milliseconds(n * per);
  }
  long long total = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p != end) {
    long long n = 0;
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc{} || next == end || n < 0 || n > kMaxPart) return std::nullopt;
    std::string_view rest(next, static_cast<std::size_t>(end - next));
    long long per = 0;
    for (auto [name, ms] : kUnits) {
      if (rest.starts_with(name)) {
        per = ms;
        p = next + name.size();
        break;
      }
    }
    if (per == 0) return std::nullopt;
    total += n * per;
    if (total > kMaxTotalMs) return std::nullopt;
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  if (ms <= 0) return "0s";
  std::string out;
  constexpr std::array<std::pair<long long, std::string_view>, 5> kLargestFirst{
      {{86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}, {1, "ms"}}};
  for (auto [size, suffix] : kLargestFirst) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += suffix;
      ms %= size;
    }
  }
  return out;
}

}  // namespace ramfleet
