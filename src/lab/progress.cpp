#include "lab/progress.hpp"

#include <cstdio>

namespace ramfleet::lab {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::dhcp:
      return "dhcp";
    case Phase::ipxe:
      return "ipxe";
    case Phase::kernel:
      return "kernel";
    case Phase::configured:
      return "configured";
    case Phase::ready:
      return "ready";
    case Phase::etcd:
      return "etcd";
  }
  return "?";
}

namespace {
std::size_t phases_of(bool etcd_member) { return etcd_member ? kPhaseCount : static_cast<std::size_t>(Phase::etcd); }
}  // namespace

Phase NodeProgress::waiting_for() const {
  for (std::size_t i = 0; i < phases_of(etcd_member); ++i)
    if (!at[i]) return static_cast<Phase>(i);
  return etcd_member ? Phase::etcd : Phase::ready;
}

void observe(NodeProgress& n, const Observation& o, double now) {
  int reached = -1;
  auto upto = [&](Phase p) { reached = std::max(reached, static_cast<int>(p)); };
  if (o.leased) upto(Phase::dhcp);
  if (o.asked_for_script) upto(Phase::ipxe);
  if (o.init_started || o.last_phase == "booted") upto(Phase::kernel);
  if (o.last_phase == "configured") upto(Phase::configured);
  if (o.last_phase == "ready") upto(Phase::ready);
  // A member can vote before its node reports ready (the Debian node's
  // reporter waits for the whole boot): the etcd phase follows ready, so
  // `done` still means the node said ready, and ready's time stays its own.
  const bool ready = reached >= static_cast<int>(Phase::ready) || n.ready();
  if (n.etcd_member && o.etcd_voting && ready) upto(Phase::etcd);
  for (int i = 0; i <= reached; ++i)
    if (!n.at[static_cast<std::size_t>(i)]) n.at[static_cast<std::size_t>(i)] = now;
}

std::string render_table(const std::vector<NodeProgress>& nodes, double elapsed) {
  std::string out;
  char line[256];
  bool any_member = false;
  for (const auto& n : nodes) any_member = any_member || n.etcd_member;
  const std::size_t columns = phases_of(any_member);
  std::snprintf(line, sizeof line, "%-8s %-17s %-12s", "node", "mac", "address");
  out += line;
  for (std::size_t i = 0; i < columns; ++i) {
    std::snprintf(line, sizeof line, " %10s", phase_name(static_cast<Phase>(i)));
    out += line;
  }
  std::snprintf(line, sizeof line, "   (%.1f s)\n", elapsed);
  out += line;
  for (const auto& n : nodes) {
    std::snprintf(line, sizeof line, "%-8s %-17s %-12s", n.spec.name.c_str(), n.spec.mac.c_str(), n.spec.ip.c_str());
    out += line;
    for (std::size_t i = 0; i < columns; ++i) {
      if (n.at[i]) {
        std::snprintf(line, sizeof line, " %9.1fs", *n.at[i]);
      } else {
        std::snprintf(line, sizeof line, " %10s", ".");
      }
      out += line;
    }
    if (n.error) out += "   ERROR: " + *n.error;
    out += "\n";
  }
  return out;
}

}  // namespace ramfleet::lab
