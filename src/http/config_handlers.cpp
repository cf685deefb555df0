// /ignition, /cloud-config, /apkovl: the machine's compiled OS config.
//
// The request is read here (facts from the query or from path segments
// /ignition/mac=../hostname=..); what the machine gets is the boot layer's
// decision (boot/config_delivery.hpp), and each refusal kind becomes a status.
#include "boot/config_delivery.hpp"
#include "boot/identity_issuer.hpp"
#include "boot/node_config.hpp"
#include "core/log.hpp"
#include "http/asset_response.hpp"
#include "http/router.hpp"

namespace ramfleet::http {

namespace {
int status_of(boot::RefusalKind kind) {
  using K = boot::RefusalKind;
  switch (kind) {
    case K::not_found:
    case K::unmatched:
    case K::no_config:
      return 404;
    case K::bad_request:
    case K::no_identity:
      return 400;
    case K::token_missing:
    case K::token_unknown:
    case K::token_reused:
    case K::token_expired:
    case K::token_other_machine:
    case K::wrong_address:
    case K::awaiting_approval:
    case K::name_refused:
      return 403;
    case K::rate_limited:
      return 429;
    case K::etcd_refused:
      return 409;
    case K::etcd_wait:
    case K::identity_pending:
    case K::identity_busy:
      return 503;
    case K::compile_failed:
    case K::cluster_error:
      return 500;
  }
  return 500;
}

// Counted and logged under http.config.<reason>; token refusals also under
// http.config.token_refused. The target is logged without its boot token, so a
// log reader never holds a token that might still be unused.
Reply refuse(ServiceState& st, const Request& req, const boot::Refusal& why) {
  std::string counter;
  if (boot::is_token_refusal(why.kind)) {
    st.counters.inc("http.config.token_refused");
    counter = "http.config.token_refused." + std::string(boot::to_string(why.kind));
  } else if (why.kind == boot::RefusalKind::bad_request) {
    counter = "http.config.bad_query";
  } else {
    counter = "http.config." + std::string(boot::to_string(why.kind));
  }
  st.counters.inc(counter);
  // A storm of first boots makes many of the identity kind: counted, and the
  // issuer logs the queue running full.
  const bool identity = why.kind == boot::RefusalKind::identity_pending || why.kind == boot::RefusalKind::identity_busy;
  if (!boot::is_token_refusal(why.kind) && why.kind != boot::RefusalKind::compile_failed && !identity) {
    log::warn(counter, {{"peer", req.peer}, {"target", boot::redact_boot_token(req.target)}, {"error", why.message}});
  }
  auto r = error_reply(status_of(why.kind), why.message);
  if (why.kind == boot::RefusalKind::etcd_wait) r.header("Retry-After", "3");
  // The small image's /init and Ignition both retry a 503.
  if (identity) r.header("Retry-After", "2");
  return r;
}

// How long a config fetch waits, connection open, for its node's identity
// before it is answered 503 + Retry-After: a few RSA key pairs' time on a
// busy queue, well under the clients' own timeouts (the small image's wget 60 s).
constexpr std::chrono::milliseconds kIdentityWait{20000};

Reply answer_config(ServiceState& st, const Request& req, const std::vector<std::string>& segments,
                    std::vector<std::pair<std::string, std::string>> params, bool may_wait);

// The identity is being issued on a worker: the reply waits for it (the
// transport keeps the connection; nothing blocks the loop) and then walks the
// request again from the top, so every check (token, approval, inventory)
// runs against the state of that moment. Not answered by then: 503.
Reply wait_for_identity(ServiceState& st, const Request& req, const std::vector<std::string>& segments,
                        const std::vector<std::pair<std::string, std::string>>& params, const std::string& node,
                        const boot::Refusal& why) {
  st.counters.inc("http.config.identity_waited");
  auto r = error_reply(503, why.message);
  r.header("Retry-After", "2");
  auto d = std::make_shared<DeferredReply>();
  d->timeout = kIdentityWait;
  d->wait = [&st, node](std::function<void()> wake) {
    if (st.identities == nullptr) {
      wake();
      return;
    }
    st.identities->when_done(node, std::move(wake));
  };
  d->resume = [&st, req, segments, params]() { return answer_config(st, req, segments, params, false); };
  r.deferred = std::move(d);
  return r;
}

Reply answer_config(ServiceState& st, const Request& req, const std::vector<std::string>& segments,
                    std::vector<std::pair<std::string, std::string>> params, bool may_wait) {
  // Facts may also come as path segments, so a kernel argument needs no '?' or '&'.
  for (std::size_t i = 1; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    auto eq = seg.find('=');
    if (seg.empty() && i + 1 == segments.size()) continue;  // trailing slash
    if (eq == std::string::npos || eq == 0) {
      return refuse(st, req,
                    {boot::RefusalKind::bad_request, "path segment '" + seg.substr(0, 64) +
                                                         "' is not fact=value (e.g. /ignition/mac=52:54:00:00:00:01)"});
    }
    params.emplace_back(seg.substr(0, eq), seg.substr(eq + 1));
  }
  boot::ConfigRequest creq;
  creq.target = segments.front();
  creq.params = std::move(params);
  creq.base_url = base_url(st, req);
  creq.peer = peer_of(req);
  creq.head = req.method == Method::head;
  if (req.if_none_match) {
    creq.client_has = [&req](const std::string& etag) { return etag_list_matches(*req.if_none_match, etag); };
  }
  const auto params_seen = creq.params;
  const auto out = boot::deliver_config(st, boot_settings(st.settings), creq, request_now());
  if (!out.ok()) {
    if (may_wait && out.refusal.kind == boot::RefusalKind::identity_pending) {
      // The facts as read above; the path segments are not read again.
      return wait_for_identity(st, req, {segments.front()}, params_seen, out.pending_node, out.refusal);
    }
    return refuse(st, req, out.refusal);
  }
  const auto& d = *out.delivered;
  if (d.not_modified) {
    st.counters.inc("http.config.not_modified");
    Reply r;
    r.status = 304;
    r.header("ETag", d.etag);
    return r;
  }
  st.counters.inc("http.config.served");
  auto r = text_reply(200, d.bytes(), d.content_type);
  r.header("ETag", d.etag);
  r.header("Cache-Control", "no-cache");
  return r;
}
}  // namespace

Reply handle_node_config(ServiceState& st, const Request& req, const std::vector<std::string>& segments,
                         std::vector<std::pair<std::string, std::string>> params) {
  return answer_config(st, req, segments, std::move(params), true);
}

}  // namespace ramfleet::http
