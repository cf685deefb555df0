#pragma once
// /boot.ipxe and /ipxe: what should this machine boot, and the iPXE script
// that does it. The script of a machine that takes a cluster role carries a
// fresh boot token in its config URLs (boot_tokens.hpp), minted per request
// even when the script itself comes from the cache (script_cache.hpp). A
// script that renders {{event_credential}} gets this boot's event credential
// (event_credentials.hpp) the same way, under the same checks: the address
// (full DHCP: the requester holds the machine's lease) and the per-address
// rate limit.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "boot/outcome.hpp"
#include "boot/settings.hpp"
#include "boot/state.hpp"

namespace ramfleet::boot {

// The generic entry script DHCP hands to iPXE: it chains to <base_url>/ipxe,
// retrying with a jitter of its own (inventory::jitter_seconds of the
// requester's address: the machine is not known yet).
std::string entry_script(BootState& state, const std::string& base_url, const Peer& peer);

struct ScriptRequest {
  std::string target;  // the request target as sent: the script cache's key with `host`
  std::string host;
  std::vector<std::pair<std::string, std::string>> params;  // decoded query
  std::string base_url;
  Peer peer;
};

struct ScriptOutcome {
  std::string script;              // the reply body when !refusal
  std::optional<Refusal> refusal;  // bad_request, no_identity, rate_limited
};

// The machine's script from the cache (nullopt on a miss), with this boot
// logged, recorded and given its own token.
std::optional<ScriptOutcome> cached_machine_script(BootState& state, const BootSettings& settings,
                                                   std::string_view target, std::string_view host, const Peer& peer,
                                                   const Now& now);

// Matches the machine and renders its script (then cached).
ScriptOutcome machine_script(BootState& state, const BootSettings& settings, const ScriptRequest& request,
                             const Now& now);

}  // namespace ramfleet::boot
