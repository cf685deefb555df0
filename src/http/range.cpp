#include "http/range.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace ramfleet::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

}  // namespace

std::vector<ByteRange> coalesce_ranges(std::vector<ByteRange> ranges) {
  std::sort(ranges.begin(), ranges.end(), [](const ByteRange& a, const ByteRange& b) { return a.first < b.first; });
  std::vector<ByteRange> out;
  for (const auto& r : ranges) {
    // r.first >= out.back().first; merge when r starts within the gap after
    // out.back() (written without `last + gap`, which could overflow).
    if (!out.empty() && (r.first <= out.back().last || r.first - out.back().last <= kCoalesceGap + 1)) {
      out.back().last = std::max(out.back().last, r.last);
    } else {
      out.push_back(r);
    }
  }
  return out;
}

RangeRequest parse_range(std::string_view header, std::uint64_t size) {
  RangeRequest none;
  auto eq = header.find('=');
  if (eq == std::string_view::npos || !iequals(trim(header.substr(0, eq)), "bytes")) return none;
  std::string_view set = header.substr(eq + 1);
  RangeRequest r;
  std::size_t specs = 0;
  while (true) {
    auto comma = set.find(',');
    auto spec = trim(set.substr(0, comma));
    if (!spec.empty()) {  // RFC 9110 allows empty list elements
      if (++specs > kMaxRanges) return none;
      auto dash = spec.find('-');
      if (dash == std::string_view::npos) return none;
      auto a = trim(spec.substr(0, dash));
      auto b = trim(spec.substr(dash + 1));
      if (a.empty()) {  // suffix: last N bytes
        auto n = number(b);
        if (!n) return none;
        if (*n > 0 && size > 0) r.ranges.push_back({*n >= size ? 0 : size - *n, size - 1});
      } else {
        auto first = number(a);
        if (!first) return none;
        std::uint64_t last = size == 0 ? 0 : size - 1;
        if (!b.empty()) {
          auto l = number(b);
          if (!l || *l < *first) return none;  // syntactically invalid range-spec
          if (*l < last) last = *l;
        }
        if (*first < size) r.ranges.push_back({*first, last});
      }
    }
    if (comma == std::string_view::npos) break;
    set.remove_prefix(comma + 1);
  }
  if (specs == 0) return none;
  if (r.ranges.empty()) {
    r.kind = RangeRequest::Kind::unsatisfiable;
    return r;
  }
  r.ranges = coalesce_ranges(std::move(r.ranges));
  r.kind = RangeRequest::Kind::satisfiable;
  return r;
}

}  // namespace ramfleet::http
