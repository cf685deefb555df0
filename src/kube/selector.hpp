#pragma once
// Which machines take a cluster role. A Selector is a conjunction: every field
// that is set must match (mac, hostname, each label). A role lists several
// selectors and a machine takes the role when any of them matches.
//
// This is deliberately the smallest useful form. The machine itself is
// inventory::MachineFacts; the boot layer hands kube the small view of it a
// role selector looks at (boot::cluster_machine_view), or plugs its own
// matcher in through roles_for's matcher argument, so both agree on one rule.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/mac_address.hpp"

namespace ramfleet::kube {

// The part of a machine a role selector looks at.
struct MachineView {
  std::optional<MacAddress> mac;
  std::string hostname;                                    // the Kubernetes node name
  std::map<std::string, std::string, std::less<>> labels;  // what the operator says about it
};

struct Selector {
  std::optional<MacAddress> mac;
  std::optional<std::string> hostname;
  std::map<std::string, std::string, std::less<>> labels;

  [[nodiscard]] bool empty() const { return !mac && !hostname && labels.empty(); }
  [[nodiscard]] std::string str() const;
};

[[nodiscard]] bool matches(const Selector& selector, const MachineView& machine);

using SelectorMatcher = std::function<bool(const Selector&, const MachineView&)>;

// True when any selector matches; matcher defaults to matches().
[[nodiscard]] bool any_matches(const std::vector<Selector>& selectors, const MachineView& machine,
                               const SelectorMatcher& matcher = {});

}  // namespace ramfleet::kube
