#include "boot/boot_phases.hpp"

#include <vector>

namespace ramfleet::boot {

namespace {
constexpr std::array<std::string_view, 5> kMilestoneNames{"discover", "ipxe", "kernel", "config", "ready"};

double seconds(BootPhases::TimePoint from, BootPhases::TimePoint to) {
  return to < from ? 0.0 : std::chrono::duration<double>(to - from).count();
}
}  // namespace

bool BootPhases::after(const Boot& b, Milestone m) {
  for (std::size_t i = m + 1; i < kMilestones; ++i)
    if (b.at[i]) return true;
  return false;
}

void BootPhases::forget(std::map<std::string, Boot, std::less<>>::iterator it) {
  if (!it->second.address.empty()) {
    if (auto a = by_address_.find(it->second.address); a != by_address_.end() && a->second == it->first)
      by_address_.erase(a);
  }
  order_.erase(it->second.order);
  boots_by_id_.erase(it);
}

BootPhases::Boot& BootPhases::start(std::string_view machine_id, TimePoint) {
  if (auto it = boots_by_id_.find(machine_id); it != boots_by_id_.end()) forget(it);
  if (boots_by_id_.size() >= capacity_) {
    forget(boots_by_id_.find(order_.front()));
    ++forgotten_;
  }
  order_.emplace_back(machine_id);
  auto& b = boots_by_id_[std::string(machine_id)];
  b.order = std::prev(order_.end());
  return b;
}

void BootPhases::discover(std::string_view machine_id, TimePoint at) {
  auto it = boots_by_id_.find(machine_id);
  // PXE ROM, then iPXE: the first answer of the chain starts the boot.
  if (it != boots_by_id_.end() && !after(it->second, kDiscover)) return;
  start(machine_id, at).at[kDiscover] = at;
}

void BootPhases::script_served(std::string_view machine_id, std::string_view profile, std::string_view address,
                               TimePoint at) {
  auto it = boots_by_id_.find(machine_id);
  if (profile.empty()) {  // sent to exit: not booting anything of ours
    if (it != boots_by_id_.end()) forget(it);
    return;
  }
  Boot* b = nullptr;
  if (it == boots_by_id_.end() || after(it->second, kIpxe)) {
    b = &start(machine_id, at);
  } else {
    b = &it->second;
  }
  if (!b->at[kIpxe]) b->at[kIpxe] = at;
  b->profile = profile;
  if (!address.empty() && !b->at[kKernel]) {
    if (!b->address.empty() && b->address != address) {
      if (auto a = by_address_.find(b->address); a != by_address_.end() && a->second == machine_id)
        by_address_.erase(a);
    }
    b->address = address;
    by_address_.insert_or_assign(std::string(address), std::string(machine_id));
  }
}

void BootPhases::asset_requested(std::string_view address, TimePoint at) {
  auto a = by_address_.find(address);
  if (a == by_address_.end()) return;
  if (auto it = boots_by_id_.find(a->second); it != boots_by_id_.end()) {
    if (!it->second.at[kKernel] && !after(it->second, kKernel)) it->second.at[kKernel] = at;
    it->second.address.clear();
  }
  by_address_.erase(a);
}

void BootPhases::config_served(std::string_view machine_id, TimePoint at) {
  auto it = boots_by_id_.find(machine_id);
  if (it == boots_by_id_.end() || it->second.at[kConfig]) return;  // unknown boot, or a second fetch
  it->second.at[kConfig] = at;
}

bool BootPhases::ready(std::string_view machine_id, TimePoint at) {
  auto it = boots_by_id_.find(machine_id);
  if (it == boots_by_id_.end()) return false;
  const Boot& b = it->second;
  if (phases_ != nullptr || boots_ != nullptr) {
    // The milestones seen, then ready: each two consecutive ones are a
    // phase, named by both ends, so a milestone not seen merges its two phases
    // ("kernel_to_ready" without a config) and the phases always add up to the boot.
    std::optional<TimePoint> first;
    std::size_t prev = kMilestones;
    for (std::size_t i = 0; i <= kMilestones; ++i) {
      const auto t = i < kMilestones ? b.at[i] : std::optional<TimePoint>(at);
      if (!t) continue;
      if (!first) first = t;
      if (prev < kMilestones && phases_ != nullptr) {
        const std::string phase = std::string(kMilestoneNames[prev]) + "_to_" + std::string(kMilestoneNames[i]);
        phases_->with({b.profile, phase}).observe(seconds(*b.at[prev], *t));
      }
      prev = i;
    }
    if (first && boots_ != nullptr) boots_->with({b.profile}).observe(seconds(*first, at));
  }
  ++completed_;
  forget(it);
  return true;
}

}  // namespace ramfleet::boot
