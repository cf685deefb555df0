#pragma once
// The storm's figures: time until all machines are ready, p50/p99 per phase,
// failures by reason, distinct leases; printed as a table and, for
// bench/storm/run, as one JSON object.
#include <ostream>
#include <string>

#include "storm.hpp"

namespace storm {

struct Summary {
  int clients = 0, ready = 0, failed = 0, retries = 0;
  int distinct_leases = 0;
  double all_ready_s = 0;  // time until the last machine was ready (only meaningful when failed == 0)
  double wall_s = 0;
  std::uint64_t bytes = 0;
};

Summary summarise(const Storm& storm);
void print_report(const Storm& storm, const Summary& s, std::ostream& out);
std::string report_json(const Storm& storm, const Summary& s);

}  // namespace storm
