#pragma once
// Per-node boot progress, from what ramfleet's API and the serial console
// show: dhcp (a lease) -> ipxe (iPXE fetched its machine script) -> kernel
// (the kernel ran the image's /init) -> configured -> ready (phases the node
// POSTed itself) -> etcd (only for etcd members: a healthy voting member, as
// etcdctl sees it from the host). Pure: observations in, state and text out.
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "lab/lab_state.hpp"

namespace ramfleet::lab {

enum class Phase { dhcp = 0, ipxe, kernel, configured, ready, etcd };
inline constexpr std::size_t kPhaseCount = 6;
const char* phase_name(Phase p);

struct Observation {
  bool leased = false;            // /api/v1/leases has its MAC
  bool asked_for_script = false;  // /api/v1/machines has it with boots > 0
  bool init_started = false;      // serial console shows the image's /init
  std::string last_phase;         // /api/v1/machines last_phase: booted|configured|ready|error
  bool etcd_voting = false;       // its endpoint is healthy and the member list has it as a voter
};

struct NodeProgress {
  NodeSpec spec;
  bool etcd_member = false;                           // the lab waits for Phase::etcd too
  std::array<std::optional<double>, kPhaseCount> at;  // seconds since the VM started
  std::optional<std::string> error;                   // the node reported `error`
  std::optional<double> uptime;                       // reported with ready
  std::optional<long long> root_bytes;
  std::string ready_message;
  std::string etcd_state;  // the last etcdctl view: voting, learner, not a member, unhealthy: ...

  [[nodiscard]] bool ready() const { return at[static_cast<std::size_t>(Phase::ready)].has_value(); }
  // Every phase this node has reached: ready, and for an etcd member, a voting member.
  [[nodiscard]] bool done() const { return ready() && (!etcd_member || at[static_cast<std::size_t>(Phase::etcd)]); }
  // The first phase not reached yet (what the node is waiting for).
  [[nodiscard]] Phase waiting_for() const;
};

// Records phases newly seen at time `now`. A later phase implies the earlier
// ones (a poll can miss a short phase): they get the same time. The etcd
// phase is the exception: it is recorded only once the node reported ready.
void observe(NodeProgress& n, const Observation& o, double now);

// A table: one line per node, each phase's time or "." while pending (the
// etcd column only when some node is an etcd member).
std::string render_table(const std::vector<NodeProgress>& nodes, double elapsed);

}  // namespace ramfleet::lab
