// /boot.ipxe and /ipxe: what should this machine boot, and the script that does it.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "http/router.hpp"
#include "inventory/ipxe_script.hpp"
#include "inventory/matcher.hpp"

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
}  // namespace

Reply handle_boot_script(ServiceState& st, const Request& req) {
  st.counters.inc("http.boot_script");
  return text_reply(200, inv::render_boot_script(base_url(st, req)), kIpxeType);
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
  const auto d = inv::decide(*inventory, facts);
  const std::string group = d.group ? d.group->id : "";
  const std::string profile = d.profile ? d.profile->id : "";
  st.counters.inc(d.matched() ? "http.ipxe.matched" : "http.ipxe.unmatched");
  log::info("http.boot", {{"machine", *id},
                          {"decision", decision_name(d.kind)},
                          {"group", group.empty() ? "-" : group},
                          {"profile", profile.empty() ? "-" : profile},
                          {"reason", d.reason},
                          {"peer", req.peer}});
  if (st.store) {
    st.store->record_boot(
        {*id, facts_json(facts), group, profile, std::string(decision_name(d.kind)), d.reason, now_ms()});
  }

  const std::string comment = "machine " + *id + ": " + d.reason;
  if (d.kind == inv::BootDecision::Kind::exit) return text_reply(200, inv::render_exit_script(comment), kIpxeType);
  const auto* platform = facts.get(inv::FactKey::platform);
  const bool uefi = platform != nullptr && *platform == "efi";
  auto ctx = inv::machine_context(facts, d.group, *d.profile, base_url(st, req));
  return text_reply(200, inv::render_machine_script(*d.profile, ctx, uefi, comment), kIpxeType);
}

}  // namespace ramfleet::http
