#include "kube/duration.hpp"

#include <charconv>

namespace ramfleet::kube {

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total = 0;
  const char* p = text.data();
  const char* end = p + text.size();
  while (p != end) {
    long long n = 0;
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc{} || next == end || n < 0 || n > 100000000) return std::nullopt;
    long long unit = 0;
    switch (*next) {
      case 'd':
        unit = 86400;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'm':
        unit = 60;
        break;
      case 's':
        unit = 1;
        break;
      default:
        return std::nullopt;
    }
    total += n * unit;
    if (total > 100LL * 365 * 86400) return std::nullopt;
    p = next + 1;
  }
  return std::chrono::seconds(total);
}

std::string format_duration(std::chrono::seconds d) {
  long long s = d.count();
  if (s <= 0) return "0s";
  std::string out;
  const std::pair<long long, char> units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
  for (auto [size, suffix] : units) {
    if (s >= size) {
      out += std::to_string(s / size) + suffix;
      s %= size;
    }
  }
  return out;
}

}  // namespace ramfleet::kube
