// `ramfleet check` for node configs: compiles the config of every machine the
// inventory can serve one to, and reports every error as file:line:column.
//
// Machines checked: for each group whose profile has a `config:`, one
// representative machine built from the group's selector (exact values as
// they are, patterns with their wildcards filled in, labels as required);
// exact mac/uuid/serial selectors name the one real machine. Plus one
// unmatched machine for a default profile with a config. Facts a selector
// leaves open get documentation values (docs/config.md, "ramfleet check").
#include <set>

#include "boot/load_inventory.hpp"
#include "boot/node_config.hpp"
#include "cli/config_checks.hpp"
#include "config/compile.hpp"
#include "inventory/glob.hpp"

namespace ramfleet::cli {
namespace {
namespace inv = ramfleet::inventory;

constexpr const char* kPlaceholderMac = "00:00:5e:00:53:01";  // RFC 7042 documentation range
constexpr const char* kPlaceholderIp = "192.0.2.10";          // RFC 5737 TEST-NET-1
constexpr const char* kPlaceholderServer = "http://ramfleet.example";

// A value matching `pattern`: wildcards filled from `fill` where it fits, else '0'.
std::string representative(const std::string& pattern, std::string_view fill) {
  if (!inv::is_glob(pattern)) return pattern;
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '?') {
      out += out.size() < fill.size() && fill[out.size()] != ':' ? fill[out.size()] : '0';
    } else if (c == '*') {
      // Fill up to the length `fill` would have after the rest of the pattern.
      const std::size_t rest = pattern.size() - i - 1;
      while (out.size() + rest < fill.size()) out += fill[out.size()];
    } else {
      out += c;
    }
  }
  return inv::glob_match(pattern, out) ? out : pattern.substr(0, pattern.find_first_of("*?")) + "0";
}

inv::MachineFacts representative_machine(const inv::Group* group) {
  std::vector<std::pair<std::string, std::string>> params;
  std::set<std::string> given;
  if (group) {
    for (const auto& c : group->selector.constraints()) {
      if (c.kind == inv::Constraint::Kind::label) {
        params.emplace_back(c.label, representative(c.pattern, "x"));
        continue;
      }
      const std::string key(inv::to_string(c.fact));
      params.emplace_back(key, representative(c.pattern, c.fact == inv::FactKey::mac ? kPlaceholderMac : "x"));
      given.insert(key);
    }
  }
  if (!given.count("mac")) params.emplace_back("mac", kPlaceholderMac);
  if (!given.count("arch")) params.emplace_back("arch", "x86_64");
  if (!given.count("platform")) params.emplace_back("platform", "pcbios");
  if (!given.count("hostname") && !(group && group->metadata.count("hostname"))) {
    params.emplace_back("hostname", "node-check");
  }
  auto fr = inv::facts_from_params(params);
  return fr.facts;  // a pattern that normalises oddly leaves a fact out: its templates then report it
}

// The compiler's diagnostic, told which machine, group and profile showed it.
Diagnostic with_context(Diagnostic d, const std::string& context) {
  d.message += " (" + context + ")";
  return d;
}

Diagnostics check_node_configs(const std::filesystem::path& dir) {
  Diagnostics out;
  auto loaded = boot::load_inventory(dir);
  if (!loaded.inventory) return out;  // the inventory checker reports why
  const auto& inventory = *loaded.inventory;
  std::set<std::string> seen;  // one report per distinct diagnostic, for the first machine that shows it

  auto check = [&](const inv::Group* group, const inv::Profile& profile) {
    if (!profile.config) return;
    const auto target = config::parse_target(profile.config->target);
    if (!target) return;
    const auto facts = representative_machine(group);
    const auto id = facts.machine_id().value_or("?");
    const std::string context = "machine " + id + (group ? ", group '" + group->id + "'" : ", no group") +
                                ", profile '" + profile.id + "', target " + profile.config->target;
    boot::ConfigRequestContext ctx{kPlaceholderServer, kPlaceholderIp};
    auto plan = boot::plan_node_config(inventory, group, profile, facts, *target, ctx);
    Diagnostics diags;
    if (!plan.plan) {
      diags = plan.diagnostics;
      if (diags.empty()) {
        diags.push_back(
            {profile.mark.file, profile.mark.line, profile.mark.column, Diagnostic::Severity::error, plan.error});
      }
    } else {
      diags = boot::compile_node_config(*plan.plan).diagnostics;
    }
    for (const auto& d : diags) {
      if (seen.insert(d.str()).second) out.push_back(with_context(d, context));
    }
  };
  for (const auto& g : inventory.groups) {
    if (const auto* p = inventory.profile(g.profile)) check(&g, *p);
  }
  if (inventory.unmatched.kind == inv::DefaultAction::Kind::profile) {
    if (const auto* p = inventory.profile(inventory.unmatched.profile)) check(nullptr, *p);
  }
  return out;
}

const ConfigCheckRegistration kRegistration{"node-configs", check_node_configs};
}  // namespace
}  // namespace ramfleet::cli
