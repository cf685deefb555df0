#include "http/router.hpp"

#include <chrono>

#include "boot/node_config.hpp"
#include "core/log.hpp"
#include "http/api_reply.hpp"
#include "http/metrics_handler.hpp"
#include "http/target.hpp"

namespace ramfleet::http {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
Reply dispatch(ServiceState& st, const Request& req) {
  // A machine asking again: answered from the script cache before any parsing.
  if (req.target.starts_with("/ipxe?") && req.is_read()) {
    if (auto r = handle_cached_machine_script(st, req)) return std::move(*r);
  }
  auto parsed = parse_target(req.target);
  if (auto* bad = std::get_if<TargetError>(&parsed)) {
    st.counters.inc("http.error.bad_target");
    log::warn("http.bad_target", {{"peer", req.peer}, {"target", boot::redact_boot_token(req.target)}});
    return error_reply(400, "malformed request target: " + bad->message);
  }
  auto& target = std::get<Target>(parsed);
  // Empty segments stay visible ("/assets//etc" has a "" entry, a trailing
  // slash a final ""), so the handlers can refuse them.
  auto& segs = target.segments;
  const bool get = req.is_read();

  if (segs.size() == 1 && segs[0] == "boot.ipxe") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    return handle_boot_script(st, req);
  }
  if (segs.size() == 1 && segs[0] == "ipxe") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    if (target.too_many_params) {
      st.counters.inc("http.ipxe.bad_query");
      return error_reply(400, "too many query parameters (at most " + std::to_string(kMaxTargetParams) + ")");
    }
    return handle_machine_script(st, req, target.params);
  }
  if (!segs.empty() && (segs[0] == "ignition" || segs[0] == "cloud-config" || segs[0] == "apkovl")) {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    if (target.too_many_params) {
      st.counters.inc("http.config.bad_query");
      return error_reply(400, "too many query parameters (at most " + std::to_string(kMaxTargetParams) + ")");
    }
    return handle_node_config(st, req, segs, std::move(target.params));
  }
  if (!segs.empty() && segs[0] == "assets") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    segs.erase(segs.begin());
    return handle_asset(st, req, segs);
  }
  if (segs.size() == 3 && segs[0] == "etcd" && segs[1] == "snapshot") {
    // GET only: a HEAD must not spend the one-time token.
    if (req.method != Method::get) return method_not_allowed(st, "GET");
    return handle_etcd_snapshot(st, req, segs[2]);
  }
  if (segs.size() == 1 && segs[0] == "healthz") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    return handle_healthz(st);
  }
  if (segs.size() == 5 && segs[0] == "api" && segs[1] == "v1" && segs[2] == "machines" && segs[4] == "events" &&
      !req.is_read()) {
    // The one API route for nodes: a node reports a boot phase.
    if (req.method != Method::post) return method_not_allowed(st, "POST");
    return handle_node_event(st, req, segs[3]);
  }
  if (segs.size() == 6 && segs[0] == "api" && segs[1] == "v1" && segs[2] == "machines" && segs[4] == "p2p" &&
      !req.is_read()) {
    // A node's p2p tracker announce (docs/scale.md).
    if (req.method != Method::post) return method_not_allowed(st, "POST");
    return handle_p2p_announce(st, req, segs[3], segs[5]);
  }
  if (!segs.empty() && (segs[0] == "api" || segs[0] == "metrics" || segs[0] == "ui")) {
    // People and tools use the operator listener, which authenticates them;
    // this door is for nodes and asks nobody who they are.
    st.counters.inc("http.error.operator_route_on_boot_listener");
    const std::string where = st.operator_listener.empty() ? std::string("the operator listener (api.listen)")
                                                           : "the operator listener at " + st.operator_listener;
    return error_reply(403,
                       "this is the boot listener, for nodes; the operator API, /metrics and /ui/ are on " + where);
  }
  st.counters.inc("http.error.not_found");
  return error_reply(404, "no such resource");
}

Reply unauthorized(ServiceState& st, const Request& req) {
  st.counters.inc("http.operator.unauthenticated");
  auto r = error_reply(401, "a credential is required: Authorization: Bearer <token>, or a client certificate");
  // RFC 6750 section 3: a request that sent a credential we refused gets error="invalid_token".
  r.header("WWW-Authenticate",
           req.authorization ? R"(Bearer realm="ramfleet", error="invalid_token")" : R"(Bearer realm="ramfleet")");
  return r;
}

Reply dispatch_operator(ServiceState& st, const Request& req) {
  auto parsed = parse_target(req.target);
  if (auto* bad = std::get_if<TargetError>(&parsed)) {
    // Nobody unauthenticated learns more than 401.
    if (!req.caller) return unauthorized(st, req);
    st.counters.inc("http.error.bad_target");
    return error_reply(400, "malformed request target: " + bad->message);
  }
  auto& segs = std::get<Target>(parsed).segments;
  const bool get = req.is_read();

  // /ui/ static files: no credential needed, they hold no data; every datum
  // the UI shows comes from the API below (docs/operations.md, "Dashboard").
  if (!segs.empty() && segs[0] == "ui") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    segs.erase(segs.begin());
    return handle_ui(st, req, segs);
  }

  if (segs.size() == 1 && segs[0] == "healthz") {
    // The same answer the boot listener gives anyone.
    if (!get) return method_not_allowed(st, "GET, HEAD");
    return handle_healthz(st);
  }

  // ---- Everything below needs an authenticated caller.
  if (!req.caller) return unauthorized(st, req);
  const Operator& caller = *req.caller;

  // GET /metrics: any scope (docs/operations.md, "Metrics").
  if (segs.size() == 1 && segs[0] == "metrics") return handle_metrics(st, req);

  if (segs.size() >= 2 && segs[0] == "api" && segs[1] == "v1") {
    segs.erase(segs.begin(), segs.begin() + 2);
    // The live feed: any scope, a streaming reply (server-sent events).
    if (segs.size() == 2 && segs[0] == "events" && segs[1] == "stream") {
      if (req.method != Method::get) return method_not_allowed(st, "GET");
      return handle_event_stream(st, req);
    }
    if (!get) {
      // Every write needs an admin credential, whatever the path: a read
      // credential learns nothing more than 403.
      if (!caller.may_write()) {
        st.counters.inc("http.operator.forbidden");
        log::warn("http.operator.forbidden",
                  {{"peer", req.peer}, {"caller", caller.name}, {"method", std::string(to_string(req.method))}});
        return error_reply(403, "operator '" + caller.name + "' has scope read; writes need an admin credential");
      }
      // The writes (write_handlers.cpp), each logged with caller.name. A
      // write to a read-only resource falls through to 405 below.
      if (auto r = handle_operator_write(st, req, segs)) return std::move(*r);
    }
    return handle_api(st, req, segs);
  }
  st.counters.inc("http.error.not_found");
  return error_reply(404, "no such resource");
}
}  // namespace

Reply route(ServiceState& st, const Request& req) {
  st.counters.inc("http.requests");
  Reply r = dispatch(st, req);
  if (req.method == Method::head) strip_body_for_head(r);
  return r;
}

Reply route_operator(ServiceState& st, const Request& req) {
  st.counters.inc("http.operator.requests");
  Reply r = dispatch_operator(st, req);
  if (req.method == Method::head) strip_body_for_head(r);
  return r;
}

}  // namespace ramfleet::http
