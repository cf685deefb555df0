#include "http/service_upkeep.hpp"

#include <system_error>

#include "boot/event_secret.hpp"
#include "boot/load_inventory.hpp"
#include "core/log.hpp"
#include "core/metrics.hpp"
#include "kube/cluster_spec.hpp"
#include "store/sqlite_machine_store.hpp"

namespace ramfleet::http {
namespace {

void install(ServiceState& st, inventory::InventoryPtr inv) {
  st.inventory = std::move(inv);
  st.inventory_loaded_ms = now_ms();
  ++st.inventory_generation;
  st.last_reload_errors.clear();
  log::info("inventory.loaded", {{"generation", st.inventory_generation},
                                 {"profiles", st.inventory->profiles.size()},
                                 {"groups", st.inventory->groups.size()}});
}

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(std::make_error_code(std::errc::invalid_argument), "http: " + what);
}

}  // namespace

void open_service_state(ServiceState& st) {
  namespace fs = std::filesystem;
  auto& s = st.settings;
  if (!s.config_dir.empty()) {
    auto r = boot::load_inventory(s.config_dir);
    Diagnostics diags = std::move(r.diagnostics);
    if (has_errors(diags)) {
      std::string msg = "the config has errors:";
      for (const auto& d : diags) msg += "\n  " + d.str();
      fail(msg);
    }
    st.inventory_fingerprint = inventory::inventory_fingerprint(s.config_dir);
    install(st, std::move(r.inventory));
  } else {
    st.inventory = std::make_shared<inventory::Inventory>();
  }
  fs::path assets = s.assets_dir.empty() && !s.config_dir.empty() ? s.config_dir / "assets" : s.assets_dir;
  std::error_code ec;
  if (!assets.empty() && fs::is_directory(assets, ec)) {
    st.assets_root = fs::canonical(assets, ec);
  } else if (!assets.empty()) {
    log::warn("http.no_assets", {{"dir", assets.string()}, {"effect", "/assets/ answers 404"}});
  }
  if (!s.state_dir.empty()) {
    fs::create_directories(s.state_dir, ec);
    try {
      st.store = store::SqliteMachineStore::open(s.state_dir, s.store);
      st.event_credentials = boot::EventCredentials(boot::load_or_create_event_secret(s.state_dir));
    } catch (const std::exception& e) {
      fail(e.what());
    }
  }
}

ReloadOutcome reload_inventory(ServiceState& st, ReloadWhen when) {
  if (st.settings.config_dir.empty()) return ReloadOutcome::unchanged;
  const auto fp = inventory::inventory_fingerprint(st.settings.config_dir);
  if (when == ReloadWhen::if_changed && fp == st.inventory_fingerprint) return ReloadOutcome::unchanged;
  st.inventory_fingerprint = fp;
  auto r = boot::load_inventory(st.settings.config_dir);
  for (const auto& d : r.diagnostics)
    if (!d.is_error()) log::warn("inventory.warning", {{"diagnostic", d.str()}});
  // cluster.yaml is part of the inventory's generation (boot/cluster_config.hpp):
  // an edit with errors refuses the whole generation, so the previous
  // cluster.yaml keeps serving with the previous inventory.
  const auto cluster_file = st.settings.config_dir / kube::kClusterSpecFile;
  std::error_code ec;
  if (r.inventory && std::filesystem::exists(cluster_file, ec)) {
    auto cluster = kube::load_cluster_spec(cluster_file);
    if (!cluster.spec) {
      r.inventory.reset();
      for (auto& d : cluster.diagnostics) r.diagnostics.push_back(std::move(d));
    }
  }
  if (r.inventory) {
    st.counters.inc("inventory.reload.accepted");
    install(st, std::move(r.inventory));
    return ReloadOutcome::accepted;
  }
  st.counters.inc("inventory.reload.refused");
  for (const auto& d : r.diagnostics)
    if (d.is_error()) log::error("inventory.refused", {{"diagnostic", d.str()}});
  log::error("inventory.kept", {{"generation", st.inventory_generation},
                                {"why", "the edit has errors; the previous inventory keeps serving"}});
  st.last_reload_errors = std::move(r.diagnostics);
  return ReloadOutcome::refused;
}

void reload_inventory_if_changed(ServiceState& st) { reload_inventory(st, ReloadWhen::if_changed); }

void flush_store(ServiceState& st) {
  if (!st.store) return;
  try {
    const auto t0 = std::chrono::steady_clock::now();
    st.store->flush();
    if (st.loop_steps != nullptr) {
      st.loop_steps->with({"store.flush"})
          .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  } catch (const std::exception& e) {
    st.counters.inc("store.flush_failed");
    log::error("store.flush_failed", {{"error", e.what()}});
  }
}

}  // namespace ramfleet::http
