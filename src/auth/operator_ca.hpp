#pragma once
// The operator CA (STATE/api/ca.crt, ca.key): signs the operator listener's
// server certificate and the client certificates `ramfleet api cert issue`
// hands out. A client certificate names its operator in the subject's CN and
// its scope in the subject's O, as "ramfleet:read" or "ramfleet:admin"
// (docs/operations.md); a certificate without one of those is refused.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/sha256.hpp"
#include "http/operator.hpp"
#include "kube/crypto.hpp"
#include "kube/pki.hpp"

namespace ramfleet::auth {

inline constexpr std::string_view kScopeOrgPrefix = "ramfleet:";

std::filesystem::path ca_cert_path(const std::filesystem::path& state_dir);

// Loads the operator CA, creating it (ECDSA P-256, 10 years) on first need.
kube::KeyedCert ensure_operator_ca(const std::filesystem::path& state_dir);

struct IssuedPem {
  std::string cert, key;
  Sha256Digest der_digest{};  // recorded in STATE/api/tokens
};
IssuedPem issue_client_cert(const kube::KeyedCert& ca, const std::string& name, http::Scope scope,
                            kube::Clock::time_point now);

// STATE/api/server.crt and .key for the operator listener, signed by the
// operator CA, with SANs for listen_ip (unless 0.0.0.0), 127.0.0.1 and
// localhost. Kept while it still fits (same CA, the same addresses, more than
// 30 days left), else reissued. Returns {cert path, key path}.
std::pair<std::filesystem::path, std::filesystem::path> ensure_server_cert(const std::filesystem::path& state_dir,
                                                                           const std::string& listen_ip,
                                                                           kube::Clock::time_point now);

// The operator a verified client certificate names; nullopt if its CN is not
// a valid name or its O holds no scope.
std::optional<http::Operator> operator_of_cert(const X509& cert);

// The IP addresses among a certificate's SANs, as text.
std::vector<std::string> ip_sans(const X509& cert);

}  // namespace ramfleet::auth
