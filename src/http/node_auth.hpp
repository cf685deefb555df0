#pragma once
// The check every node-only route on the boot listener shares (node events,
// the p2p tracker): the caller must show, as `Authorization: Bearer`, the
// event credential of the named machine's current boot
// (boot/event_credentials.hpp). No credential: 401; another machine's, a
// forged one or one of an earlier boot: 403. Both are counted as
// http.<route>.unauthenticated / http.<route>.forbidden and logged without
// the credential.
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/service_state.hpp"

namespace ramfleet::http {

// nullopt when the sender holds the credential of `machine`'s current boot;
// else the refusal to send. `route` names the counters ("events", "p2p").
std::optional<Reply> authenticate_node(ServiceState& st, const Request& req, const std::string& machine,
                                       std::string_view route);

}  // namespace ramfleet::http
