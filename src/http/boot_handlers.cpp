// /boot.ipxe and /ipxe: what should this machine boot, and the script that does it.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "http/router.hpp"
#include "inventory/cluster_node.hpp"
#include "inventory/ipxe_script.hpp"
#include "inventory/matcher.hpp"
#include "inventory/node_config.hpp"

namespace ramfleet::http {
namespace inv = ramfleet::inventory;

namespace {
constexpr const char* kIpxeType = "text/plain; charset=utf-8";

bool valid_host(const std::string& h) {
  return !h.empty() && h.size() <= 255 && std::all_of(h.begin(), h.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
  });
}

std::string base_url(const ServiceState& st, const Request& req) {
  if (!st.settings.base_url.empty()) return st.settings.base_url;
  if (valid_host(req.host)) return "http://" + req.host;
  return "http://" + st.settings.bind_address + ":" + std::to_string(st.settings.port);
}

std::string facts_json(const inv::MachineFacts& f) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : f.values) j[std::string(inv::to_string(k))] = v;
  if (!f.labels.empty()) j["labels"] = f.labels;
  return j.dump();
}

std::string_view decision_name(inv::BootDecision::Kind k) {
  switch (k) {
    case inv::BootDecision::Kind::group:
      return "group";
    case inv::BootDecision::Kind::default_profile:
      return "default_profile";
    case inv::BootDecision::Kind::exit:
      return "exit";
  }
  return "?";
}

// Rendered into config URLs where the boot token goes, then cut out of the
// cached script (CachedBoot::token_at). Random per process and made of
// characters that iPXE escaping and URL encoding keep, so it survives
// rendering unchanged and no configuration can contain it by accident.
const std::string& token_slot() {
  static const std::string slot = "rfslot" + inv::random_boot_token();
  return slot;
}

// A machine's config URLs carry a boot token when its config carries secrets:
// it takes a role in cluster.yaml. With a broken cluster.yaml the role is
// unknown, so the token is put in anyway (the config is refused until the
// file is fixed).
bool needs_boot_token(ServiceState& st, const inv::MachineFacts& facts, const inv::Group* group) {
  st.cluster.refresh(st.settings.config_dir, st.inventory_generation);
  if (!st.cluster.configured()) return false;
  if (!st.cluster.spec()) return true;
  return !st.cluster.spec()->roles_for(inv::cluster_machine_facts(facts, group)).empty();
}
}  // namespace

Reply handle_boot_script(ServiceState& st, const Request& req) {
  st.counters.inc("http.boot_script");
  return text_reply(200, inv::render_boot_script(base_url(st, req)), kIpxeType);
}

namespace {
// What has to happen for every /ipxe request, cached or not: count it, log the
// decision and why, record the boot (written to SQLite in the next batch).
Reply answer_boot(ServiceState& st, const Request& req, const CachedBoot& b) {
  st.counters.inc(b.matched ? "http.ipxe.matched" : "http.ipxe.unmatched");
  log::info("http.boot", {{"machine", b.machine_id},
                          {"decision", b.decision},
                          {"group", b.group.empty() ? std::string_view("-") : std::string_view(b.group)},
                          {"profile", b.profile.empty() ? std::string_view("-") : std::string_view(b.profile)},
                          {"reason", b.reason},
                          {"peer", req.peer}});
  if (st.store) {
    st.store->record_boot(
        {b.machine_id, b.facts_json, b.group, b.profile, std::string(b.decision), b.reason, now_ms()});
  }
  if (!b.needs_token()) return text_reply(200, b.script, kIpxeType);
  // This boot's own token, never one from the cache.
  auto issued = st.boot_tokens.issue(b.machine_id, inv::BootTokenBook::Clock::now(), st.settings.boot_token_ttl);
  st.counters.inc("http.boot_token.issued");
  if (issued.evicted_live) {
    st.counters.inc("http.boot_token.evicted");
    // A flood evicts on every request: log the first and then every 1024th, not each one.
    if (const auto n = st.counters.get("http.boot_token.evicted"); n == 1 || n % 1024 == 0) {
      log::warn("http.boot_token.evicted",
                {{"total", n},
                 {"capacity", st.boot_tokens.capacity()},
                 {"effect", "the oldest unused tokens were dropped; those boots must start again"}});
    }
  }
  return text_reply(200, b.script_with(issued.token), kIpxeType);
}
}  // namespace

std::optional<Reply> handle_cached_machine_script(ServiceState& st, const Request& req) {
  const CachedBoot* b = st.script_cache.find(st.inventory_generation, req.target, req.host);
  if (b == nullptr) return std::nullopt;
  st.counters.inc("http.ipxe.cache_hit");
  return answer_boot(st, req, *b);
}

Reply handle_machine_script(ServiceState& st, const Request& req,
                            const std::vector<std::pair<std::string, std::string>>& params) {
  auto fr = inv::facts_from_params(params);
  if (!fr.errors.empty()) {
    st.counters.inc("http.ipxe.bad_query");
    std::string msg;
    for (const auto& e : fr.errors) msg += (msg.empty() ? "" : "; ") + e.key + ": " + e.reason;
    log::warn("http.ipxe.bad_query", {{"peer", req.peer}, {"error", msg}});
    return error_reply(400, "bad machine facts: " + msg);
  }
  const auto& facts = fr.facts;
  auto id = facts.machine_id();
  if (!id) {
    st.counters.inc("http.ipxe.no_identity");
    log::warn("http.ipxe.no_identity", {{"peer", req.peer}});
    return error_reply(400, "a machine script needs mac= (or uuid=); iPXE gets it from /boot.ipxe");
  }

  // Hold the inventory for the whole request: a reload swaps the pointer, not this copy.
  const inv::InventoryPtr inventory = st.inventory;
  const std::uint64_t generation = st.inventory_generation;
  const auto d = inv::decide(*inventory, facts);
  CachedBoot b;
  b.machine_id = *id;
  b.facts_json = facts_json(facts);
  b.group = d.group ? d.group->id : "";
  b.profile = d.profile ? d.profile->id : "";
  b.decision = decision_name(d.kind);
  b.reason = d.reason;
  b.matched = d.matched();
  const std::string comment = "machine " + *id + ": " + d.reason;
  if (d.kind == inv::BootDecision::Kind::exit) {
    b.script = inv::render_exit_script(comment);
  } else {
    const auto* platform = facts.get(inv::FactKey::platform);
    const bool uefi = platform != nullptr && *platform == "efi";
    const bool token = needs_boot_token(st, facts, d.group);
    auto ctx = inv::machine_context(facts, d.group, *d.profile, base_url(st, req), token ? token_slot() : "");
    b.script = inv::render_machine_script(*d.profile, ctx, uefi, comment);
    if (token) b.cut_token_slots(token_slot());
  }
  Reply r = answer_boot(st, req, b);
  st.counters.inc("http.ipxe.cache_miss");
  st.script_cache.put(generation, req.target, req.host, std::move(b));
  return r;
}

}  // namespace ramfleet::http
