#pragma once
// GET /metrics (operator listener, any scope; docs/operations.md "Metrics"):
// everything the registry holds, in Prometheus' text format 0.0.4. The HTTP
// service adds its own part at scrape time with collect_http_metrics.
#include "core/metrics.hpp"
#include "http/message.hpp"
#include "http/route_label.hpp"
#include "http/service_state.hpp"

namespace ramfleet::http {

Reply handle_metrics(ServiceState& state, const Request& req);

// One request answered, on either listener: `seconds` from the request read to
// the reply written, under its route's label (route_label.hpp).
inline void observe_request(ServiceState& state, const Request& req, double seconds) {
  if (auto* h = state.request_seconds[static_cast<std::size_t>(route_label(req.method, req.target))])
    h->observe(seconds);
}

// The HTTP service's counters (and the machine store's), and its gauges:
// boot tokens outstanding, machines known, boots being followed, inventory.
void collect_http_metrics(ServiceState& state, metrics::Exposition& out);

}  // namespace ramfleet::http
