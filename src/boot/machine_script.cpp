#include "boot/machine_script.hpp"

#include <algorithm>

#include "boot/node_config.hpp"

namespace ramfleet::boot {
using namespace ramfleet::inventory;

TemplateContext machine_context(const MachineFacts& facts, const Group* group, const Profile& profile,
                                const std::string& base_url, std::string_view boot_token,
                                std::string_view event_credential) {
  TemplateContext ctx;
  for (const auto& [k, v] : facts.values) ctx.vars[std::string(to_string(k))] = v;
  if (facts.mac) {
    auto hy = facts.mac->str();
    for (auto& c : hy)
      if (c == ':') c = '-';
    ctx.vars["mac_hyphen"] = hy;
  }
  if (auto id = facts.machine_id()) ctx.vars["machine_id"] = *id;
  ctx.vars["profile"] = profile.id;
  // {{ignition_url}} ... name this machine's own config URL (node_config.hpp);
  // {{config_url}} is the one for the profile's target.
  // Built only when a template mentions one, to keep /ipxe cheap.
  if (profile.config) ctx.vars["config"] = profile.config->target;
  auto uses_url = [](const std::string& t) { return t.find("_url") != std::string::npos; };
  if (uses_url(profile.kernel) || std::any_of(profile.args.begin(), profile.args.end(), uses_url) ||
      std::any_of(profile.initrds.begin(), profile.initrds.end(), uses_url)) {
    ctx.vars["ignition_url"] = node_config_url(base_url, "ignition", facts, boot_token);
    ctx.vars["cloud_config_url"] = node_config_url(base_url, "cloud-config", facts, boot_token);
    ctx.vars["apkovl_url"] = node_config_url(base_url, "apkovl", facts, boot_token);
    if (profile.config) ctx.vars["config_url"] = node_config_url(base_url, profile.config->target, facts, boot_token);
  }
  if (!event_credential.empty()) ctx.vars["event_credential"] = std::string(event_credential);
  ctx.vars["server"] = base_url;
  ctx.vars["assets"] = base_url + "/assets";
  if (group) {
    ctx.vars["group"] = group->id;
    ctx.metadata = group->metadata;
  }
  ctx.labels = facts.labels;
  return ctx;
}

}  // namespace ramfleet::boot
