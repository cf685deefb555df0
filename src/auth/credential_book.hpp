#pragma once
// The operator credentials ramfleet knows (STATE/api/tokens), sans-IO: the
// file's text in, a book out, and back. A token is kept only as the SHA-256 of
// its secret; a client certificate is listed by name (and fingerprint) so
// `ramfleet api token list` shows it and `revoke` can refuse it. A revoked
// name stays revoked: no token or certificate under it is accepted again, and
// the name cannot be reused (a certificate issued before the revocation
// would otherwise come back to life).
//
// One line per entry, fields separated by single spaces:
//   token   NAME SCOPE SHA256-OF-SECRET CREATED-UNIX
//   cert    NAME SCOPE SHA256-OF-CERT-DER CREATED-UNIX
//   revoked NAME REVOKED-UNIX
// Lines starting with '#' and empty lines are ignored.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/sha256.hpp"
#include "http/operator.hpp"

namespace ramfleet::auth {

// Names: 1..64 of [A-Za-z0-9._-], starting with a letter or digit (they go in
// logs, a certificate's CN and this file's space-separated fields).
[[nodiscard]] bool valid_name(std::string_view name);
std::optional<http::Scope> parse_scope(std::string_view text);

enum class CredentialKind { token, cert };
std::string_view to_string(CredentialKind k);

struct Credential {
  CredentialKind kind = CredentialKind::token;
  std::string name;
  http::Scope scope = http::Scope::read;
  Sha256Digest digest{};  // of the token's secret, or of the certificate's DER
  std::int64_t created_unix = 0;
};

struct Revocation {
  std::string name;
  std::int64_t revoked_unix = 0;
};

struct BookError {
  std::size_t line = 0;  // 1-based
  std::string message;
};

class CredentialBook {
 public:
  static std::variant<CredentialBook, BookError> parse(std::string_view text);
  [[nodiscard]] std::string serialize() const;

  // Adds a credential; an error names why not (bad name, name in use, name revoked).
  std::optional<std::string> add(Credential c);
  // Revokes every credential under name and bars the name; false if the name
  // was never known (nothing to revoke) or is already revoked.
  bool revoke(std::string_view name, std::int64_t now_unix);
  // Drops a credential without barring its name (a bootstrap token whose
  // secret file is gone, replaced by a new one); false if absent.
  bool forget(std::string_view name);

  // The operator whose token has this secret digest. Compares against every
  // token in constant time per entry, without stopping at a match.
  [[nodiscard]] std::optional<http::Operator> find_token(const Sha256Digest& secret_digest) const;
  [[nodiscard]] bool is_revoked(std::string_view name) const;
  [[nodiscard]] const Credential* find(std::string_view name) const;

  [[nodiscard]] const std::vector<Credential>& credentials() const { return credentials_; }
  [[nodiscard]] const std::vector<Revocation>& revocations() const { return revocations_; }

 private:
  std::vector<Credential> credentials_;
  std::vector<Revocation> revocations_;
};

}  // namespace ramfleet::auth
