#pragma once
// The body of POST /api/v1/machines/{id}/events, read into a boot::NodeEvent.
// A node (or anyone on the boot network) sends it, so it is untrusted input:
// a pure function, unit-tested and fuzzed (tests/fuzz/fuzz_http_event.cpp).
#include <optional>
#include <string>
#include <string_view>

#include "boot/machine_store.hpp"

namespace ramfleet::http {

inline constexpr std::size_t kMaxEventMessage = 4096;

struct EventBody {
  std::optional<boot::NodeEvent> event;  // set exactly when error is empty
  std::string error;                     // what a 400 tells the sender
};

// Accepts a JSON object with "phase" (booted|configured|ready|error, required),
// "message" (string, at most 4096 bytes; required for phase error), "uptime"
// (seconds >= 0) and "root_bytes" (integer >= 0); any other field is refused.
// machine_id and at_ms are left for the caller to fill.
EventBody parse_event_body(std::string_view body);

}  // namespace ramfleet::http
