#include "http/router.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>

#include "boot/node_config.hpp"
#include "core/log.hpp"

namespace ramfleet::http {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
constexpr std::size_t kMaxParams = 32;

Reply method_not_allowed(ServiceState& st, const char* allow) {
  st.counters.inc("http.error.method_not_allowed");
  auto r = error_reply(405, std::string("method not allowed; use ") + allow);
  r.header("Allow", allow);
  return r;
}
}  // namespace

Reply route(ServiceState& st, const Request& req) {
  st.counters.inc("http.requests");
  // A machine asking again: answered from the script cache before any parsing.
  if (req.target.starts_with("/ipxe?") && (req.method == "GET" || req.method == "HEAD")) {
    if (auto r = handle_cached_machine_script(st, req)) return std::move(*r);
  }
  auto parsed = boost::urls::parse_origin_form(req.target);
  if (!parsed) {
    st.counters.inc("http.error.bad_target");
    log::warn("http.bad_target", {{"peer", req.peer}, {"target", boot::redact_boot_token(req.target)}});
    return error_reply(400, "malformed request target: " + parsed.error().message());
  }
  const boost::urls::url_view& u = *parsed;
  std::vector<std::string> segs;
  for (auto s : u.segments()) segs.emplace_back(s);
  // Keep the raw path's empty segments visible ("/assets//etc"), which
  // segments() reports as "" entries, and a trailing slash as a final "".
  const bool get = req.method == "GET" || req.method == "HEAD";

  if (segs.size() == 1 && segs[0] == "boot.ipxe") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    return handle_boot_script(st, req);
  }
  if (segs.size() == 1 && segs[0] == "ipxe") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    std::vector<std::pair<std::string, std::string>> params;
    for (auto p : u.params()) {
      if (params.size() == kMaxParams) {
        st.counters.inc("http.ipxe.bad_query");
        return error_reply(400, "too many query parameters (at most 32)");
      }
      params.emplace_back(p.key, p.has_value ? std::string(p.value) : std::string{});
    }
    return handle_machine_script(st, req, params);
  }
  if (!segs.empty() && (segs[0] == "ignition" || segs[0] == "cloud-config" || segs[0] == "apkovl")) {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    std::vector<std::pair<std::string, std::string>> params;
    for (auto p : u.params()) params.emplace_back(p.key, p.has_value ? std::string(p.value) : std::string{});
    return handle_node_config(st, req, segs, std::move(params));
  }
  if (!segs.empty() && segs[0] == "assets") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    segs.erase(segs.begin());
    return handle_asset(st, req, segs);
  }
  if (segs.size() == 1 && segs[0] == "healthz") {
    if (!get) return method_not_allowed(st, "GET, HEAD");
    return handle_healthz(st);
  }
  if (segs.size() >= 2 && segs[0] == "api" && segs[1] == "v1") {
    segs.erase(segs.begin(), segs.begin() + 2);
    return handle_api(st, req, segs);
  }
  st.counters.inc("http.error.not_found");
  return error_reply(404, "no such resource");
}

}  // namespace ramfleet::http
