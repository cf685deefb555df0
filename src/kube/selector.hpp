#pragma once
// Which machines take a cluster role. A Selector is a conjunction: every field
// that is set must match (mac, hostname, each label). A role lists several
// selectors and a machine takes the role when any of them matches.
//
// This is deliberately the smallest useful form. The inventory module owns the
// full machine model; it hands facts over as MachineFacts (or plugs its own
// matcher in through roles_for's matcher argument) so both agree on one rule.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/mac_address.hpp"

namespace ramfleet::kube {

struct MachineFacts {
  std::optional<MacAddress> mac;
  std::string hostname;
  std::map<std::string, std::string, std::less<>> labels;
};

struct Selector {
  std::optional<MacAddress> mac;
  std::optional<std::string> hostname;
  std::map<std::string, std::string, std::less<>> labels;

  [[nodiscard]] bool empty() const { return !mac && !hostname && labels.empty(); }
  [[nodiscard]] std::string str() const;
};

[[nodiscard]] bool matches(const Selector& selector, const MachineFacts& machine);

using SelectorMatcher = std::function<bool(const Selector&, const MachineFacts&)>;

// True when any selector matches; matcher defaults to matches().
[[nodiscard]] bool any_matches(const std::vector<Selector>& selectors, const MachineFacts& machine,
                               const SelectorMatcher& matcher = {});

}  // namespace ramfleet::kube
