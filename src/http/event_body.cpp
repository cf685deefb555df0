#include "http/event_body.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ramfleet::http {

namespace {
EventBody refused(std::string why) { return {std::nullopt, std::move(why)}; }
}  // namespace

EventBody parse_event_body(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refused("body must be a JSON object");
  boot::NodeEvent e;
  bool has_phase = false;
  for (const auto& [k, v] : j.items()) {
    if (k == "phase") {
      auto p = v.is_string() ? boot::phase_from_string(v.get_ref<const std::string&>()) : std::nullopt;
      if (!p) return refused("phase must be one of booted, configured, ready, error");
      e.phase = *p;
      has_phase = true;
    } else if (k == "message") {
      if (!v.is_string() || v.get_ref<const std::string&>().size() > kMaxEventMessage)
        return refused("message must be a string of <= 4096 bytes");
      e.message = v.get<std::string>();
    } else if (k == "uptime") {
      // NaN and infinities cannot come from JSON text, but a huge exponent
      // can overflow to infinity: refuse what is not a finite count.
      if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() < 0)
        return refused("uptime must be a non-negative number of seconds");
      e.uptime = v.get<double>();
    } else if (k == "root_bytes") {
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() ? v.get<std::uint64_t>() > INT64_MAX : v.get<std::int64_t>() < 0))
        return refused("root_bytes must be a non-negative integer");
      e.root_bytes = v.get<std::int64_t>();
    } else {
      // The field name is the sender's: cut it so a reply stays small.
      return refused("unknown field '" + k.substr(0, 64) + "' (expected phase, message, uptime, root_bytes)");
    }
  }
  if (!has_phase) return refused("phase is required");
  if (e.phase == boot::Phase::error && e.message.empty()) return refused("an error event needs a message");
  return {std::move(e), {}};
}

}  // namespace ramfleet::http
