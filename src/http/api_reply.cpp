#include "http/api_reply.hpp"

#include <nlohmann/json.hpp>

#include "core/mac_address.hpp"

namespace ramfleet::http {

Reply json_reply(int status, const nlohmann::json& body) {
  return text_reply(status, body.dump(2) + "\n", "application/json");
}

Reply method_not_allowed(ServiceState& state, const char* allow) {
  state.counters.inc("http.error.method_not_allowed");
  auto r = error_reply(405, std::string("method not allowed; use ") + allow);
  r.header("Allow", allow);
  return r;
}

std::string normalise_machine_id(const std::string& id) {
  if (auto mac = MacAddress::parse(id)) return mac->str();
  return id;
}

}  // namespace ramfleet::http
