#pragma once
// Routes a request to its handler. Two doors, two audiences (docs/operations.md,
// "Exposure and credentials"):
//
// route(): the boot listener (plain HTTP, http.listen), node routes only:
//   GET  /boot.ipxe                      generic entry script (chains to /ipxe)
//   GET  /ipxe?mac=&uuid=&arch=...       per-machine script (inventory match + render)
//   GET  /ignition|/cloud-config|/apkovl?mac=..  the machine's compiled OS config (ETag)
//   GET  /assets/<path>                  kernels, initrds, images (HEAD, Range, ETag)
//   GET  /etcd/snapshot/<token>          a cold start's etcd snapshot (one-time, bound to one address)
//   GET  /healthz                        liveness and inventory state
//   POST /api/v1/machines/{id}/events    node reports a boot phase
// Any other /api/v1, /metrics or /ui path there is refused with 403 naming
// the operator listener (counted: http.error.operator_route_on_boot_listener).
//
// route_operator(): the operator listener (HTTPS, api.listen), for people and
// tools. The transport authenticates first and sets Request::caller; without
// one every route but /healthz (and /ui/'s static files) is 401.
//   GET  /healthz                        as above
//   GET  /api/v1/{machines,groups,profiles,leases,counters,inventory,etcd}
//   GET  /api/v1/machines/{id}[/events]
//   writes (POST/PUT) under /api/v1/...  need Scope::admin, else 403
#include <optional>
#include <string>

#include "http/message.hpp"
#include "http/service_state.hpp"

namespace ramfleet::http {

Reply route(ServiceState& state, const Request& req);
Reply route_operator(ServiceState& state, const Request& req);

// What the boot layer needs from a request (boot_handlers.cpp): the base URL
// the machine reached us at (settings' base_url, else its Host header), who
// asked, and the clocks.
std::string base_url(const ServiceState& state, const Request& req);
boot::Peer peer_of(const Request& req);
boot::Now request_now();

// Handlers, one file each (boot_handlers.cpp, asset_handler.cpp, api_handlers.cpp).
Reply handle_boot_script(ServiceState& state, const Request& req);
Reply handle_machine_script(ServiceState& state, const Request& req,
                            const std::vector<std::pair<std::string, std::string>>& params);
// The cached reply for this exact target and Host under the current inventory
// (script_cache.hpp), with the boot logged and recorded; nullopt on a miss.
std::optional<Reply> handle_cached_machine_script(ServiceState& state, const Request& req);
Reply handle_asset(ServiceState& state, const Request& req, const std::vector<std::string>& segments);
Reply handle_healthz(ServiceState& state);
// The operator API's reads; segments follow "/api/v1/".
Reply handle_api(ServiceState& state, const Request& req, const std::vector<std::string>& segments);
// GET /api/v1/boots/stalled: the machines whose boot did not reach ready, and why (stalled_boots.cpp).
Reply handle_stalled_boots(ServiceState& state, const Request& req);
// The operator API's writes (write_handlers.cpp): approve, labels, identity
// revoke, inventory reload; nullopt when `segments` (after "/api/v1/") name
// none of them. The caller must be an admin.
std::optional<Reply> handle_operator_write(ServiceState& state, const Request& req,
                                           const std::vector<std::string>& segments);
// POST /api/v1/machines/{id}/events on the boot listener: a node reports a
// phase, with its event credential (event_handlers.cpp).
Reply handle_node_event(ServiceState& state, const Request& req, const std::string& machine);
// POST /api/v1/machines/{id}/p2p/{image_id} on the boot listener: the p2p
// tracker (p2p_handlers.cpp), with the machine's event credential.
Reply handle_p2p_announce(ServiceState& state, const Request& req, const std::string& machine,
                          const std::string& image_id);
// GET /api/v1/events/stream (event_stream.cpp): opens a Reply::stream.
Reply handle_event_stream(ServiceState& state, const Request& req);
// GET /ui/... (ui_handler.cpp): the dashboard's embedded files; segments follow "ui".
Reply handle_ui(ServiceState& state, const Request& req, const std::vector<std::string>& segments);
// GET /api/v1/etcd and GET /etcd/snapshot/<token> (etcd_handlers.cpp, docs/etcd.md).
Reply handle_etcd_status(ServiceState& state);
Reply handle_etcd_snapshot(ServiceState& state, const Request& req, const std::string& token);
// GET /ignition, /cloud-config, /apkovl (config_handlers.cpp); segments[0] is the target.
Reply handle_node_config(ServiceState& state, const Request& req, const std::vector<std::string>& segments,
                         std::vector<std::pair<std::string, std::string>> params);

}  // namespace ramfleet::http
