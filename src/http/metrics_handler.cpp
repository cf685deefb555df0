#include "http/metrics_handler.hpp"

#include <chrono>

#include "core/counter_metrics.hpp"
#include "core/log.hpp"

namespace ramfleet::http {

Reply handle_metrics(ServiceState& st, const Request& req) {
  if (!req.is_read()) {
    st.counters.inc("http.error.method_not_allowed");
    auto r = error_reply(405, "method not allowed; use GET");
    r.header("Allow", "GET, HEAD");
    return r;
  }
  if (st.metrics == nullptr) {
    st.counters.inc("http.error.not_found");
    return error_reply(404, "no metrics in this process");
  }
  return text_reply(200, st.metrics->render(), std::string(metrics::Exposition::kContentType));
}

void collect_http_metrics(ServiceState& st, metrics::Exposition& out) {
  metrics::write_counters(out, st.counters);
  out.gauge("ramfleet_boot_tokens_outstanding", "Boot tokens issued and still redeemable (neither spent nor expired).",
            {}, static_cast<double>(st.boot_tokens.outstanding(std::chrono::steady_clock::now())));
  out.gauge("ramfleet_boots_followed",
            "Boots between their first milestone and ready, followed for ramfleet_boot_phase_seconds.", {},
            static_cast<double>(st.phases.followed()));
  out.counter("ramfleet_boots_forgotten", "Boots no longer followed because too many were (oldest first).", {},
              static_cast<double>(st.phases.forgotten()));
  {
    // The p2p tracker (boot/chunk_tracker.hpp): how often ramfleet itself was
    // named as a chunk's source against how often peers were.
    const auto& p2p = st.chunk_tracker.stats();
    out.counter("ramfleet_p2p_server_grants", "Chunks the p2p tracker granted to a node to take from this server.", {},
                static_cast<double>(p2p.server_grants));
    out.counter("ramfleet_p2p_peer_answers", "Wanted chunks the p2p tracker answered with peers that hold them.", {},
                static_cast<double>(p2p.peer_answers));
    out.counter("ramfleet_p2p_waits", "Wanted chunks the p2p tracker had no source for yet (the node asks again).", {},
                static_cast<double>(p2p.waits));
    out.counter("ramfleet_p2p_grants_expired", "Server grants that ran out before the node announced the chunk.", {},
                static_cast<double>(p2p.grants_expired));
    out.counter("ramfleet_p2p_peers_expired", "Peers forgotten because they stopped announcing.", {},
                static_cast<double>(p2p.peers_expired));
    out.gauge("ramfleet_p2p_images", "Images the p2p tracker follows.", {},
              static_cast<double>(st.chunk_tracker.images()));
  }
  out.gauge("ramfleet_inventory_generation", "Inventory loads accepted since start (1: the first).", {},
            static_cast<double>(st.inventory_generation));
  out.gauge("ramfleet_inventory_profiles", "Profiles in the inventory being served.", {},
            static_cast<double>(st.inventory->profiles.size()));
  out.gauge("ramfleet_inventory_groups", "Groups in the inventory being served.", {},
            static_cast<double>(st.inventory->groups.size()));
  out.gauge("ramfleet_inventory_reload_errors",
            "Errors of the last refused inventory reload (0 once a reload is accepted).", {},
            static_cast<double>(st.last_reload_errors.size()));
  if (!st.store) return;
  out.gauge("ramfleet_store_pending_boots", "Boots queued in memory for the next store flush.", {},
            static_cast<double>(st.store->pending()));
  const auto health = st.store->health();
  out.gauge("ramfleet_store_ok", "1 when the machine store's last write succeeded, else 0.", {},
            health.value("ok", true) ? 1 : 0);
  if (auto it = health.find("counters"); it != health.end() && it->is_object()) {
    Counters store_counters;
    for (const auto& [k, v] : it->items())
      if (v.is_number_unsigned()) store_counters.inc(k, v.get<std::uint64_t>());
    metrics::write_counters(out, store_counters);
  }
  try {
    out.gauge("ramfleet_machines_known", "Machines in the machine store.", {},
              static_cast<double>(st.store->machine_count()));
  } catch (const std::exception& e) {
    log::warn("metrics.store_error", {{"error", e.what()}});  // the scrape goes on without this gauge
  }
}

}  // namespace ramfleet::http
