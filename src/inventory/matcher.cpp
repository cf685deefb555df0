#include "inventory/matcher.hpp"

namespace ramfleet::inventory {

BootDecision decide(const Inventory& inv, const MachineFacts& facts) {
  BootDecision d;
  // Groups are sorted most specific first and the loader refused ties, so the
  // first match is the unique winner.
  for (const auto& g : inv.groups) {
    if (!g.selector.matches(facts)) continue;
    if (!d.group) {
      d.kind = BootDecision::Kind::group;
      d.group = &g;
      d.profile = inv.profile(g.profile);
    } else {
      d.also_matched.push_back(g.id);
    }
  }
  if (d.group) {
    d.reason = "group '" + d.group->id + "' selector " + d.group->selector.str() + " (specificity " +
               d.group->selector.specificity().str() + ", " + d.group->mark.file + ")";
    if (!d.also_matched.empty()) {
      d.reason += "; less specific matches:";
      for (const auto& id : d.also_matched) d.reason += " " + id;
    }
    return d;
  }
  if (inv.unmatched.kind == DefaultAction::Kind::profile) {
    d.kind = BootDecision::Kind::default_profile;
    d.profile = inv.profile(inv.unmatched.profile);
    d.reason = "no group matches; default profile '" + inv.unmatched.profile + "'";
  } else {
    d.kind = BootDecision::Kind::exit;
    d.reason = "no group matches; default is exit (boot from local disk)";
  }
  return d;
}

}  // namespace ramfleet::inventory
