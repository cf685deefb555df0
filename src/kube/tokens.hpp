#pragma once
// Join credentials: kubeadm bootstrap tokens (with TTL and rotation, kept in
// STATE/tokens.json), the discovery hash that pins the cluster CA, and k3s's
// secure token format.
#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/crypto.hpp"

namespace ramfleet::kube {

// "abcdef.0123456789abcdef": the id is public (it names the Secret
// bootstrap-token-<id>), the secret authenticates.
struct BootstrapToken {
  std::string id;      // [a-z0-9]{6}
  std::string secret;  // [a-z0-9]{16}
  Clock::time_point created;
  Clock::time_point expires;
  std::string description;

  [[nodiscard]] std::string str() const { return id + "." + secret; }
  [[nodiscard]] bool valid_at(Clock::time_point t) const { return t < expires; }
};

struct TokenParts {
  std::string id, secret;
};
// Accepts exactly [a-z0-9]{6}\.[a-z0-9]{16}.
std::optional<TokenParts> parse_bootstrap_token(std::string_view text);
BootstrapToken generate_bootstrap_token(std::chrono::seconds ttl, Clock::time_point now);

// Tokens of one cluster, persisted as STATE/tokens.json (0600, atomic).
class TokenStore {
 public:
  explicit TokenStore(const std::filesystem::path& state_dir);

  [[nodiscard]] std::vector<BootstrapToken> all() const;
  [[nodiscard]] std::vector<BootstrapToken> valid(Clock::time_point now) const;
  // Adds a fresh token and drops expired ones.
  BootstrapToken create(std::chrono::seconds ttl, Clock::time_point now, std::string description = {});
  // The token to hand to joining nodes: the newest valid one if it still has
  // more than half its lifetime left, else a freshly created one. Old tokens
  // stay valid until they expire so nodes mid-join are not cut off.
  BootstrapToken current(std::chrono::seconds ttl, Clock::time_point now);

 private:
  void save(const std::vector<BootstrapToken>& tokens) const;
  std::filesystem::path file_;
};

// "sha256:<hex>" of the CA certificate's DER SubjectPublicKeyInfo, the value
// of kubeadm join's --discovery-token-ca-cert-hash.
std::string discovery_hash(const X509& ca);

// "K10<sha256 hex of the CA bundle bytes>::server:<secret>": k3s agents check
// the bundle the server presents against the hash before trusting it.
std::string k3s_secure_token(std::string_view ca_bundle, std::string_view server_secret);

}  // namespace ramfleet::kube
