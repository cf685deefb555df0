#pragma once
// How the services' Counters ("dhcp.drop.bad_cookie", "http.error.not_found")
// become Prometheus metrics. A counter that belongs to an obvious family
// becomes one series of a labelled metric:
//
//   dhcp.drop.bad_cookie   -> ramfleet_dhcp_dropped_total{reason="bad_cookie"}
//   http.error.not_found   -> ramfleet_http_errors_total{reason="not_found"}
//
// (the table is in counter_metrics.cpp and docs/operations.md); every other
// counter keeps its name, dots made underscores:
//
//   http.ipxe.cache_hit    -> ramfleet_http_ipxe_cache_hit_total
//
// The names come from the code (fixed strings and enum names), never from a
// request, so neither form lets a client create series.
#include <string>
#include <string_view>

#include "core/counters.hpp"
#include "core/metrics.hpp"

namespace ramfleet::metrics {

struct CounterMetric {
  std::string name;  // without "_total"
  std::string help;
  Labels labels;
};

// The metric one counter name becomes.
CounterMetric counter_metric(std::string_view counter);

// Adds every counter of `counters` to `out`.
void write_counters(Exposition& out, const Counters& counters);

}  // namespace ramfleet::metrics
