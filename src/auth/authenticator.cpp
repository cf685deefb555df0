#include "auth/authenticator.hpp"

#include "auth/bearer.hpp"
#include "auth/operator_ca.hpp"

namespace ramfleet::auth {

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::no_credential:
      return "no_credential";
    case Refusal::bad_header:
      return "bad_header";
    case Refusal::unknown_token:
      return "unknown_token";
    case Refusal::revoked_cert:
      return "revoked_cert";
    case Refusal::cert_without_scope:
      return "cert_without_scope";
  }
  return "?";
}

std::variant<http::Operator, Refusal> Authenticator::authenticate(const std::optional<std::string>& authorization,
                                                                  const X509* verified_peer) {
  if (authorization) {
    auto parsed = parse_bearer(*authorization);
    if (std::holds_alternative<BearerError>(parsed)) return Refusal::bad_header;
    const auto digest = token_digest(std::get<std::string_view>(parsed));
    if (auto who = book_.current().find_token(digest)) return *who;
    return Refusal::unknown_token;
  }
  if (verified_peer != nullptr) {
    auto who = operator_of_cert(*verified_peer);
    if (!who) return Refusal::cert_without_scope;
    if (book_.current().is_revoked(who->name)) return Refusal::revoked_cert;
    return *who;
  }
  return Refusal::no_credential;
}

}  // namespace ramfleet::auth
