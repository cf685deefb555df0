// /boot.ipxe and /ipxe: the request is read here, the machine's boot is the
// boot layer's (boot/machine_boot.hpp); refusals become status codes.
#include <algorithm>
#include <chrono>

#include "boot/machine_boot.hpp"
#include "core/log.hpp"
#include "http/router.hpp"

namespace ramfleet::http {

namespace {
constexpr const char* kIpxeType = "text/plain; charset=utf-8";

bool valid_host(const std::string& h) {
  return !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

Reply script_reply(ServiceState& st, const Request& req, boot::ScriptOutcome out) {
  if (!out.refusal) return text_reply(200, std::move(out.script), kIpxeType);
  const auto& why = *out.refusal;
  using K = boot::RefusalKind;
  int status = 400;
  if (why.kind == K::wrong_address || why.kind == K::name_refused) status = 403;
  if (why.kind == K::rate_limited) status = 429;
  const std::string counter =
      "http.ipxe." + std::string(why.kind == K::bad_request ? "bad_query" : boot::to_string(why.kind));
  st.counters.inc(counter);
  // A flood of rate-limited requests is logged by the boot layer, once per interval.
  if (why.kind != K::rate_limited) log::warn(counter, {{"peer", req.peer}, {"error", why.message}});
  auto r = error_reply(status, why.message);
  if (status == 429) r.header("Retry-After", "10");
  return r;
}
}  // namespace

std::string base_url(const ServiceState& st, const Request& req) {
  if (!st.settings.base_url.empty()) return st.settings.base_url;
  if (valid_host(req.host)) return "http://" + req.host;
  return "http://" + st.settings.bind_address + ":" + std::to_string(st.settings.port);
}

boot::Peer peer_of(const Request& req) {
  // "10.0.0.7:4711" -> "10.0.0.7"; "::1:4711" -> "::1".
  const auto colon = req.peer.rfind(':');
  return {colon == std::string::npos ? req.peer : req.peer.substr(0, colon), req.peer};
}

boot::Now request_now() { return {std::chrono::steady_clock::now(), now_ms()}; }

boot::BootSettings boot_settings(const HttpSettings& s) {
  boot::BootSettings b;
  b.config_dir = s.config_dir;
  b.state_dir = s.state_dir;
  b.boot_token_ttl = s.boot_token_ttl;
  b.boot_token_rate_per_min = s.boot_token_rate_per_min;
  b.boot_token_burst = s.boot_token_burst;
  return b;
}

Reply handle_boot_script(ServiceState& st, const Request& req) {
  return text_reply(200, boot::entry_script(st, base_url(st, req), peer_of(req)), kIpxeType);
}

std::optional<Reply> handle_cached_machine_script(ServiceState& st, const Request& req) {
  auto out =
      boot::cached_machine_script(st, boot_settings(st.settings), req.target, req.host, peer_of(req), request_now());
  if (!out) return std::nullopt;
  return script_reply(st, req, std::move(*out));
}

Reply handle_machine_script(ServiceState& st, const Request& req,
                            const std::vector<std::pair<std::string, std::string>>& params) {
  boot::ScriptRequest r{req.target, req.host, params, base_url(st, req), peer_of(req)};
  return script_reply(st, req, boot::machine_script(st, boot_settings(st.settings), r, request_now()));
}

}  // namespace ramfleet::http
