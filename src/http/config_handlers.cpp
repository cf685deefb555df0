// /ignition, /cloud-config, /apkovl: the machine's compiled OS config.
//
// The machine is selected exactly like /ipxe (same facts, from the query or
// from path segments /ignition/mac=../hostname=..), its layers and variables
// come from inventory/node_config.hpp, and the compiled bytes are cached per
// inventory generation. A config that does not compile is a 500 naming every
// file:line:col, never a partial config.
//
// A machine that takes a role in <config>/cluster.yaml also gets its cluster
// files (kube/node_files.hpp: identity, join configuration, certificates) as
// one more layer. Such a config carries secrets: it is served only against
// the boot token its iPXE script carried (boot_tokens.hpp), once.
#include "config/compile.hpp"
#include "core/log.hpp"
#include "http/asset_response.hpp"
#include "http/router.hpp"
#include "inventory/cluster_node.hpp"
#include "inventory/matcher.hpp"
#include "inventory/node_config.hpp"
#include "kube/node_files.hpp"

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

// The target as logged: a boot token's value is left out, so a log reader
// never holds a token that might still be unused.
Reply refuse(ServiceState& st, const Request& req, int status, const char* counter, const std::string& msg) {
  st.counters.inc(counter);
  log::warn(counter, {{"peer", req.peer}, {"target", inv::redact_boot_token(req.target)}, {"error", msg}});
  return error_reply(status, msg);
}

std::string refusal_message(inv::TokenRefusal why, const std::string& machine, const ServiceState& st) {
  const auto ms = st.settings.boot_token_ttl.count();
  const std::string ttl = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  const std::string again = "; boot the machine through ramfleet again (its /ipxe script carries a fresh token)";
  switch (why) {
    case inv::TokenRefusal::missing:
      return "the config of machine " + machine +
             " carries its cluster credentials and is served only with the boot token of its iPXE script: use "
             "{{config_url}} (or {{ignition_url}} ...) in the profile's kernel args, which end in /token=..." +
             again;
    case inv::TokenRefusal::unknown:
      return "boot token refused for machine " + machine + ": not issued by this server, or forgotten" + again;
    case inv::TokenRefusal::reused:
      return "boot token refused for machine " + machine + ": already used (a config is served once per boot)" + again;
    case inv::TokenRefusal::expired:
      return "boot token refused for machine " + machine + ": expired (a token is good for " + ttl +
             " after its iPXE script; boot_token_ttl_ms in http.yaml)" + again;
    case inv::TokenRefusal::other_machine:
      return "boot token refused for machine " + machine + ": it was issued to another machine";
  }
  return "boot token refused";
}

// Takes the boot token out of the facts: the token=.. path segment that
// node_config_url puts last (or ?token=..). The last one counts, so a label
// named "token" sent to /ipxe cannot stand in for the one ramfleet appended.
std::string take_boot_token(std::vector<std::pair<std::string, std::string>>& params) {
  std::string token;
  std::erase_if(params, [&](auto& p) {
    if (p.first != inv::kBootTokenKey) return false;
    token = std::move(p.second);
    return true;
  });
  return token;
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
  const std::string token = take_boot_token(params);
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

  // Does this machine take a role in the cluster? Then its config carries
  // secrets: the boot token first, then its files (issuing its identity on
  // its first boot).
  st.cluster.refresh(st.settings.config_dir, st.inventory_generation);
  std::optional<kube::NodePlacement> placement;
  bool init_served = false;
  if (st.cluster.configured()) {
    if (!st.cluster.spec()) {
      return refuse(
          st, req, 500, "http.config.cluster_error",
          "cluster.yaml has errors, so no machine gets its cluster files until they are fixed:\n" + st.cluster.error());
    }
    const auto& spec = *st.cluster.spec();
    auto placed = inv::place_machine(spec, facts, d.group, ctx.ip);
    if (!placed.error.empty()) return refuse(st, req, 500, "http.config.cluster_error", placed.error);
    placement = std::move(placed.placement);
  }
  if (placement) {
    if (auto why = st.boot_tokens.redeem(token, *id, inv::BootTokenBook::Clock::now())) {
      const auto reason = inv::to_string(*why);
      st.counters.inc("http.config.token_refused");
      st.counters.inc("http.config.token_refused." + std::string(reason));
      log::warn("http.config.token_refused", {{"reason", reason},
                                              {"machine", *id},
                                              {"node", placement->node.name},
                                              {"target", config::target_name(*target)},
                                              {"peer", req.peer}});
      return error_reply(403, refusal_message(*why, *id, st));
    }
    st.counters.inc("http.config.token_accepted");
    const auto ram = inv::ram_root_for(facts, d.group);
    if (!ram.error.empty())
      return refuse(st, req, 500, "http.config.cluster_error", "machine " + *id + ": " + ram.error);
    if (st.settings.state_dir.empty()) {
      return refuse(st, req, 500, "http.config.cluster_error", "cluster.yaml is set but ramfleet serve has no --state");
    }
    try {
      const auto bundle = kube::node_bundle(*st.cluster.spec(), st.settings.state_dir, *placement, ram.ram);
      inv::add_generated_layer(*pr.plan, "cluster node " + placement->node.name + " (cluster.yaml)",
                               inv::node_files_layer(bundle.files));
      init_served = bundle.init;
    } catch (const std::exception& e) {
      return refuse(st, req, 500, "http.config.cluster_error",
                    "cluster files for machine " + *id + " (node " + placement->node.name + "): " + e.what());
    }
  }

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

  if (init_served) {
    // From now on the first member joins like the others (node_files.hpp).
    try {
      kube::mark_bootstrapped(st.settings.state_dir, placement->node.name);
    } catch (const std::exception& e) {
      log::error("kube.cluster.mark_failed", {{"error", e.what()}});
    }
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
                            {"cluster_role", placement ? kube::to_string(placement->role) : "-"},
                            {"peer", req.peer}});
  auto r = text_reply(200, *result.output, result.content_type);
  r.header("ETag", etag);
  r.header("Cache-Control", "no-cache");
  return r;
}

}  // namespace ramfleet::http
