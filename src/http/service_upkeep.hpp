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

enum class ReloadWhen { if_changed, now };
enum class ReloadOutcome { unchanged, accepted, refused };

// Reloads the inventory and cluster.yaml (the timer: when their files changed
// since the last call; SIGHUP: now): a good edit is installed (new
// generation), a broken one (either file) is refused, logged with
// file:line:col and counted, and the previous inventory and cluster.yaml keep
// serving.
ReloadOutcome reload_inventory(ServiceState& state, ReloadWhen when);
void reload_inventory_if_changed(ServiceState& state);

// Writes pending boot records; a failure is logged and counted, never thrown.
void flush_store(ServiceState& state);

}  // namespace ramfleet::http
