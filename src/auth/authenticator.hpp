#pragma once
// Who is calling the operator listener: a bearer token looked up in
// STATE/api/tokens (re-read when it changes), or a client certificate the TLS
// handshake already verified against the operator CA, accepted unless its
// name was revoked. A request with an Authorization header is judged by it
// alone, even if a certificate came too.
#include <openssl/x509.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "auth/credential_file.hpp"
#include "http/operator.hpp"

namespace ramfleet::auth {

// Why a request is not authenticated; each is a counter
// (http.operator.auth.<name>) and a log field.
enum class Refusal { no_credential, bad_header, unknown_token, revoked_cert, cert_without_scope };
std::string_view to_string(Refusal r);

class Authenticator {
 public:
  explicit Authenticator(std::filesystem::path tokens_file) : book_(std::move(tokens_file)) {}

  // verified_peer: the client certificate, only when the handshake verified
  // it (null otherwise).
  std::variant<http::Operator, Refusal> authenticate(const std::optional<std::string>& authorization,
                                                     const X509* verified_peer);

 private:
  WatchedBook book_;
};

}  // namespace ramfleet::auth
