#include "kube/selector.hpp"

namespace ramfleet::kube {

bool matches(const Selector& selector, const MachineView& machine) {
  if (selector.empty()) return false;  // an empty selector would silently match the whole fleet
  if (selector.mac && (!machine.mac || *machine.mac != *selector.mac)) return false;
  if (selector.hostname && machine.hostname != *selector.hostname) return false;
  for (const auto& [key, value] : selector.labels) {
    auto it = machine.labels.find(key);
    if (it == machine.labels.end() || it->second != value) return false;
  }
  return true;
}

bool any_matches(const std::vector<Selector>& selectors, const MachineView& machine, const SelectorMatcher& matcher) {
  for (const auto& s : selectors) {
    if (matcher ? matcher(s, machine) : matches(s, machine)) return true;
  }
  return false;
}

std::string Selector::str() const {
  std::string out;
  auto add = [&](const std::string& kv) { out += (out.empty() ? "" : ",") + kv; };
  if (mac) add("mac=" + mac->str());
  if (hostname) add("hostname=" + *hostname);
  for (const auto& [k, v] : labels) add(k + "=" + v);
  return out;
}

}  // namespace ramfleet::kube
