#pragma once
// What a SIGHUP may change in a running `ramfleet serve`. The settings are
// re-read from scratch (defaults, ramfleet.yaml, the same flags) and compared
// with those running: a change the services can take live is applied, one
// that needs its socket or store opened again (addresses, ports, the
// interface, the DHCP mode, the state directory) is kept as it was and named,
// so the log says which edits wait for a restart.
#include <string>
#include <vector>

#include "settings/serve_settings.hpp"

namespace ramfleet::settings {

struct ReloadPlan {
  ServeSettings next;                      // running, with the live changes applied
  std::vector<std::string> applied;        // keys taken live ("http.limits", "shutdown_grace", ...)
  std::vector<std::string> needs_restart;  // keys that differ but are kept until a restart
};

// Pure: compares `running` with `reread`; nothing is opened or bound.
ReloadPlan plan_reload(const ServeSettings& running, const ServeSettings& reread);

}  // namespace ramfleet::settings
