#pragma once
// The route a request went to, as a metrics label: a fixed set, read from the
// target's first path segment, so a client sending odd paths cannot create
// series (everything unknown is `other`). Never the raw path.
#include <array>
#include <cstddef>
#include <string_view>

#include "http/message.hpp"

namespace ramfleet::http {

enum class RouteLabel : std::size_t {
  boot_ipxe,  // /boot.ipxe
  ipxe,       // /ipxe
  config,     // /ignition, /cloud-config, /apkovl
  assets,     // /assets/...
  etcd,       // /etcd/snapshot/...
  healthz,    // /healthz
  events,     // POST /api/v1/machines/{id}/events (node reports)
  api,        // every other /api/...
  metrics,    // /metrics
  ui,         // /ui/...
  other,      // anything else (404s, probes)
};
inline constexpr std::size_t kRouteLabels = static_cast<std::size_t>(RouteLabel::other) + 1;

RouteLabel route_label(Method method, std::string_view target);
std::string_view to_string(RouteLabel label);

}  // namespace ramfleet::http
