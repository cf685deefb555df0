#pragma once
// A machine's OS config (Ignition, cloud-config, apkovl), delivered as one
// typed outcome: the bytes with their ETag and content type, or a refusal
// (outcome.hpp). The steps, in order (config_delivery.cpp):
//
//   read the facts -> match the machine (inventory) -> plan its layers
//   -> place it in the cluster (operator identity, address, name policy)
//   -> check its boot token (without spending it) -> check the operator's
//   approval (control plane) -> its identity is issued (on a worker thread,
//   identity_issuer.hpp: meanwhile the request is refused identity_pending
//   and asked again, from the top, once it is) -> add its cluster files
//   -> compile (config) -> spend the token and record what was
//   served (STATE/bootstrapped after the first init), only when the bytes go out
//
// A machine that takes a role in cluster.yaml gets secrets in its config, so
// it is served only against the boot token its iPXE script carried, once,
// to the address that fetched that script. A HEAD, a 304 or a refusal at any
// step spends nothing.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "boot/outcome.hpp"
#include "boot/settings.hpp"
#include "boot/state.hpp"

namespace ramfleet::config {
struct CompileResult;
}

namespace ramfleet::boot {

struct ConfigRequest {
  std::string target;  // "ignition", "cloud-config", "apkovl"
  // Facts as decoded key/value pairs, from the query and the path segments;
  // the boot token among them under kBootTokenKey (node_config.hpp).
  std::vector<std::pair<std::string, std::string>> params;
  std::string base_url;  // {{server}}: where the machine reached us
  Peer peer;
  // Whether the client already holds these bytes (If-None-Match against the
  // quoted ETag); unset: it does not.
  std::function<bool(const std::string& quoted_etag)> client_has;
  bool head = false;  // HEAD: the bytes are not sent, so the token is not spent
};

struct ConfigDelivery {
  std::shared_ptr<const config::CompileResult> compiled;
  std::string etag;  // quoted, for the ETag header
  std::string content_type;
  bool not_modified = false;  // client_has(etag): answer without the bytes
  [[nodiscard]] const std::string& bytes() const;
};

struct ConfigOutcome {
  std::optional<ConfigDelivery> delivered;
  Refusal refusal{RefusalKind::not_found, {}};  // when !delivered
  // RefusalKind::identity_pending: the node whose identity is being issued
  // (IdentityIssuer::when_done tells when to ask again).
  std::string pending_node;
  [[nodiscard]] bool ok() const { return delivered.has_value(); }
};

ConfigOutcome deliver_config(BootState& state, const BootSettings& settings, const ConfigRequest& request,
                             const Now& now);

}  // namespace ramfleet::boot
