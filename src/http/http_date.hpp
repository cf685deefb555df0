#pragma once
// HTTP dates (IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"), for Last-Modified
// and If-Modified-Since.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::http {

std::string format_http_date(std::time_t t);
// IMF-fixdate only (what every current client sends); nullopt otherwise, and
// the caller ignores the header as RFC 9110 asks for invalid dates.
std::optional<std::time_t> parse_http_date(std::string_view text);

}  // namespace ramfleet::http
