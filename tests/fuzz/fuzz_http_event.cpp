// libFuzzer target: the body of POST /api/v1/machines/{id}/events, which anyone
// on the boot network can send. Invariants (a violation aborts): exactly one
// of event and error is set, an accepted event's message is within the limit,
// its numbers are finite and non-negative, and a refusal names its reason in
// a bounded message.
// fuzz-options: -max_len=8192
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http/event_body.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto r = ramfleet::http::parse_event_body(body);
  if (r.event.has_value() == !r.error.empty()) std::abort();
  if (r.event) {
    if (r.event->message.size() > ramfleet::http::kMaxEventMessage) std::abort();
    if (r.event->uptime && (!std::isfinite(*r.event->uptime) || *r.event->uptime < 0)) std::abort();
    if (r.event->root_bytes && *r.event->root_bytes < 0) std::abort();
    if (r.event->phase == ramfleet::boot::Phase::error && r.event->message.empty()) std::abort();
  } else if (r.error.size() > 256) {
    std::abort();
  }
  return 0;
}
