#pragma once
// The membership reconciler's decisions, sans-IO: what ramfleet saw of the
// cluster in, what to do out (docs/etcd.md, "What ramfleet decides"). The
// service that observes and acts is net/etcd_service.
//
// Two moments decide:
//   * a member's authenticated boot (its boot token redeemed for its config:
//     the only proof that it booted with empty RAM) -> decide_boot;
//   * the periodic pass (every couple of seconds) -> decide_tick: mark the
//     first formation done, finish a cold start, promote learners, snapshot.
// Nothing is ever decided from a member merely being unreachable: a
// partitioned member is left alone.
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcd/gateway.hpp"
#include "etcd/member_conf.hpp"

namespace ramfleet::etcd {

// A member as cluster.yaml names it.
struct ConfiguredMember {
  std::string name;
  std::string ip;
};

// What ramfleet saw just now.
struct Observation {
  std::optional<MemberList> list;                // from a member that answered
  std::map<std::string, MemberStatus> answered;  // configured name -> its status, for those that answered
  [[nodiscard]] bool any_reachable() const { return !answered.empty(); }
};

struct Quorum {
  std::size_t voters = 0;          // members that are not learners
  std::size_t healthy_voters = 0;  // of those, the ones that answered
  bool leader = false;             // one that answered knows a leader in the list
  [[nodiscard]] std::size_t needed() const { return voters / 2 + 1; }
  [[nodiscard]] bool ok() const { return leader && voters > 0 && healthy_voters >= needed(); }
};
Quorum quorum_of(const Observation& seen);

// What STATE remembers between boots (STATE/etcd/formation.json).
struct Formation {
  bool formed = false;                   // a leader was seen once: never the first formation again
  std::optional<std::string> cold_seed;  // a cold start in progress: the member restoring the snapshot
  std::string token;                     // initial-cluster-token of the current formation
};

enum class BootVerdict {
  first_formation,     // serve `new` with every configured member
  cold_seed,           // serve `new` with itself alone, restored from the newest good snapshot
  rejoin,              // remove its stale entry (if any), add it as a learner, serve `existing`
  refuse_healthy,      // it still answers at its client URL: it did not boot empty
  refuse_no_quorum,    // members answer but without quorum: nothing can change membership
  refuse_quorum_loss,  // removing its stale voter would lose quorum
  wait_learner,        // another learner is still catching up (etcd allows one)
  wait_seed,           // a cold start is in progress and its first member is not up yet
  refuse_no_snapshot,  // the cluster existed, nothing answers and no snapshot passes its check
};
std::string_view to_string(BootVerdict v);
// Whether asking again later may get another answer (503 rather than 409).
bool is_wait(BootVerdict v);

struct BootDecision {
  BootVerdict verdict = BootVerdict::refuse_no_quorum;
  std::string reason;           // logged and shown by the API
  std::optional<Member> stale;  // rejoin: the entry to remove first
};

BootDecision decide_boot(const std::vector<ConfiguredMember>& configured, const std::string& name,
                         const Observation& seen, const Formation& formation, bool snapshot_available);

// etcd's initial-cluster for a member joining `after` (the list once it was
// added): started members by their name, unstarted ones by the configured
// name of their peer URL (etcd compares only the peer URLs).
std::vector<InitialPeer> initial_cluster_of(const MemberList& after, const std::vector<ConfiguredMember>& configured);

struct TickDecision {
  bool mark_formed = false;      // a leader answered
  bool cold_start_done = false;  // the cold start's seed answers with a leader
  std::vector<Member> promote;   // started learners (etcd refuses until one is in sync)
  std::string snapshot_from;     // non-empty: take a snapshot from this client URL now
  std::string reason;            // why the snapshot is (not) taken, for the log
};

// `since_snapshot`: time since the last good snapshot (nullopt: none yet).
TickDecision decide_tick(const std::vector<ConfiguredMember>& configured, const Observation& seen,
                         const Formation& formation, std::optional<std::chrono::milliseconds> since_snapshot,
                         std::chrono::milliseconds interval);

}  // namespace ramfleet::etcd
