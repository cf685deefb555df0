// The operator API's writes (operator listener, route_operator; docs/operations.md, "Writes"):
//   POST /api/v1/machines/{id}/approve          {"group": G, "name": N, "labels": {..}}
//   PUT  /api/v1/machines/{id}/labels           {"k": "v", ..}
//   POST /api/v1/machines/{id}/identity/revoke
//   POST /api/v1/inventory/reload
// Who may: an operator with Scope::admin (the router refuses the rest with
// 403 before they get here; each write checks again and logs the caller's
// name). The first two write <config>/machines/<name>.yaml (machine_file.hpp)
// atomically and reload; an inventory that refuses the edit gets the file
// back as it was, and the answer is 409 with the loader's errors. Bad input
// (oversized, malformed, unknown fields, a name or group that could leave the
// directory) is a 4xx before anything is written.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>
#include <variant>

#include "boot/cluster_node.hpp"
#include "core/log.hpp"
#include "http/api_reply.hpp"
#include "http/router.hpp"
#include "http/service_upkeep.hpp"
#include "inventory/loader.hpp"
#include "inventory/machine_file.hpp"
#include "inventory/matcher.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::http {
namespace fs = std::filesystem;
namespace inv = ramfleet::inventory;
using json = nlohmann::json;

namespace {
constexpr std::size_t kMaxWriteBody = 16384;

// One write on its way: who asked, for what, and how it is refused.
struct Write {
  ServiceState& st;
  const Request& req;
  std::string what;  // "approve", "labels", "identity.revoke", "inventory.reload"

  Reply refuse(int status, const std::string& why) const {
    st.counters.inc("http.write.refused");
    st.counters.inc("http.write.refused." + what);
    log::warn("http.write.refused", {{"write", what},
                                     {"caller", req.caller ? req.caller->name : std::string("-")},
                                     {"status", status},
                                     {"error", why},
                                     {"peer", req.peer}});
    return error_reply(status, why);
  }
  // `subject` names what was written (machine, node, generation), for the log line.
  void done(const std::string& subject, const json& detail) const {
    st.counters.inc("http.write." + what);
    log::info("http.write", {{"write", what},
                             {"caller", req.caller->name},
                             {"subject", subject},
                             {"detail", detail.dump()},
                             {"peer", req.peer}});
  }
};

// The body as a JSON object, or the reply refusing it.
std::variant<json, Reply> body_object(const Write& w) {
  if (w.req.body.size() > kMaxWriteBody) {
    return w.refuse(413, "a write's body is at most " + std::to_string(kMaxWriteBody) + " bytes");
  }
  auto j = json::parse(w.req.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return w.refuse(400, "the body must be a JSON object");
  return j;
}

// {"k": "v", ...} as labels, or why not.
std::string read_labels(const json& j, std::map<std::string, std::string>& out) {
  if (!j.is_object()) return "labels must be an object of string values";
  if (j.size() > inv::kMaxLabels) return "at most " + std::to_string(inv::kMaxLabels) + " labels";
  for (const auto& [k, v] : j.items()) {
    if (!v.is_string()) return "label '" + k.substr(0, 64) + "': the value must be a string";
    const auto& text = v.get_ref<const std::string&>();
    if (auto why = inv::label_refusal(k, text); !why.empty()) return why;
    out[k] = text;
  }
  return {};
}

fs::path machines_dir(const ServiceState& st) { return st.settings.config_dir / "machines"; }

// Every machine file there is, by name (the ones that do not parse are skipped: the loader names them).
std::map<std::string, inv::MachineFile> machine_files(const ServiceState& st) {
  std::map<std::string, inv::MachineFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(machines_dir(st), ec)) {
    if (e.path().extension() != ".yaml" || !e.is_regular_file(ec)) continue;
    Diagnostics ignored;
    if (auto m = inv::read_machine_file(e.path(), ignored)) out.emplace(m->name, std::move(*m));
  }
  return out;
}

bool same_machine(const inv::MachineFile& m, const inv::MachineKey& key) {
  return key.mac ? m.mac == key.mac : (!m.mac && m.uuid == key.uuid);
}

std::string file_text(const Write& w, const inv::MachineFile& m, const std::string& id) {
  return inv::render_machine_file(m, "Written by the operator API (" + w.what + " of machine " + id + ", by " +
                                         w.req.caller->name + "); docs/inventory.md, \"Machine files\".");
}

// Writes `text` to `path` atomically, reloads the inventory, and puts the
// file back as it was (or removes it) when the reload refuses the edit.
std::optional<Reply> write_and_reload(const Write& w, const fs::path& path, const std::string& text) {
  std::error_code ec;
  std::optional<std::string> previous = kube::read_file(path);
  try {
    fs::create_directories(path.parent_path(), ec);
    kube::write_file_atomic(
        path, text, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  } catch (const std::exception& e) {
    w.st.counters.inc("http.write.failed");
    log::error("http.write.failed", {{"write", w.what}, {"file", path.string()}, {"error", e.what()}});
    return error_reply(500, std::string("cannot write ") + path.string() + ": " + e.what());
  }
  if (reload_inventory(w.st, ReloadWhen::now) == ReloadOutcome::accepted) return std::nullopt;
  std::string errors;
  for (const auto& d : w.st.last_reload_errors) errors += "\n" + d.str();
  try {
    if (previous) {
      kube::write_file_atomic(
          path, *previous,
          fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    } else {
      fs::remove(path, ec);
    }
  } catch (const std::exception& e) {
    log::error("http.write.rollback_failed", {{"file", path.string()}, {"error", e.what()}});
  }
  reload_inventory(w.st, ReloadWhen::now);  // the files as they were: the previous inventory, a new generation of it
  return w.refuse(409, "the inventory refuses this edit, so nothing was changed:" + errors);
}

Reply approve(ServiceState& st, const Request& req, const std::string& raw_id) {
  Write w{st, req, "approve"};
  const auto id = normalise_machine_id(raw_id);
  const auto key = inv::machine_key(id);
  if (!key) return w.refuse(400, "a machine id is a MAC address or uuid-<uuid>");
  auto body = body_object(w);
  if (auto* r = std::get_if<Reply>(&body)) return std::move(*r);
  const auto& j = std::get<json>(body);
  inv::MachineFile m;
  m.mac = key->mac;
  m.uuid = key->uuid;
  for (const auto& [k, v] : j.items()) {
    if (k == "group" || k == "name") {
      if (!v.is_string()) return w.refuse(400, k + " must be a string");
      (k == "group" ? m.group : m.name) = v.get<std::string>();
    } else if (k == "labels") {
      if (auto why = read_labels(v, m.labels); !why.empty()) return w.refuse(400, why);
    } else {
      return w.refuse(400, "unknown field '" + k.substr(0, 64) + "' (expected group, name, labels)");
    }
  }
  if (auto why = inv::group_id_refusal(m.group); !why.empty()) return w.refuse(400, why);
  if (auto why = inv::machine_name_refusal(m.name); !why.empty()) return w.refuse(400, why);
  const auto& groups = st.inventory->groups;
  const auto mdir = machines_dir(st).string() + "/";
  const bool known_group = std::any_of(groups.begin(), groups.end(), [&](const inv::Group& g) {
    return g.id == m.group && !g.mark.file.starts_with(mdir);
  });
  if (!known_group)
    return w.refuse(422, "no group '" + m.group + "' in " + (st.settings.config_dir / "groups").string());
  if (!st.store || !st.store->machine(id, 1)) {
    return w.refuse(404, "machine " + id + " has never booted from this server (approve what it discovered)");
  }
  for (const auto& [name, other] : machine_files(st)) {
    if (name != m.name && same_machine(other, *key)) {
      return w.refuse(409, "machine " + id + " is already approved as '" + name + "' (machines/" + name +
                               ".yaml): change that file, or remove it first");
    }
    if (name == m.name && !same_machine(other, *key)) {
      return w.refuse(409, "the name '" + m.name + "' is taken by another machine (machines/" + name + ".yaml)");
    }
  }
  const auto path = inv::machine_file_path(st.settings.config_dir, m.name);
  if (auto refused = write_and_reload(w, path, file_text(w, m, id))) return std::move(*refused);
  w.done(id, {{"group", m.group}, {"name", m.name}, {"file", path.string()}});
  // The dashboards following the live feed show it at once (event_feed.hpp).
  st.events.publish(
      "approval",
      {{"machine", id}, {"name", m.name}, {"group", m.group}, {"by", req.caller->name}, {"at_ms", now_ms()}});
  return json_reply(201, {{"machine", id},
                          {"group", m.group},
                          {"name", m.name},
                          {"labels", m.labels},
                          {"file", "machines/" + m.name + ".yaml"},
                          {"generation", st.inventory_generation}});
}

Reply set_labels(ServiceState& st, const Request& req, const std::string& raw_id) {
  Write w{st, req, "labels"};
  const auto id = normalise_machine_id(raw_id);
  const auto key = inv::machine_key(id);
  if (!key) return w.refuse(400, "a machine id is a MAC address or uuid-<uuid>");
  auto body = body_object(w);
  if (auto* r = std::get_if<Reply>(&body)) return std::move(*r);
  std::map<std::string, std::string> labels;
  if (auto why = read_labels(std::get<json>(body), labels); !why.empty()) return w.refuse(400, why);
  for (auto& [name, m] : machine_files(st)) {
    if (!same_machine(m, *key)) continue;
    m.labels = std::move(labels);
    const auto path = inv::machine_file_path(st.settings.config_dir, name);
    if (auto refused = write_and_reload(w, path, file_text(w, m, id))) return std::move(*refused);
    w.done(id, {{"name", name}, {"labels", m.labels}});
    return json_reply(200, {{"machine", id},
                            {"name", name},
                            {"group", m.group},
                            {"labels", m.labels},
                            {"file", "machines/" + name + ".yaml"},
                            {"generation", st.inventory_generation}});
  }
  return w.refuse(404, "machine " + id + " has no machine file: approve it first (POST .../approve)");
}

// The facts the machine last sent, as /ipxe parameters (the store keeps them as JSON).
inv::MachineFacts last_facts(const json& facts) {
  std::vector<std::pair<std::string, std::string>> params;
  for (const auto& [k, v] : facts.items()) {
    if (k == "labels" && v.is_object()) {
      for (const auto& [lk, lv] : v.items())
        if (lv.is_string()) params.emplace_back(lk, lv.get<std::string>());
    } else if (v.is_string()) {
      params.emplace_back(k, v.get<std::string>());
    }
  }
  return inv::facts_from_params(params).facts;
}

Reply revoke_identity(ServiceState& st, const Request& req, const std::string& raw_id) {
  Write w{st, req, "identity.revoke"};
  const auto id = normalise_machine_id(raw_id);
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n{}") != std::string::npos) {
    return w.refuse(400, "revoke takes no body");
  }
  const auto m = st.store ? st.store->machine(id, 1) : std::nullopt;
  if (!m) return w.refuse(404, "machine " + id + " has never booted from this server");
  st.cluster.refresh(st.settings.config_dir, st.inventory_generation);
  if (!st.cluster.spec()) return w.refuse(409, "there is no usable cluster.yaml, so no machine has a node identity");
  const auto facts = last_facts(m->value("facts", json::object()));
  const inv::InventoryPtr inventory = st.inventory;
  const auto d = inv::decide(*inventory, facts);
  const auto identity = boot::cluster_identity(*st.cluster.spec(), facts, d.group, st.address_owners);
  if (!identity.role) return w.refuse(409, "machine " + id + " takes no role in the cluster: it has no node identity");
  const fs::path dir = st.settings.state_dir / "nodes" / identity.name;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return w.refuse(404,
                    "node " + identity.name + " (machine " + id + ") has no identity yet: its first boot issues one");
  }
  // Moved aside, not deleted: what was issued stays on record for the operator.
  const fs::path revoked = st.settings.state_dir / "nodes-revoked" / (identity.name + "-" + std::to_string(now_ms()));
  try {
    kube::make_private_dirs(revoked.parent_path());
    fs::rename(dir, revoked);
    kube::sync_path(revoked.parent_path());
    kube::sync_path(dir.parent_path());
  } catch (const std::exception& e) {
    st.counters.inc("http.write.failed");
    log::error("http.write.failed", {{"write", w.what}, {"dir", dir.string()}, {"error", e.what()}});
    return error_reply(500, "cannot move " + dir.string() + " aside: " + e.what());
  }
  w.done(id, {{"node", identity.name}, {"moved_to", revoked.string()}});
  return json_reply(200,
                    {{"machine", id},
                     {"node", identity.name},
                     {"moved_to", revoked.string()},
                     {"next_boot", "issues a new identity (new keys, new machine-id, new certificates)"},
                     {"already_issued",
                      "certificates issued before stay valid until they expire: the cluster has no revocation list; "
                      "delete the Node (kubectl delete node " +
                          identity.name + ") and see docs/operations.md, \"Writes\""}});
}

Reply reload(ServiceState& st, const Request& req) {
  Write w{st, req, "inventory.reload"};
  if (!req.body.empty() && req.body.find_first_not_of(" \t\r\n{}") != std::string::npos) {
    return w.refuse(400, "reload takes no body");
  }
  if (st.settings.config_dir.empty()) return w.refuse(409, "serve runs without --config: there is nothing to reload");
  const bool ok = reload_inventory(st, ReloadWhen::now) == ReloadOutcome::accepted;
  json errors = json::array();
  for (const auto& d : st.last_reload_errors) errors.push_back(d.str());
  if (!ok) {
    w.refuse(409, "the inventory has errors; the previous one keeps serving");
    return json_reply(409, {{"error", "the inventory has errors; the previous one keeps serving"},
                            {"generation", st.inventory_generation},
                            {"errors", errors}});
  }
  w.done("inventory", {{"generation", st.inventory_generation}});
  return json_reply(200, {{"generation", st.inventory_generation},
                          {"groups", st.inventory->groups.size()},
                          {"profiles", st.inventory->profiles.size()}});
}

}  // namespace

std::optional<Reply> handle_operator_write(ServiceState& st, const Request& req, const std::vector<std::string>& s) {
  const bool post = req.method == Method::post;
  const bool put = req.method == Method::put;
  auto route = [&](bool right_method, const char* allow, auto&& handler) -> Reply {
    if (!right_method) return method_not_allowed(st, allow);
    // The router lets only admins write; checked again where the write happens.
    if (!req.caller || !req.caller->may_write()) {
      st.counters.inc("http.operator.forbidden");
      return error_reply(403, "writes need an admin credential");
    }
    try {
      return handler();
    } catch (const std::exception& e) {
      st.counters.inc("http.write.failed");
      log::error("http.write.failed", {{"error", e.what()}});
      return error_reply(500, std::string("write failed: ") + e.what());
    }
  };
  if (s.size() == 3 && s[0] == "machines" && s[2] == "approve") {
    return route(post, "POST", [&] { return approve(st, req, s[1]); });
  }
  if (s.size() == 3 && s[0] == "machines" && s[2] == "labels") {
    return route(put, "PUT", [&] { return set_labels(st, req, s[1]); });
  }
  if (s.size() == 4 && s[0] == "machines" && s[2] == "identity" && s[3] == "revoke") {
    return route(post, "POST", [&] { return revoke_identity(st, req, s[1]); });
  }
  if (s.size() == 2 && s[0] == "inventory" && s[1] == "reload") {
    return route(post, "POST", [&] { return reload(st, req); });
  }
  return std::nullopt;
}

}  // namespace ramfleet::http
