#pragma once
// How far each machine's current boot got, and why it stopped there: the
// after-a-storm report (GET /api/v1/boots/stalled, `ramfleet status
// --not-ready`; docs/operations.md, "Machines that did not reach ready").
//
// Each service reports what it saw of a machine, in the order a boot passes
// them: DHCP answered its firmware with boot options, TFTP sent (or failed to
// send, or was too busy to start) the iPXE binary, /ipxe served or refused
// its script, the first asset its address fetched (its kernel), a file reply
// paced with 503, its config served or refused (with the refusal's reason),
// and the node's own events: booted, configured, ready, error. The report is
// each machine's last step with when it happened and when its boot started.
//
// boot_phases.hpp times the same milestones for metrics and forgets a boot at
// ready; this keeps the last step of every machine (ready included, so a
// report can tell "ready" from "never seen"), with the wall clock.
//
// A DHCP answer to a machine that got further than TFTP starts a new boot
// (its firmware starts over); the PXE ROM's and then iPXE's DHCP belong to one
// boot. Anyone on the boot network can claim a MAC in a request, as with /ipxe
// itself: each step keeps the address it came from, shown in the report.
//
// Sans-IO (every call is given the wall time, ms since the epoch) and bounded:
// at most `capacity` machines; beyond it the one updated least recently is
// forgotten (counted). Details are cut to kMaxDetail bytes.
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "boot/machine_store.hpp"

namespace ramfleet::boot {

enum class BootStep {
  dhcp,            // DHCP answered its firmware with boot options
  tftp,            // TFTP: the iPXE binary sent, failed or dropped (detail says which)
  script_refused,  // /ipxe refused: detail has the reason
  script,          // /ipxe served its script
  paced,           // a file reply answered 503 + Retry-After (the firmware comes back)
  kernel,          // its first asset (the kernel) asked for
  config_refused,  // its config refused: detail has the reason
  config,          // its config served
  booted,          // the node's own events from here on
  configured,
  ready,
  error,
};

std::string_view to_string(BootStep step);
// A node event's phase as a step.
BootStep progress_step(Phase phase);

class BootProgress {
 public:
  static constexpr std::size_t kMaxDetail = 512;

  struct Entry {
    std::string machine_id;
    BootStep step = BootStep::dhcp;
    std::int64_t at_ms = 0;            // when the last step happened
    std::int64_t boot_started_ms = 0;  // the first step of this boot
    std::string detail;                // what happened at that step (the refusal's reason ...)
    std::string address;               // where the last request came from ("" when not known)
    std::string profile;               // from /ipxe, once served
  };

  explicit BootProgress(std::size_t capacity = 16384) : capacity_(capacity == 0 ? 1 : capacity) {}

  void dhcp_answered(std::string_view machine_id, std::int64_t now_ms);
  // client_address: where the TFTP request came from; machine_id: who holds
  // it (the lease book), empty when unknown (proxy DHCP), then ignored.
  void tftp(std::string_view machine_id, std::string_view client_address, std::string_view what, std::int64_t now_ms);
  void script_served(std::string_view machine_id, std::string_view profile, std::string_view address,
                     std::int64_t now_ms);
  void script_refused(std::string_view machine_id, std::string_view address, std::string_view why, std::int64_t now_ms);
  // By address: the machine whose script went to that address last.
  void asset_requested(std::string_view address, std::string_view asset, std::int64_t now_ms);
  void asset_paced(std::string_view address, std::string_view asset, unsigned retry_after_s, std::int64_t now_ms);
  void config_served(std::string_view machine_id, std::string_view address, std::string_view target,
                     std::int64_t now_ms);
  void config_refused(std::string_view machine_id, std::string_view address, std::string_view why, std::int64_t now_ms);
  // phase: booted, configured, ready or error (the node event's own word).
  void node_event(std::string_view machine_id, BootStep phase, std::string_view message, std::int64_t now_ms);

  // Every followed machine not at `ready` whose boot started at or after
  // `since_ms` and whose last step is at least `idle_ms` old, the boot
  // started first first; at most `limit`.
  struct Stalled {
    std::vector<Entry> machines;
    std::size_t total = 0;  // before `limit`
  };
  [[nodiscard]] Stalled stalled(std::int64_t since_ms, std::int64_t idle_ms, std::int64_t now_ms,
                                std::size_t limit) const;
  [[nodiscard]] const Entry* find(std::string_view machine_id) const;

  [[nodiscard]] std::size_t followed() const { return entries_.size(); }
  [[nodiscard]] std::uint64_t forgotten() const { return forgotten_; }

  // Why a machine stopped at its last step, in words (the report's `reason`).
  static std::string reason(const Entry& e);

 private:
  struct Slot {
    Entry entry;
    std::list<std::string>::iterator order;
  };
  using Map = std::map<std::string, Slot, std::less<>>;
  // The machine's entry, made when new; moved to the back of the eviction order.
  Entry& touch(std::string_view machine_id);
  // Sets the step; a step before the current one (a retry) keeps boot_started_ms.
  void set(Entry& e, BootStep step, std::string_view detail, std::string_view address, std::int64_t now_ms);
  void remember_address(std::string_view address, std::string_view machine_id);

  std::size_t capacity_;
  Map entries_;
  std::list<std::string> order_;                                // least recently updated first
  std::map<std::string, std::string, std::less<>> by_address_;  // script's address -> machine
  std::uint64_t forgotten_ = 0;
};

}  // namespace ramfleet::boot
