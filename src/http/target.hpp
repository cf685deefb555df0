#pragma once
// The request target (origin-form, RFC 9110 7.1) split into decoded path
// segments and query parameters. Sans-IO and bounded: at most
// kMaxTargetParams + 1 parameters are kept, so the caller can refuse "too many".
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ramfleet::http {

inline constexpr std::size_t kMaxTargetParams = 32;

struct Target {
  // Percent-decoded; empty segments are kept ("/assets//etc" has "" in it), so
  // are "." and ".." (the asset path check refuses them rather than resolving).
  std::vector<std::string> segments;
  std::vector<std::pair<std::string, std::string>> params;  // decoded; "+" is a space
  bool too_many_params = false;                             // more than kMaxTargetParams
};

struct TargetError {
  std::string message;
};

std::variant<Target, TargetError> parse_target(std::string_view target);

}  // namespace ramfleet::http
