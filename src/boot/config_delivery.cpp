#include "boot/config_delivery.hpp"

#include "boot/cluster_node.hpp"
#include "boot/identity_issuer.hpp"
#include "boot/node_config.hpp"
#include "config/compile.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "inventory/matcher.hpp"
#include "kube/approval.hpp"
#include "kube/names.hpp"
#include "kube/node_files.hpp"

namespace ramfleet::boot {
namespace inv = ramfleet::inventory;

const std::string& ConfigDelivery::bytes() const { return *compiled->output; }

namespace {
constexpr std::size_t kMaxParams = 32;

// One config request on its way through the steps below; each step either
// fills in its part or says why the machine gets nothing.
struct Walk {
  Walk(BootState& s, const BootSettings& b, const ConfigRequest& r, const Now& n)
      : st(s), settings(b), req(r), now(n) {}

  BootState& st;
  const BootSettings& settings;
  const ConfigRequest& req;
  const Now& now;

  config::Target target = config::Target::ignition;
  std::vector<std::pair<std::string, std::string>> params;
  std::string token;
  inv::MachineFacts facts;
  std::string id;               // the machine id (MAC, else uuid-..)
  inv::InventoryPtr inventory;  // held for the whole request: a reload swaps the pointer, not this copy
  inv::BootDecision decision;
  ConfigRequestContext ctx;
  std::optional<NodeConfigPlan> plan;
  std::string requester;                         // the requester's IPv4 address ("" when not IPv4)
  ClusterIdentity identity;                      // who the operator says it is (when cluster.yaml is set)
  std::optional<kube::NodePlacement> placement;  // set when the machine takes a cluster role
  bool init_served = false;                      // the first member's init config is in this one
  std::string pending_node;                      // identity_pending: whose identity
  std::shared_ptr<const config::CompileResult> compiled;
  bool cache_hit = false;
};

using Step = std::optional<Refusal> (*)(Walk&);

Refusal refused(RefusalKind kind, std::string message) { return {kind, std::move(message)}; }

std::string ttl_text(std::chrono::milliseconds ttl) {
  const auto ms = ttl.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
}

Refusal token_refusal(TokenRefusal why, const std::string& machine, const BootSettings& settings) {
  const std::string again = "; boot the machine through ramfleet again (its /ipxe script carries a fresh token)";
  switch (why) {
    case TokenRefusal::missing:
      return refused(RefusalKind::token_missing,
                     "the config of machine " + machine +
                         " carries its cluster credentials and is served only with the boot token of its iPXE "
                         "script: use {{config_url}} (or {{ignition_url}} ...) in the profile's kernel args, which "
                         "end in /token=..." +
                         again);
    case TokenRefusal::unknown:
      return refused(RefusalKind::token_unknown,
                     "boot token refused for machine " + machine + ": not issued by this server, or forgotten" + again);
    case TokenRefusal::reused:
      return refused(RefusalKind::token_reused, "boot token refused for machine " + machine +
                                                    ": already used (a config is served once per boot)" + again);
    case TokenRefusal::expired:
      return refused(RefusalKind::token_expired,
                     "boot token refused for machine " + machine + ": expired (a token is good for " +
                         ttl_text(settings.boot_token_ttl) +
                         " after its iPXE script; http.boot_token_ttl in ramfleet.yaml)" + again);
    case TokenRefusal::other_machine:
      return refused(RefusalKind::token_other_machine, "boot token refused for machine " + machine +
                                                           ": it was issued to another machine, node name or role" +
                                                           again);
    case TokenRefusal::wrong_address:
      return refused(RefusalKind::wrong_address,
                     "boot token refused for machine " + machine +
                         ": it is redeemed only from the address that fetched the machine's iPXE script" + again);
  }
  return refused(RefusalKind::token_unknown, "boot token refused");
}

// Takes the boot token out of the facts: the token=.. path segment that
// node_config_url puts last (or ?token=..). The last one counts, so a label
// named "token" sent to /ipxe cannot stand in for the one ramfleet appended.
std::string take_boot_token(std::vector<std::pair<std::string, std::string>>& params) {
  std::string token;
  std::erase_if(params, [&](auto& p) {
    if (p.first != kBootTokenKey) return false;
    token = std::move(p.second);
    return true;
  });
  return token;
}

std::optional<Refusal> node_name_refusal(BootState& st, const kube::ClusterSpec& spec, const ClusterIdentity& id) {
  auto why = kube::node_name_refusal(spec, id.name, *id.role);
  if (!why) return std::nullopt;
  st.counters.inc("boot.name_refused");
  return refused(RefusalKind::name_refused,
                 "node name '" + id.name + "' refused: " + *why +
                     " (a node's name comes from its group's metadata.hostname or its DHCP reservation)");
}

std::optional<Refusal> read_facts(Walk& w) {
  const auto target = config::parse_target(w.req.target);
  if (!target) return refused(RefusalKind::not_found, "no such config target");
  w.target = *target;
  w.params = w.req.params;
  w.token = take_boot_token(w.params);
  if (w.params.size() > kMaxParams) return refused(RefusalKind::bad_request, "too many machine facts (at most 32)");
  auto fr = inv::facts_from_params(w.params);
  if (!fr.errors.empty()) {
    std::string msg;
    for (const auto& e : fr.errors) msg += (msg.empty() ? "" : "; ") + e.key + ": " + e.reason;
    return refused(RefusalKind::bad_request, "bad machine facts: " + msg);
  }
  w.facts = std::move(fr.facts);
  const auto id = w.facts.machine_id();
  if (!id) {
    return refused(RefusalKind::no_identity,
                   "a machine config needs mac= (or uuid=); use {{config_url}} in the profile's kernel args");
  }
  w.id = *id;
  return std::nullopt;
}

std::optional<Refusal> match_machine(Walk& w) {
  w.inventory = w.st.inventory;
  w.decision = inv::decide(*w.inventory, w.facts);
  if (w.decision.kind == inv::BootDecision::Kind::exit) {
    return refused(RefusalKind::unmatched, "machine " + w.id + " is not in the inventory: " + w.decision.reason);
  }
  return std::nullopt;
}

std::optional<Refusal> plan_layers(Walk& w) {
  w.ctx.base_url = w.req.base_url;
  const auto* ip = w.facts.label("ip");
  w.ctx.ip = ip != nullptr ? *ip : w.req.peer.address;
  auto pr = plan_node_config(*w.inventory, w.decision.group, *w.decision.profile, w.facts, w.target, w.ctx);
  if (!pr.plan) {
    std::string msg = "machine " + w.id + ": " + pr.error;
    if (!pr.diagnostics.empty()) msg += ":\n" + config::format_diagnostics(pr.diagnostics);
    return refused(pr.status == 404 ? RefusalKind::no_config : RefusalKind::compile_failed, std::move(msg));
  }
  w.plan = std::move(pr.plan);
  w.plan->options.counters = &w.st.counters;
  return std::nullopt;
}

// Does this machine take a role in the cluster? Then its config carries
// secrets, and the requester must be the machine the operator means.
std::optional<Refusal> place_in_cluster(Walk& w) {
  w.st.cluster.refresh(w.settings.config_dir, w.st.inventory_generation);
  if (!w.st.cluster.configured()) return std::nullopt;
  if (!w.st.cluster.spec()) {
    return refused(
        RefusalKind::cluster_error,
        "cluster.yaml has errors, so no machine gets its cluster files until they are fixed:\n" + w.st.cluster.error());
  }
  const auto& spec = *w.st.cluster.spec();
  const auto* owners = w.st.address_owners;
  w.identity = cluster_identity(spec, w.facts, w.decision.group, owners);
  if (!w.identity.role) return std::nullopt;
  if (auto why = node_name_refusal(w.st, spec, w.identity)) return why;
  w.requester = requester_ipv4(w.req.peer.address);
  if (auto why = address_mismatch(w.identity, w.facts.mac, w.requester, owners); !why.empty()) {
    return refused(RefusalKind::wrong_address, why);
  }
  // A worker advertises the address it boots from (checked above against
  // the operator's, when there is one), never one it claims.
  auto placed = place_machine(spec, w.facts, w.decision.group, owners, w.requester);
  if (!placed.error.empty()) return refused(RefusalKind::cluster_error, placed.error);
  w.placement = std::move(placed.placement);
  return std::nullopt;
}

BootTokenBook::Binding binding_of(const Walk& w) {
  return {w.id, w.requester, w.identity.name, std::string(kube::to_string(*w.identity.role))};
}

// The token is checked here and spent only once the config goes out (deliver_config).
std::optional<Refusal> check_token(Walk& w) {
  if (!w.placement) return std::nullopt;
  if (auto why = w.st.boot_tokens.check(w.token, binding_of(w), w.now.steady)) {
    log::warn("http.config.token_refused", {{"reason", to_string(*why)},
                                            {"machine", w.id},
                                            {"node", w.placement->node.name},
                                            {"target", config::target_name(w.target)},
                                            {"peer", w.req.peer.text}});
    return token_refusal(*why, w.id, w.settings);
  }
  return std::nullopt;
}

// A control-plane member receives the cluster's CA keys: only once the
// operator has approved it (`ramfleet cluster approve NODE`, STATE/approved/).
std::optional<Refusal> check_approval(Walk& w) {
  if (!w.placement || w.placement->role != kube::Role::control_plane) return std::nullopt;
  if (kube::node_approved(w.settings.state_dir, w.placement->node.name)) return std::nullopt;
  log::warn("http.config.awaiting_approval",
            {{"machine", w.id}, {"node", w.placement->node.name}, {"peer", w.req.peer.text}});
  return refused(RefusalKind::awaiting_approval,
                 "node " + w.placement->node.name + " (machine " + w.id +
                     ") is a control-plane member: its config carries the cluster's CA keys and is released only "
                     "after the operator approves it: run `ramfleet cluster approve " +
                     w.placement->node.name + "` on the ramfleet server, then let the machine retry");
}

// An etcd member's authenticated boot (etcd.mode: ramfleet): what its etcd
// starts with, decided by the membership service (boot/etcd_membership.hpp).
// A HEAD decides without acting.
// kubeadm's stacked etcd (etcd.mode: stacked): a rebooted member's stale
// entry is removed before its join config is served, so `kubeadm join
// --control-plane` can add it again; its init config (the cluster's first
// boot) asks nothing.
std::optional<Refusal> decide_etcd_boot(Walk& w, std::optional<etcd::MemberBoot>& out) {
  const auto& spec = *w.st.cluster.spec();
  if (!w.placement->member) return std::nullopt;
  const bool stacked_join = spec.etcd.mode == kube::EtcdMode::stacked &&
                            spec.distribution == kube::Distribution::kubeadm &&
                            !(w.placement->first_member && !kube::cluster_bootstrapped(w.settings.state_dir));
  if (spec.etcd.mode != kube::EtcdMode::ramfleet && !stacked_join) return std::nullopt;
  if (w.st.etcd == nullptr) {
    if (spec.etcd.mode == kube::EtcdMode::ramfleet) out = first_formation(spec);
    return std::nullopt;
  }
  auto answer = w.st.etcd->member_booted(spec, *w.placement->member, w.requester, w.req.base_url, !w.req.head);
  if (answer.boot || answer.refusal.empty()) {
    out = std::move(answer.boot);
    return std::nullopt;
  }
  w.st.counters.inc(answer.retry ? "etcd.boot.wait" : "etcd.boot.refused");
  return refused(answer.retry ? RefusalKind::etcd_wait : RefusalKind::etcd_refused,
                 "etcd member " + w.placement->member->name + ": " + answer.refusal);
}

// Its identity, issued on its first boot by the workers (identity_issuer.hpp):
// key generation never runs on the event loop. Until it is there the request
// is refused identity_pending (the transport waits and walks it again) or,
// with the workers' queue full, identity_busy. Without workers (null issuer)
// node_bundle issues it inline, as before.
std::optional<Refusal> issue_identity(Walk& w) {
  if (!w.placement || w.st.identities == nullptr || w.settings.state_dir.empty()) return std::nullopt;
  const auto& node = w.placement->node;
  const auto a = w.st.identities->ensure(w.settings.state_dir, node.name, {node.ip}, w.now.steady);
  switch (a.status) {
    case IdentityIssuer::Status::ready:
      return std::nullopt;
    case IdentityIssuer::Status::pending:
      w.pending_node = node.name;
      return refused(RefusalKind::identity_pending, "the identity of node " + node.name + " (machine " + w.id +
                                                        ") is being issued; ask again shortly");
    case IdentityIssuer::Status::full:
      return refused(RefusalKind::identity_busy, "node identities are being issued for many machines at once; node " +
                                                     node.name + " (machine " + w.id +
                                                     ") is not queued yet: ask again shortly");
    case IdentityIssuer::Status::failed:
      return refused(RefusalKind::cluster_error,
                     "cluster files for machine " + w.id + " (node " + node.name + "): " + a.error);
  }
  return std::nullopt;
}

// Its identity, join configuration and certificates, as one more layer.
std::optional<Refusal> add_cluster_files(Walk& w) {
  if (!w.placement) return std::nullopt;
  const auto ram = ram_root_for(w.facts, w.decision.group);
  if (!ram.error.empty()) return refused(RefusalKind::cluster_error, "machine " + w.id + ": " + ram.error);
  if (w.settings.state_dir.empty()) {
    return refused(RefusalKind::cluster_error, "cluster.yaml is set but ramfleet serve has no --state");
  }
  std::optional<etcd::MemberBoot> etcd_boot;
  if (auto why = decide_etcd_boot(w, etcd_boot)) return why;
  try {
    const auto bundle = kube::node_bundle(*w.st.cluster.spec(), w.settings.state_dir, *w.placement, ram.ram,
                                          kube::Clock::now(), etcd_boot ? &*etcd_boot : nullptr);
    add_generated_layer(*w.plan, "cluster node " + w.placement->node.name + " (cluster.yaml)",
                        node_files_layer(bundle.files));
    w.init_served = bundle.init;
  } catch (const std::exception& e) {
    return refused(RefusalKind::cluster_error,
                   "cluster files for machine " + w.id + " (node " + w.placement->node.name + "): " + e.what());
  }
  return std::nullopt;
}

std::optional<Refusal> compile(Walk& w) {
  if (!w.st.config_cache) w.st.config_cache = std::make_shared<NodeConfigCache>();
  w.st.config_cache->set_generation(w.st.inventory_generation);
  const auto lookup = w.st.config_cache->get_or_compile(*w.plan);
  w.compiled = lookup.result;
  w.cache_hit = lookup.hit;
  const auto& result = *w.compiled;
  w.st.counters.inc(lookup.hit ? "http.config.cache_hit" : "http.config.cache_miss");
  if (!lookup.hit) {
    for (const auto& diag : result.diagnostics) {
      if (diag.severity == Diagnostic::Severity::warning)
        log::warn("config.warning", {{"machine", w.id}, {"diagnostic", diag.str()}});
    }
  }
  if (result.ok()) return std::nullopt;
  for (const auto& diag : result.diagnostics) {
    if (diag.severity == Diagnostic::Severity::error)
      log::error("http.config.compile_failed", {{"machine", w.id}, {"diagnostic", diag.str()}});
  }
  return refused(RefusalKind::compile_failed, "the " + std::string(config::target_name(w.target)) +
                                                  " config of machine " + w.id + " (profile '" +
                                                  w.decision.profile->id + "') does not compile:\n" +
                                                  config::format_diagnostics(result.diagnostics));
}

// The config is on its way: the token is used up, and after the first
// member's init config the others (and its own reboots) join (node_files.hpp).
void record_served(Walk& w) {
  if (!w.placement) return;
  w.st.boot_tokens.spend(w.token);
  w.st.counters.inc("http.config.token_accepted");
  if (!w.init_served) return;
  try {
    kube::mark_bootstrapped(w.settings.state_dir, w.placement->node.name);
  } catch (const std::exception& e) {
    log::error("kube.cluster.mark_failed", {{"error", e.what()}});
  }
}
}  // namespace

ConfigOutcome deliver_config(BootState& state, const BootSettings& settings, const ConfigRequest& request,
                             const Now& now) {
  Walk w(state, settings, request, now);
  ConfigOutcome out;
  struct Named {
    const char* name;
    Step step;
  };
  static constexpr Named kSteps[] = {
      {"config.facts", read_facts},        {"config.match", match_machine},
      {"config.plan", plan_layers},        {"config.place", place_in_cluster},
      {"config.token", check_token},       {"config.approval", check_approval},
      {"config.identity", issue_identity}, {"config.cluster_files", add_cluster_files},
      {"config.compile", compile},
  };
  // What each step holds the event loop for (loop_steps: the operator's
  // /metrics, and bench/identity_storm): the steps a first boot makes slow.
  for (const auto& [name, step] : kSteps) {
    const auto t0 = std::chrono::steady_clock::now();
    auto why = step(w);
    if (state.loop_steps != nullptr) {
      state.loop_steps->with({name}).observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (why) {
      // After read_facts the machine is known: the report says why its config was refused.
      if (!w.id.empty() && !request.head) {
        state.progress.config_refused(w.id, request.peer.address,
                                      std::string(to_string(why->kind)) + ": " + why->message, now.wall_ms);
      }
      out.refusal = std::move(*why);
      out.pending_node = std::move(w.pending_node);
      return out;
    }
  }
  ConfigDelivery d;
  d.compiled = w.compiled;
  d.etag = "\"" + w.compiled->etag + "\"";
  d.content_type = w.compiled->content_type;
  d.not_modified = request.client_has && request.client_has(d.etag);
  // Spent only when the bytes really go out: a HEAD or a 304 leaves the token for the GET.
  if (!d.not_modified && !request.head) {
    const auto t0 = std::chrono::steady_clock::now();
    record_served(w);
    if (state.loop_steps != nullptr) {
      state.loop_steps->with({"config.record_served"})
          .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    log::info("http.config", {{"machine", w.id},
                              {"target", config::target_name(w.target)},
                              {"profile", w.decision.profile->id},
                              {"group", w.decision.group ? w.decision.group->id : "-"},
                              {"bytes", d.bytes().size()},
                              {"cached", w.cache_hit},
                              {"cluster_role", w.placement ? kube::to_string(w.placement->role) : "-"},
                              {"peer", request.peer.text}});
  }
  if (!request.head) {
    state.phases.config_served(w.id, now.steady);
    state.progress.config_served(w.id, request.peer.address, config::target_name(w.target), now.wall_ms);
  }
  out.delivered = std::move(d);
  return out;
}

}  // namespace ramfleet::boot
