#include "tftp/options.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace ramfleet::tftp {

namespace {

// Strict decimal: digits only (no sign, no spaces), as the RFCs specify ASCII numbers.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool already_seen(const std::vector<Option>& accepted, std::string_view name) {
  return std::any_of(accepted.begin(), accepted.end(), [&](const Option& o) { return iequals(o.name, name); });
}

}  // namespace

Negotiated negotiate(const std::vector<Option>& requested, const Settings& settings,
                     std::optional<std::uint64_t> file_size) {
  Negotiated result;
  result.timeout = settings.retransmit_timeout;
  const std::uint16_t blksize_cap = std::clamp<std::uint16_t>(settings.max_blksize, kMinBlockSize, kMaxBlockSize);
  const std::uint16_t windowsize_cap = std::max<std::uint16_t>(settings.max_windowsize, 1);

  for (const auto& option : requested) {
    auto accept = [&](std::string value) {
      // Echo the name as the client spelled it: some ROMs compare case-sensitively.
      result.accepted.push_back(Option{option.name, std::move(value)});
    };
    if (already_seen(result.accepted, option.name)) {
      result.ignored.push_back(option);
      continue;
    }
    auto number = parse_number(option.value);
    if (iequals(option.name, "blksize")) {
      if (!number || *number < kMinBlockSize) {
        result.ignored.push_back(option);
        continue;
      }
      // Larger than allowed: answer with our ceiling (RFC 2348 lets the server lower it).
      result.blksize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*number, blksize_cap));
      accept(std::to_string(result.blksize));
    } else if (iequals(option.name, "windowsize")) {
      if (!number || *number < 1 || *number > 65535) {
        result.ignored.push_back(option);
        continue;
      }
      result.windowsize = static_cast<std::uint16_t>(std::min<std::uint64_t>(*number, windowsize_cap));
      accept(std::to_string(result.windowsize));
    } else if (iequals(option.name, "timeout")) {
      // RFC 2349: 1..255 seconds, and the server must echo the same value or ignore it.
      if (!number || *number < 1 || *number > 255) {
        result.ignored.push_back(option);
        continue;
      }
      // Above our cap: ignore it (we retransmit at our default), rather than let a
      // client that never answers hold a transfer for up to 6 x 255 s.
      if (std::chrono::seconds(*number) > settings.max_timeout) {
        result.timeout_over_cap = true;
        result.ignored.push_back(option);
        continue;
      }
      result.timeout = std::chrono::seconds(*number);
      accept(option.value);
    } else if (iequals(option.name, "tsize")) {
      // In a read request the client sends 0 (any value is accepted) and we answer with the size.
      if (!number || !file_size) {
        result.ignored.push_back(option);
        continue;
      }
      accept(std::to_string(*file_size));
    } else {
      result.ignored.push_back(option);
    }
  }
  // Bound the memory a window holds (see Settings::max_window_bytes); echo what we really use.
  std::size_t by_memory = std::max<std::size_t>(1, settings.max_window_bytes / result.blksize);
  if (result.windowsize > by_memory) {
    result.windowsize = static_cast<std::uint16_t>(by_memory);
    for (auto& o : result.accepted) {
      if (iequals(o.name, "windowsize")) o.value = std::to_string(result.windowsize);
    }
  }
  return result;
}

}  // namespace ramfleet::tftp
