#pragma once
// Small pieces every API handler file shares (api_handlers, event_handlers,
// write_handlers, router): a JSON reply, the counted 405, and the one
// spelling of a machine id in a path.
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "http/message.hpp"
#include "http/service_state.hpp"

namespace ramfleet::http {

// The body pretty-printed with a final newline, as application/json.
Reply json_reply(int status, const nlohmann::json& body);

// 405 with an Allow header, counted as http.error.method_not_allowed.
Reply method_not_allowed(ServiceState& state, const char* allow);

// A MAC in any common spelling becomes its canonical form; other ids
// ("uuid-...") are used as given.
std::string normalise_machine_id(const std::string& id);

}  // namespace ramfleet::http
