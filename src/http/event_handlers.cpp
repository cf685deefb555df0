// POST /api/v1/machines/{id}/events on the boot listener: a node reports a
// boot phase (booted, configured, ready, error). Who may: the node itself, on
// its current boot. It shows the event credential its iPXE script put on its
// kernel command line (ramfleet.event_credential=, boot/event_credentials.hpp)
// as `Authorization: Bearer <credential>`. No credential: 401; another
// machine's, a forged one or one of an earlier boot: 403. Both are counted
// (http.events.unauthenticated, http.events.forbidden), logged without the
// credential, and nothing is stored. The body is read only once the sender
// is authenticated.
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "core/mac_address.hpp"
#include "http/api_reply.hpp"
#include "http/event_body.hpp"
#include "http/node_auth.hpp"
#include "http/router.hpp"

namespace ramfleet::http {
using json = nlohmann::json;

Reply handle_node_event(ServiceState& st, const Request& req, const std::string& machine) {
  const auto id = normalise_machine_id(machine);
  if (!st.store) return error_reply(503, "no state directory configured");
  try {
    if (auto refused = authenticate_node(st, req, id, "events")) return std::move(*refused);
    auto parsed = parse_event_body(req.body);
    if (!parsed.event) {
      st.counters.inc("http.api.bad_event");
      log::warn("http.api.bad_event", {{"peer", req.peer}, {"machine", id}, {"error", parsed.error}});
      return error_reply(400, parsed.error);
    }
    boot::NodeEvent e = std::move(*parsed.event);
    e.machine_id = id;
    e.at_ms = now_ms();
    if (!st.store->add_event(e)) {
      st.counters.inc("http.api.event_unknown_machine");
      return error_reply(404, "machine '" + id + "' has never booted from this server");
    }
    st.counters.inc("http.api.events");
    if (e.phase == boot::Phase::ready) st.phases.ready(id, std::chrono::steady_clock::now());
    st.progress.node_event(id, boot::progress_step(e.phase), e.message, e.at_ms);
    {
      json fe{{"machine", id}, {"phase", boot::to_string(e.phase)}, {"at_ms", e.at_ms}};
      if (!e.message.empty()) fe["message"] = e.message;
      st.events.publish("phase", fe);
    }
    log::info("node.event", {{"machine", id}, {"phase", boot::to_string(e.phase)}, {"message", e.message}});
    json out{{"machine", id}, {"phase", boot::to_string(e.phase)}, {"at_ms", e.at_ms}};
    if (!e.message.empty()) out["message"] = e.message;
    if (e.uptime) out["uptime"] = *e.uptime;
    if (e.root_bytes) out["root_bytes"] = *e.root_bytes;
    return json_reply(201, out);
  } catch (const std::exception& e) {
    st.counters.inc("http.api.store_error");
    log::error("http.api.store_error", {{"error", e.what()}});
    return error_reply(500, std::string("store error: ") + e.what());
  }
}

}  // namespace ramfleet::http
