#pragma once
// The work behind the HTTP service's timers, as plain functions of its state:
// loading the config at start, picking up inventory edits, flushing boot
// records. The transport (net/http_server) owns the timers and calls these.
#include <string>

#include "http/service_state.hpp"

namespace ramfleet::http {

// Loads the inventory, finds the assets directory and opens
// <state>/ramfleet.db. Throws std::system_error naming every problem
// (file:line:col for config errors); `state` is unusable after a throw.
void open_service_state(ServiceState& state);

// Reloads the inventory when its files changed since the last call: a good
// edit is installed (new generation), a broken one is refused, logged and
// counted, and the previous inventory keeps serving.
void reload_inventory_if_changed(ServiceState& state);

// Writes pending boot records; a failure is logged and counted, never thrown.
void flush_store(ServiceState& state);

}  // namespace ramfleet::http
