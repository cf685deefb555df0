#include "boot/boot_progress.hpp"

#include <algorithm>

namespace ramfleet::boot {

std::string_view to_string(BootStep step) {
  switch (step) {
    case BootStep::dhcp:
      return "dhcp";
    case BootStep::tftp:
      return "tftp";
    case BootStep::script_refused:
      return "script_refused";
    case BootStep::script:
      return "script";
    case BootStep::paced:
      return "paced";
    case BootStep::kernel:
      return "kernel";
    case BootStep::config_refused:
      return "config_refused";
    case BootStep::config:
      return "config";
    case BootStep::booted:
      return "booted";
    case BootStep::configured:
      return "configured";
    case BootStep::ready:
      return "ready";
    case BootStep::error:
      return "error";
  }
  return "?";
}

BootStep progress_step(Phase phase) {
  switch (phase) {
    case Phase::booted:
      return BootStep::booted;
    case Phase::configured:
      return BootStep::configured;
    case Phase::ready:
      return BootStep::ready;
    case Phase::error:
      return BootStep::error;
  }
  return BootStep::error;
}

namespace {
bool before(BootStep a, BootStep b) { return static_cast<int>(a) < static_cast<int>(b); }

// One line (a compile error spans several), at most kMaxDetail bytes.
std::string cut(std::string_view s) {
  std::string out(s.substr(0, BootProgress::kMaxDetail));
  for (auto& c : out)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return out;
}
}  // namespace

BootProgress::Entry& BootProgress::touch(std::string_view machine_id) {
  auto it = entries_.find(machine_id);
  if (it != entries_.end()) {
    order_.splice(order_.end(), order_, it->second.order);
    return it->second.entry;
  }
  if (entries_.size() >= capacity_) {
    auto victim = entries_.find(order_.front());
    if (auto a = by_address_.find(victim->second.entry.address); a != by_address_.end() && a->second == victim->first)
      by_address_.erase(a);
    entries_.erase(victim);
    order_.pop_front();
    ++forgotten_;
  }
  order_.emplace_back(machine_id);
  auto& slot = entries_[std::string(machine_id)];
  slot.order = std::prev(order_.end());
  slot.entry.machine_id = machine_id;
  slot.entry.boot_started_ms = -1;  // set by the first step
  return slot.entry;
}

void BootProgress::set(Entry& e, BootStep step, std::string_view detail, std::string_view address,
                       std::int64_t now_ms) {
  if (e.boot_started_ms < 0) e.boot_started_ms = now_ms;
  e.step = step;
  e.at_ms = now_ms;
  e.detail = cut(detail);
  if (!address.empty()) e.address = address;
}

void BootProgress::remember_address(std::string_view address, std::string_view machine_id) {
  if (address.empty()) return;
  by_address_.insert_or_assign(std::string(address), std::string(machine_id));
}

void BootProgress::dhcp_answered(std::string_view machine_id, std::int64_t now_ms) {
  auto& e = touch(machine_id);
  // The PXE ROM asks, then iPXE asks again after TFTP: one boot. A machine
  // that got further than TFTP and asks again has started over.
  if (e.boot_started_ms >= 0 && !before(BootStep::tftp, e.step)) {
    if (e.step == BootStep::dhcp) e.at_ms = now_ms;
    return;
  }
  e.boot_started_ms = now_ms;
  e.profile.clear();
  set(e, BootStep::dhcp, "DHCP answered its firmware with boot options", "", now_ms);
}

void BootProgress::tftp(std::string_view machine_id, std::string_view client_address, std::string_view what,
                        std::int64_t now_ms) {
  if (machine_id.empty()) return;
  auto& e = touch(machine_id);
  if (e.boot_started_ms >= 0 && before(BootStep::tftp, e.step)) return;  // a later step was seen
  set(e, BootStep::tftp, what, client_address, now_ms);
}

void BootProgress::script_served(std::string_view machine_id, std::string_view profile, std::string_view address,
                                 std::int64_t now_ms) {
  auto& e = touch(machine_id);
  // Past its config or reporting: the machine booted again without a DHCP
  // answer seen here (DHCP off, or another server's).
  if (e.boot_started_ms >= 0 && before(BootStep::config, e.step)) e.boot_started_ms = now_ms;
  e.profile = profile;
  set(e, BootStep::script, "got its iPXE script", address, now_ms);
  remember_address(address, machine_id);
}

void BootProgress::script_refused(std::string_view machine_id, std::string_view address, std::string_view why,
                                  std::int64_t now_ms) {
  auto& e = touch(machine_id);
  if (e.boot_started_ms >= 0 && before(BootStep::config, e.step)) e.boot_started_ms = now_ms;
  set(e, BootStep::script_refused, why, address, now_ms);
}

void BootProgress::asset_requested(std::string_view address, std::string_view asset, std::int64_t now_ms) {
  auto a = by_address_.find(address);
  if (a == by_address_.end()) return;
  auto it = entries_.find(a->second);
  if (it == entries_.end()) return;
  auto& e = touch(a->second);
  // Every asset of the boot until its config: the last one named tells a
  // kernel fetched from an initrd fetched.
  if (before(BootStep::config_refused, e.step) || before(e.step, BootStep::script)) return;
  set(e, BootStep::kernel, "asked for " + std::string(asset), address, now_ms);
}

void BootProgress::asset_paced(std::string_view address, std::string_view asset, unsigned retry_after_s,
                               std::int64_t now_ms) {
  auto a = by_address_.find(address);
  if (a == by_address_.end()) return;
  if (entries_.find(a->second) == entries_.end()) return;
  auto& e = touch(a->second);
  if (before(BootStep::config_refused, e.step) || before(e.step, BootStep::script)) return;
  set(e, BootStep::paced,
      "asked for " + std::string(asset) + ", answered 503 Retry-After " + std::to_string(retry_after_s) +
          " s (too many files being sent)",
      address, now_ms);
}

void BootProgress::config_served(std::string_view machine_id, std::string_view address, std::string_view target,
                                 std::int64_t now_ms) {
  auto& e = touch(machine_id);
  if (e.boot_started_ms >= 0 && before(BootStep::config, e.step)) return;  // a later fetch (Ignition retries)
  set(e, BootStep::config, "fetched its " + std::string(target) + " config", address, now_ms);
}

void BootProgress::config_refused(std::string_view machine_id, std::string_view address, std::string_view why,
                                  std::int64_t now_ms) {
  auto& e = touch(machine_id);
  if (e.boot_started_ms >= 0 && before(BootStep::config, e.step)) return;
  set(e, BootStep::config_refused, why, address, now_ms);
}

void BootProgress::node_event(std::string_view machine_id, BootStep phase, std::string_view message,
                              std::int64_t now_ms) {
  auto& e = touch(machine_id);
  // `booted` after `ready` or `error`: the node restarted without DHCP seen here.
  if (phase == BootStep::booted && e.boot_started_ms >= 0 && (e.step == BootStep::ready || e.step == BootStep::error))
    e.boot_started_ms = now_ms;
  set(e, phase, message, "", now_ms);
}

const BootProgress::Entry* BootProgress::find(std::string_view machine_id) const {
  auto it = entries_.find(machine_id);
  return it == entries_.end() ? nullptr : &it->second.entry;
}

BootProgress::Stalled BootProgress::stalled(std::int64_t since_ms, std::int64_t idle_ms, std::int64_t now_ms,
                                            std::size_t limit) const {
  Stalled out;
  for (const auto& [id, slot] : entries_) {
    const Entry& e = slot.entry;
    if (e.step == BootStep::ready || e.boot_started_ms < since_ms || now_ms - e.at_ms < idle_ms) continue;
    out.machines.push_back(e);
  }
  out.total = out.machines.size();
  std::sort(out.machines.begin(), out.machines.end(), [](const Entry& a, const Entry& b) {
    return a.boot_started_ms != b.boot_started_ms ? a.boot_started_ms < b.boot_started_ms : a.machine_id < b.machine_id;
  });
  if (out.machines.size() > limit) out.machines.resize(limit);
  return out;
}

std::string BootProgress::reason(const Entry& e) {
  switch (e.step) {
    case BootStep::dhcp:
      return "DHCP answered its firmware, and nothing more was seen: no TFTP transfer attributed to it (only "
             "full DHCP knows a TFTP client's MAC), no request for its iPXE script";
    case BootStep::tftp:
      return e.detail + "; iPXE never asked for this machine's script";
    case BootStep::script_refused:
      return "/ipxe refused its script: " + e.detail;
    case BootStep::script:
      return "got its iPXE script" + (e.profile.empty() ? std::string() : " (profile " + e.profile + ")") +
             "; never asked for its kernel";
    case BootStep::paced:
      return e.detail + "; it did not come back for it";
    case BootStep::kernel:
      return e.detail + "; then neither fetched a config nor reported booted";
    case BootStep::config_refused:
      return "its config was refused: " + e.detail;
    case BootStep::config:
      return e.detail + "; never reported booted";
    case BootStep::booted:
      return "reported booted; never reported configured or ready";
    case BootStep::configured:
      return "reported configured; never reported ready";
    case BootStep::ready:
      return "ready";
    case BootStep::error:
      return "reported error: " + e.detail;
  }
  return "?";
}

}  // namespace ramfleet::boot
