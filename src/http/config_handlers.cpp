// /ignition, /cloud-config, /apkovl: the machine's compiled OS config.
//
// The machine is selected exactly like /ipxe (same facts, from the query or
// from path segments /ignition/mac=../hostname=..), its layers and variables
// come from inventory/node_config.hpp, and the compiled bytes are cached per
// inventory generation. A config that does not compile is a 500 naming every
// file:line:col, never a partial config.
#include "config/compile.hpp"
#include "core/log.hpp"
#include "http/asset_response.hpp"
#include "http/router.hpp"
#include "inventory/matcher.hpp"
#include "inventory/node_config.hpp"

namespace ramfleet::http {
namespace inv = ramfleet::inventory;

namespace {
constexpr std::size_t kMaxParams = 32;

std::string base_url(const ServiceState& st, const Request& req) {
  if (!st.settings.base_url.empty()) return st.settings.base_url;
  const bool host_ok =
      !req.host.empty() && req.host.size() <= 255 && std::all_of(req.host.begin(), req.host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
      });
  if (host_ok) return "http://" + req.host;
  return "http://" + st.settings.bind_address + ":" + std::to_string(st.settings.port);
}

// "10.0.0.7:4711" -> "10.0.0.7"; "::1:4711" -> "::1".
std::string peer_address(const std::string& peer) {
  auto colon = peer.rfind(':');
  return colon == std::string::npos ? peer : peer.substr(0, colon);
}

Reply refuse(ServiceState& st, const Request& req, int status, const char* counter, const std::string& msg) {
  st.counters.inc(counter);
  log::warn(counter, {{"peer", req.peer}, {"target", req.target.substr(0, 200)}, {"error", msg}});
  return error_reply(status, msg);
}
}  // namespace

Reply handle_node_config(ServiceState& st, const Request& req, const std::vector<std::string>& segments,
                         std::vector<std::pair<std::string, std::string>> params) {
  const auto target = config::parse_target(segments.front());
  if (!target) return refuse(st, req, 404, "http.config.not_found", "no such config target");
  // Facts may also come as path segments, so a kernel argument needs no '?' or '&'.
  for (std::size_t i = 1; i < segments.size(); ++i) {
    const auto& seg = segments[i];
    auto eq = seg.find('=');
    if (seg.empty() && i + 1 == segments.size()) continue;  // trailing slash
    if (eq == std::string::npos || eq == 0) {
      return refuse(
          st, req, 400, "http.config.bad_query",
          "path segment '" + seg.substr(0, 64) + "' is not fact=value (e.g. /ignition/mac=52:54:00:00:00:01)");
    }
    params.emplace_back(seg.substr(0, eq), seg.substr(eq + 1));
  }
  if (params.size() > kMaxParams) {
    return refuse(st, req, 400, "http.config.bad_query", "too many machine facts (at most 32)");
  }
  auto fr = inv::facts_from_params(params);
  if (!fr.errors.empty()) {
    std::string msg;
    for (const auto& e : fr.errors) msg += (msg.empty() ? "" : "; ") + e.key + ": " + e.reason;
    return refuse(st, req, 400, "http.config.bad_query", "bad machine facts: " + msg);
  }
  const auto& facts = fr.facts;
  const auto id = facts.machine_id();
  if (!id) {
    return refuse(st, req, 400, "http.config.no_identity",
                  "a machine config needs mac= (or uuid=); use {{config_url}} in the profile's kernel args");
  }

  const inv::InventoryPtr inventory = st.inventory;  // held for the whole request, like /ipxe
  const auto d = inv::decide(*inventory, facts);
  if (d.kind == inv::BootDecision::Kind::exit) {
    return refuse(st, req, 404, "http.config.unmatched", "machine " + *id + " is not in the inventory: " + d.reason);
  }
  inv::ConfigRequestContext ctx;
  ctx.base_url = base_url(st, req);
  if (const auto* ip = facts.label("ip")) {
    ctx.ip = *ip;
  } else {
    ctx.ip = peer_address(req.peer);
  }
  auto pr = inv::plan_node_config(*inventory, d.group, *d.profile, facts, *target, ctx);
  if (!pr.plan) {
    std::string msg = "machine " + *id + ": " + pr.error;
    if (!pr.diagnostics.empty()) msg += ":\n" + config::format_diagnostics(pr.diagnostics);
    return refuse(st, req, pr.status, pr.status == 404 ? "http.config.no_config" : "http.config.compile_failed", msg);
  }
  pr.plan->options.counters = &st.counters;

  if (!st.config_cache) st.config_cache = std::make_shared<inv::NodeConfigCache>();
  st.config_cache->set_generation(st.inventory_generation);
  const auto lookup = st.config_cache->get_or_compile(*pr.plan);
  const auto& result = *lookup.result;
  st.counters.inc(lookup.hit ? "http.config.cache_hit" : "http.config.cache_miss");
  if (!lookup.hit) {
    for (const auto& diag : result.diagnostics) {
      if (diag.severity == config::Severity::warning)
        log::warn("config.warning", {{"machine", *id}, {"diagnostic", diag.str()}});
    }
  }
  if (!result.ok()) {
    std::string msg = "the " + std::string(config::target_name(*target)) + " config of machine " + *id + " (profile '" +
                      d.profile->id + "') does not compile:\n" + config::format_diagnostics(result.diagnostics);
    for (const auto& diag : result.diagnostics) {
      if (diag.severity == config::Severity::error)
        log::error("http.config.compile_failed", {{"machine", *id}, {"diagnostic", diag.str()}});
    }
    st.counters.inc("http.config.compile_failed");
    return error_reply(500, msg);
  }

  const std::string etag = "\"" + result.etag + "\"";
  if (req.if_none_match && etag_list_matches(*req.if_none_match, etag)) {
    st.counters.inc("http.config.not_modified");
    Reply r;
    r.status = 304;
    r.header("ETag", etag);
    return r;
  }
  st.counters.inc("http.config.served");
  log::info("http.config", {{"machine", *id},
                            {"target", config::target_name(*target)},
                            {"profile", d.profile->id},
                            {"group", d.group ? d.group->id : "-"},
                            {"bytes", result.output->size()},
                            {"cached", lookup.hit},
                            {"peer", req.peer}});
  auto r = text_reply(200, *result.output, result.content_type);
  r.header("ETag", etag);
  r.header("Cache-Control", "no-cache");
  return r;
}

}  // namespace ramfleet::http
