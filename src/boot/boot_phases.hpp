#pragma once
// How long each phase of a machine's boot took, per profile, for metrics
// (docs/operations.md, "Metrics"). A boot is followed through the milestones
// the server sees, in order:
//
//   discover  DHCP answered its firmware with boot options (the first such
//             answer: PXE ROM and then iPXE both ask)
//   ipxe      /ipxe served its script (this is where its profile is known)
//   kernel    the first /assets request from the address that fetched the script
//   config    its OS config (Ignition, cloud-config, apkovl) was served
//   ready     it reported `ready` (POST /api/v1/machines/{id}/events)
//
// On `ready` the phases between consecutive milestones seen are observed
// (`ramfleet_boot_phase_seconds{profile,phase}`, phase "discover_to_ipxe",
// "ipxe_to_kernel", "kernel_to_config", "config_to_ready"; a milestone not
// seen merges its two phases, e.g. "kernel_to_ready" for a profile without a
// config: at most 10 names) and the whole boot from its first milestone
// (`ramfleet_boot_seconds{profile}`), and the boot is forgotten: a second
// `ready` observes nothing. A milestone that comes again after a later one
// starts a new boot (the machine restarted).
//
// Sans-IO: every call is given the time. Bounded: at most `capacity` boots are
// followed; a new one beyond that forgets the one that started first (counted).
#include <array>
#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/metrics.hpp"

namespace ramfleet::boot {

class BootPhases {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit BootPhases(std::size_t capacity = 16384) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Where the observations go: `phases` labelled {profile, phase}, `boots`
  // labelled {profile}. Null (the default): boots are followed, nothing observed.
  void attach(metrics::HistogramFamily* phases, metrics::HistogramFamily* boots) {
    phases_ = phases;
    boots_ = boots;
  }

  void discover(std::string_view machine_id, TimePoint at);
  // profile: empty for a machine that was sent nowhere (not followed further).
  void script_served(std::string_view machine_id, std::string_view profile, std::string_view address, TimePoint at);
  void asset_requested(std::string_view address, TimePoint at);
  void config_served(std::string_view machine_id, TimePoint at);
  // True when a followed boot ended here (and was observed).
  bool ready(std::string_view machine_id, TimePoint at);

  [[nodiscard]] std::size_t followed() const { return boots_by_id_.size(); }
  [[nodiscard]] std::uint64_t forgotten() const { return forgotten_; }
  [[nodiscard]] std::uint64_t completed() const { return completed_; }

 private:
  enum Milestone : std::size_t { kDiscover, kIpxe, kKernel, kConfig, kMilestones };
  struct Boot {
    std::array<std::optional<TimePoint>, kMilestones> at;
    std::string profile;
    std::string address;  // that fetched the script, until its kernel milestone
    std::list<std::string>::iterator order;
  };
  Boot& start(std::string_view machine_id, TimePoint at);
  void forget(std::map<std::string, Boot, std::less<>>::iterator it);
  [[nodiscard]] static bool after(const Boot& b, Milestone m);  // a later milestone was seen

  std::size_t capacity_;
  std::map<std::string, Boot, std::less<>> boots_by_id_;
  std::map<std::string, std::string, std::less<>> by_address_;  // script's address -> machine, until its kernel
  std::list<std::string> order_;                                // machine ids, the first started first
  std::uint64_t forgotten_ = 0;
  std::uint64_t completed_ = 0;
  metrics::HistogramFamily* phases_ = nullptr;
  metrics::HistogramFamily* boots_ = nullptr;
};

}  // namespace ramfleet::boot
