#pragma once
// What the HTTP handlers share: the boot layer's state (boot/state.hpp:
// inventory, cluster config, boot tokens, machine store, caches, counters)
// plus what only HTTP needs (its settings, the assets root). Owned by the HTTP
// service and touched only from its event loop.
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

#include "boot/chunk_tracker.hpp"
#include "boot/settings.hpp"
#include "boot/state.hpp"
#include "core/metrics.hpp"
#include "http/event_feed.hpp"
#include "http/pacing.hpp"
#include "http/route_label.hpp"
#include "http/settings.hpp"

namespace ramfleet::http {

struct ServiceState : boot::BootState {
  // Wires the boot layer's hook to the live feed; the hook holds `this`, so
  // the state stays where it was made.
  ServiceState();
  ServiceState(const ServiceState&) = delete;
  ServiceState& operator=(const ServiceState&) = delete;

  HttpSettings settings;
  std::filesystem::path assets_root;  // canonical; empty when there is no assets directory
  std::string inventory_fingerprint;  // of the inventory files last loaded (service_upkeep.hpp)
  std::uint64_t boundary_seq = 0;
  // Asset replies being sent, bounded by limits.max_file_transfers (pacing.hpp).
  TransferPacer file_transfers;
  LogThrottle<> paced_log{std::chrono::seconds(10)};
  // Where the operator listener is ("https://127.0.0.1:9443"), named in the
  // boot listener's 403 to operator routes; empty when it is off.
  std::string operator_listener;
  // Who holds which chunk of which image, and who may take one from us
  // (POST /api/v1/machines/{id}/p2p/{image_id}, p2p_handlers.cpp).
  boot::ChunkTracker chunk_tracker;
  // Boots, node phases and approvals for GET /api/v1/events/stream (event_feed.hpp).
  EventFeed events;
  // What GET /metrics renders (owned by serve); null: no metrics in this process.
  metrics::Registry* metrics = nullptr;
  // Request time by route (route_label.hpp), both listeners; null until metrics are attached.
  std::array<metrics::Histogram*, kRouteLabels> request_seconds{};
};

// The boot layer's part of the settings.
boot::BootSettings boot_settings(const HttpSettings& settings);

std::int64_t now_ms();

}  // namespace ramfleet::http
