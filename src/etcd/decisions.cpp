#include "etcd/decisions.hpp"

#include <algorithm>
#include <set>

namespace ramfleet::etcd {

std::string_view to_string(BootVerdict v) {
  switch (v) {
    case BootVerdict::first_formation:
      return "first_formation";
    case BootVerdict::cold_seed:
      return "cold_start_seed";
    case BootVerdict::rejoin:
      return "rejoin_as_learner";
    case BootVerdict::refuse_healthy:
      return "refused_healthy_member";
    case BootVerdict::refuse_no_quorum:
      return "refused_no_quorum";
    case BootVerdict::refuse_quorum_loss:
      return "refused_quorum_loss";
    case BootVerdict::wait_learner:
      return "wait_for_learner";
    case BootVerdict::wait_seed:
      return "wait_for_cold_start_seed";
    case BootVerdict::refuse_no_snapshot:
      return "refused_no_snapshot";
  }
  return "?";
}

bool is_wait(BootVerdict v) {
  return v == BootVerdict::wait_learner || v == BootVerdict::wait_seed || v == BootVerdict::refuse_no_quorum;
}

namespace {
std::set<MemberId> healthy_ids(const Observation& seen) {
  std::set<MemberId> out;
  for (const auto& [name, st] : seen.answered) out.insert(st.id);
  return out;
}

const ConfiguredMember* configured_member(const std::vector<ConfiguredMember>& configured, const std::string& name) {
  for (const auto& m : configured)
    if (m.name == name) return &m;
  return nullptr;
}

bool has_url(const Member& m, const std::string& url) {
  return std::find(m.peer_urls.begin(), m.peer_urls.end(), url) != m.peer_urls.end();
}

std::string counts(const Quorum& q) {
  return std::to_string(q.healthy_voters) + " of " + std::to_string(q.voters) + " voting members answer, " +
         std::to_string(q.needed()) + " needed";
}
}  // namespace

Quorum quorum_of(const Observation& seen) {
  Quorum q;
  if (!seen.list) return q;
  const auto healthy = healthy_ids(seen);
  std::set<MemberId> ids;
  for (const auto& m : seen.list->members) {
    ids.insert(m.id);
    if (m.learner) continue;
    ++q.voters;
    if (healthy.contains(m.id)) ++q.healthy_voters;
  }
  for (const auto& [name, st] : seen.answered) {
    if (st.leader != 0 && ids.contains(st.leader)) q.leader = true;
  }
  return q;
}

BootDecision decide_boot(const std::vector<ConfiguredMember>& configured, const std::string& name,
                         const Observation& seen, const Formation& formation, bool snapshot_available) {
  BootDecision d;
  const auto* self = configured_member(configured, name);
  const std::string url = self != nullptr ? peer_url(self->ip) : std::string();
  if (seen.answered.contains(name)) {
    d.verdict = BootVerdict::refuse_healthy;
    d.reason = "etcd still answers at " + (self ? client_url(self->ip) : name) +
               ": a member that is running did not boot empty; nothing is changed";
    return d;
  }
  if (!seen.any_reachable()) {
    if (!formation.formed) {
      d.verdict = BootVerdict::first_formation;
      d.reason = "no member answers and the cluster never formed: initial-cluster-state new with every member";
      return d;
    }
    if (formation.cold_seed && *formation.cold_seed != name) {
      d.verdict = BootVerdict::wait_seed;
      d.reason = "cold start in progress: " + *formation.cold_seed +
                 " restores the newest snapshot first; the others join it once it answers";
      return d;
    }
    if (!snapshot_available) {
      d.verdict = BootVerdict::refuse_no_snapshot;
      d.reason =
          "no member answers, the cluster formed before, and no snapshot under STATE/etcd/snapshots passes its "
          "check: refusing to form an empty cluster (docs/etcd.md, \"When nothing can be restored\")";
      return d;
    }
    d.verdict = BootVerdict::cold_seed;
    d.reason = "no member answers (cold start): " + name +
               " restores the newest good snapshot as a one-member cluster; the others join it";
    return d;
  }
  const Quorum q = quorum_of(seen);
  if (!q.ok()) {
    d.verdict = BootVerdict::refuse_no_quorum;
    d.reason = "the cluster has no quorum (" + counts(q) + (q.leader ? "" : ", no leader") +
               "): membership cannot change until it has";
    return d;
  }
  for (const auto& m : seen.list->members) {
    if (m.name == name || (!url.empty() && has_url(m, url))) {
      d.stale = m;
      break;
    }
  }
  for (const auto& m : seen.list->members) {
    if (m.learner && (!d.stale || m.id != d.stale->id)) {
      d.verdict = BootVerdict::wait_learner;
      d.reason = "learner " + (m.name.empty() ? id_hex(m.id) : m.name) +
                 " is still catching up (etcd allows one learner at a time)";
      d.stale.reset();
      return d;
    }
  }
  if (d.stale && !d.stale->learner) {
    const std::size_t voters_after = q.voters - 1;
    if (voters_after == 0 || q.healthy_voters < voters_after / 2 + 1) {
      d.verdict = BootVerdict::refuse_quorum_loss;
      d.reason = "removing its stale member " + id_hex(d.stale->id) + " would leave " +
                 std::to_string(q.healthy_voters) + " healthy of " + std::to_string(voters_after) +
                 " voting members, below quorum";
      return d;
    }
  }
  d.verdict = BootVerdict::rejoin;
  d.reason = "booted empty while the cluster has quorum (" + counts(q) +
             "): " + (d.stale ? "remove its stale member " + id_hex(d.stale->id) + ", " : std::string()) +
             "add it as a learner, serve initial-cluster-state existing";
  return d;
}

std::vector<InitialPeer> initial_cluster_of(const MemberList& after, const std::vector<ConfiguredMember>& configured) {
  std::vector<InitialPeer> out;
  for (const auto& m : after.members) {
    if (m.peer_urls.empty()) continue;
    std::string name = m.name;
    for (const auto& c : configured) {
      if (has_url(m, peer_url(c.ip))) name = name.empty() ? c.name : name;
    }
    if (name.empty()) name = id_hex(m.id);
    for (const auto& u : m.peer_urls) out.push_back({name, u});
  }
  return out;
}

TickDecision decide_tick(const std::vector<ConfiguredMember>& configured, const Observation& seen,
                         const Formation& formation, std::optional<std::chrono::milliseconds> since_snapshot,
                         std::chrono::milliseconds interval) {
  (void)configured;
  TickDecision t;
  const Quorum q = quorum_of(seen);
  if (!q.ok()) {
    t.reason = seen.any_reachable() ? "no quorum" : "no member answers";
    return t;
  }
  if (!formation.formed) t.mark_formed = true;
  if (formation.cold_seed && seen.answered.contains(*formation.cold_seed)) t.cold_start_done = true;
  for (const auto& m : seen.list->members) {
    if (m.learner && m.started()) t.promote.push_back(m);
  }
  if (since_snapshot && *since_snapshot < interval) return t;
  // From the leader when it answered: its data is the newest.
  std::string from;
  for (const auto& [name, st] : seen.answered) {
    if (st.learner) continue;
    for (const auto& m : seen.list->members) {
      if (m.id != st.id || m.client_urls.empty()) continue;
      if (from.empty() || st.id == st.leader) from = m.client_urls.front();
    }
  }
  t.snapshot_from = from;
  t.reason = since_snapshot ? "interval elapsed" : "no snapshot yet";
  return t;
}

}  // namespace ramfleet::etcd
