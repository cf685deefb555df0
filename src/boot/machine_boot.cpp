#include "boot/machine_boot.hpp"

#include <nlohmann/json.hpp>

#include "boot/cluster_node.hpp"
#include "boot/identity_issuer.hpp"
#include "boot/machine_script.hpp"
#include "core/log.hpp"
#include "inventory/ipxe_script.hpp"
#include "inventory/matcher.hpp"
#include "kube/names.hpp"

namespace ramfleet::boot {
namespace inv = ramfleet::inventory;

namespace {
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
  static const std::string slot = "rfslot" + random_boot_token();
  return slot;
}

// Where {{event_credential}} goes (CachedBoot::credential_at), the same way.
const std::string& credential_slot() {
  static const std::string slot = "rfcred" + random_boot_token();
  return slot;
}

// A machine's config URLs carry a boot token when its config carries secrets:
// it takes a role in cluster.yaml (decided by operator data only,
// cluster_node.hpp). With a broken cluster.yaml the role is unknown, so the
// token is put in anyway (the config is refused until the file is fixed).
bool needs_boot_token(BootState& st, const BootSettings& settings, const inv::MachineFacts& facts,
                      const inv::Group* group, CachedBoot& b) {
  st.cluster.refresh(settings.config_dir, st.inventory_generation);
  if (!st.cluster.configured()) return false;
  if (!st.cluster.spec()) return true;
  const auto& spec = *st.cluster.spec();
  auto id = cluster_identity(spec, facts, group, st.address_owners);
  if (!id.role) return false;
  if (auto why = kube::node_name_refusal(spec, id.name, *id.role)) b.name_refusal = *why;
  b.cluster = std::move(id);
  return true;
}

// Over the per-address minting limit: 429, counted by the caller, logged
// once per 10 s with how many were not.
Refusal rate_limited(BootState& st, const Peer& peer, const Now& now) {
  if (auto suppressed = st.rate_limited_log.admit(now.steady)) {
    log::warn("http.ipxe.rate_limited",
              {{"peer", peer.text}, {"not_logged_since_last", *suppressed}, {"effect", "no boot token minted: 429"}});
  }
  return {RefusalKind::rate_limited, "too many boot tokens requested from " + peer.address +
                                         " lately; the machine retries on its own (boot_token_rate_per_min)"};
}

// Whether this requester may have a token (or an event credential) for this
// machine now; nullopt when it may. A machine without a cluster role is
// checked against the lease book alone (full DHCP mode): it has no operator
// address.
std::optional<Refusal> may_mint(BootState& st, const BootSettings& settings, const CachedBoot& b, const Peer& peer,
                                const std::string& requester, const Now& now) {
  if (b.cluster) {
    if (!b.name_refusal.empty()) {
      st.counters.inc("boot.name_refused");
      return Refusal{RefusalKind::name_refused,
                     "node name '" + b.cluster->name + "' refused: " + b.name_refusal +
                         " (a node's name comes from its group's metadata.hostname or its DHCP reservation)"};
    }
    if (auto why = address_mismatch(*b.cluster, b.mac, requester, st.address_owners); !why.empty()) {
      return Refusal{RefusalKind::wrong_address, why};
    }
  } else if (st.address_owners != nullptr && st.address_owners->leases_known()) {
    const auto ip = Ipv4::parse(requester);
    const auto holder = ip ? st.address_owners->holder_of(*ip) : std::nullopt;
    if (!b.mac || !holder || *holder != *b.mac) {
      return Refusal{RefusalKind::wrong_address, "the script of machine " + b.machine_id +
                                                     " carries its event credential, and the request came from " +
                                                     (requester.empty() ? peer.address : requester) +
                                                     ", which does not hold that machine's DHCP lease"};
    }
  }
  st.token_minting.set_limit({settings.boot_token_rate_per_min / 60, settings.boot_token_burst}, now.steady);
  if (!st.token_minting.allow(peer.address, now.steady)) return rate_limited(st, peer, now);
  return std::nullopt;
}

// This boot's own token, never one from the cache, bound to the machine, the
// address asking, and the node name and role the operator gave it.
std::string mint_token(BootState& st, const BootSettings& settings, const CachedBoot& b, const std::string& requester,
                       const Now& now) {
  BootTokenBook::Binding binding{b.machine_id, requester.empty() ? std::string("-") : requester, {}, {}};
  if (b.cluster && b.cluster->role) {
    binding.node = b.cluster->name;
    binding.role = std::string(kube::to_string(*b.cluster->role));
  }
  auto issued = st.boot_tokens.issue(std::move(binding), now.steady, settings.boot_token_ttl);
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
  return std::move(issued.token);
}

// A machine with a cluster role was matched and given its token: its config
// fetch follows within seconds, so its identity (first boot: key generation)
// starts now on the workers, and the fetch usually finds it ready. The node
// advertises its etcd address (control plane) or the address it boots from
// (worker), as the config fetch will place it (place_machine).
void prepare_identity(BootState& st, const BootSettings& settings, const CachedBoot& b, const std::string& requester,
                      const Now& now) {
  if (st.identities == nullptr || settings.state_dir.empty() || !b.cluster || !b.cluster->role) return;
  const bool control_plane = *b.cluster->role == kube::Role::control_plane;
  const std::string ip = control_plane ? b.cluster->expected_address : requester;
  if (ip.empty()) return;  // the config fetch says what is missing
  st.identities->prepare(settings.state_dir, b.cluster->name, {ip}, now.steady);
}

// What has to happen for every /ipxe request, cached or not: count it, log the
// decision and why, record the boot (written to SQLite in the next batch).
ScriptOutcome answer_boot(BootState& st, const BootSettings& settings, const CachedBoot& b, const Peer& peer,
                          const Now& now) {
  st.counters.inc(b.matched ? "http.ipxe.matched" : "http.ipxe.unmatched");
  log::info("http.boot", {{"machine", b.machine_id},
                          {"decision", b.decision},
                          {"group", b.group.empty() ? std::string_view("-") : std::string_view(b.group)},
                          {"profile", b.profile.empty() ? std::string_view("-") : std::string_view(b.profile)},
                          {"reason", b.reason},
                          {"peer", peer.text}});
  if (st.store || st.on_boot) {
    BootRecord rec{b.machine_id, b.facts_json, b.group, b.profile, std::string(b.decision), b.reason, now.wall_ms};
    if (st.on_boot) st.on_boot(rec);
    if (st.store) st.store->record_boot(std::move(rec));
  }
  if (b.profile.empty()) {
    // Not ours to boot: it reaches no ready, and the report says why.
    st.progress.script_refused(b.machine_id, peer.address, "sent to exit (" + b.reason + ")", now.wall_ms);
  }
  if (!b.needs_token() && !b.needs_credential()) {
    st.phases.script_served(b.machine_id, b.profile, peer.address, now.steady);
    if (!b.profile.empty()) st.progress.script_served(b.machine_id, b.profile, peer.address, now.wall_ms);
    return {b.script, std::nullopt};
  }
  const std::string requester = requester_ipv4(peer.address);
  if (auto why = may_mint(st, settings, b, peer, requester, now)) {
    st.progress.script_refused(b.machine_id, peer.address, std::string(to_string(why->kind)) + ": " + why->message,
                               now.wall_ms);
    return {{}, std::move(why)};
  }
  st.phases.script_served(b.machine_id, b.profile, peer.address, now.steady);
  st.progress.script_served(b.machine_id, b.profile, peer.address, now.wall_ms);
  std::string token = b.needs_token() ? mint_token(st, settings, b, requester, now) : std::string();
  if (b.needs_token()) prepare_identity(st, settings, b, requester, now);
  std::string credential;
  if (b.needs_credential()) {
    // A new boot: from here on, the machine's earlier credentials are refused.
    credential = st.event_credentials.issue(b.machine_id, now.wall_ms);
    st.counters.inc("http.event_credential.issued");
  }
  return {b.script_with(token, credential), std::nullopt};
}
}  // namespace

std::string entry_script(BootState& state, const std::string& base_url, const Peer& peer) {
  state.counters.inc("http.boot_script");
  inv::ScriptRetry retry;
  retry.jitter_s = inv::jitter_seconds(peer.address);
  return inv::render_boot_script(base_url, retry);
}

std::optional<ScriptOutcome> cached_machine_script(BootState& st, const BootSettings& settings, std::string_view target,
                                                   std::string_view host, const Peer& peer, const Now& now) {
  const CachedBoot* b = st.script_cache.find(st.inventory_generation, target, host);
  if (b == nullptr) return std::nullopt;
  st.counters.inc("http.ipxe.cache_hit");
  return answer_boot(st, settings, *b, peer, now);
}

ScriptOutcome machine_script(BootState& st, const BootSettings& settings, const ScriptRequest& req, const Now& now) {
  auto fr = inv::facts_from_params(req.params);
  if (!fr.errors.empty()) {
    std::string msg;
    for (const auto& e : fr.errors) msg += (msg.empty() ? "" : "; ") + e.key + ": " + e.reason;
    return {{}, Refusal{RefusalKind::bad_request, "bad machine facts: " + msg}};
  }
  const auto& facts = fr.facts;
  auto id = facts.machine_id();
  if (!id) {
    return {{},
            Refusal{RefusalKind::no_identity, "a machine script needs mac= (or uuid=); iPXE gets it from /boot.ipxe"}};
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
    b.mac = facts.mac;
    const bool token = needs_boot_token(st, settings, facts, d.group, b);
    auto ctx = machine_context(facts, d.group, *d.profile, req.base_url, token ? token_slot() : "", credential_slot());
    // The jitter is the machine's own, so the cached script keeps it.
    inv::ScriptRetry retry;
    retry.jitter_s = inv::jitter_seconds(*id);
    b.script = inv::render_machine_script(*d.profile, ctx, uefi, comment, retry);
    b.cut_slots(token ? std::string_view(token_slot()) : std::string_view(), credential_slot());
  }
  auto out = answer_boot(st, settings, b, req.peer, now);
  st.counters.inc("http.ipxe.cache_miss");
  st.script_cache.put(generation, req.target, req.host, std::move(b));
  return out;
}

}  // namespace ramfleet::boot
