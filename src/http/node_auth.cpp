#include "http/node_auth.hpp"

#include "core/log.hpp"
#include "http/api_reply.hpp"

namespace ramfleet::http {

namespace {
// The latest boot the machine store knows of, for a machine the credential
// table forgot (a serve restart, eviction): credentials of earlier boots stay
// refused. Boots still queued are written first.
std::optional<std::int64_t> last_boot_ms(ServiceState& st, const std::string& id) {
  st.store->flush();
  auto m = st.store->machine(id, 1);
  if (!m) return std::nullopt;
  auto it = m->find("last_seen_ms");
  if (it == m->end() || !it->is_number_integer()) return std::nullopt;
  return it->get<std::int64_t>();
}

std::string refusal_text(boot::EventRefusal why, const std::string& id) {
  const std::string where =
      " (Authorization: Bearer <credential>; a node finds its own as ramfleet.event_credential= on its kernel "
      "command line, rendered by {{event_credential}} in its profile's args)";
  switch (why) {
    case boot::EventRefusal::missing:
      return "a request of machine " + id + " needs the event credential of its current boot" + where;
    case boot::EventRefusal::malformed:
      return "the Authorization header does not hold an event credential" + where;
    case boot::EventRefusal::other_machine:
      return "this event credential was not issued to machine " + id;
    case boot::EventRefusal::earlier_boot:
      return "this event credential is from an earlier boot of machine " + id +
             "; each boot gets its own from its iPXE script";
  }
  return "event credential refused";
}

}  // namespace

std::optional<Reply> authenticate_node(ServiceState& st, const Request& req, const std::string& id,
                                       std::string_view route) {
  const auto credential = boot::bearer_credential(req.authorization ? std::string_view(*req.authorization) : "");
  std::optional<std::int64_t> floor;
  if (!credential.empty() && !st.event_credentials.remembers(id)) floor = last_boot_ms(st, id);
  const auto why = st.event_credentials.check(id, credential, floor);
  if (!why) return std::nullopt;
  const bool unauthenticated = boot::unauthenticated(*why);
  const std::string prefix = "http." + std::string(route);
  st.counters.inc(prefix + (unauthenticated ? ".unauthenticated" : ".forbidden"));
  st.counters.inc(prefix + ".credential." + std::string(boot::to_string(*why)));
  log::warn(route == "events" ? "node.event.refused" : "node." + std::string(route) + ".refused",
            {{"reason", boot::to_string(*why)}, {"machine", id}, {"peer", req.peer}});
  Reply r = error_reply(unauthenticated ? 401 : 403, refusal_text(*why, id));
  if (unauthenticated) r.header("WWW-Authenticate", R"(Bearer realm="ramfleet-node-events")");
  return r;
}
}  // namespace ramfleet::http
