#pragma once
// Durations as operators write them: "24h", "30m", "1h30m", "7d", "90s".
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ramfleet::kube {

std::optional<std::chrono::seconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::seconds d);

}  // namespace ramfleet::kube
