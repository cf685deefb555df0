#pragma once
// Bearer tokens (RFC 6750) for the operator API, sans-IO: minting a secret and
// reading the Authorization header. The secret is 32 random bytes in
// base64url behind a fixed prefix ("rfop_"), so a leaked one is easy to
// recognise in a log or a repository scan.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/sha256.hpp"

namespace ramfleet::auth {

inline constexpr std::string_view kTokenPrefix = "rfop_";
// An Authorization header longer than this is refused without being looked at.
inline constexpr std::size_t kMaxAuthorizationBytes = 256;

// A fresh token secret: "rfop_" + 43 base64url characters.
std::string mint_token();
// What the book stores for a token.
Sha256Digest token_digest(std::string_view secret);

enum class BearerError {
  too_long,    // beyond kMaxAuthorizationBytes
  not_bearer,  // another scheme (Basic, ...) or no space after it
  bad_token,   // empty, or characters outside RFC 6750's token68
};
std::string_view to_string(BearerError e);

// The token in "Bearer <token>" (scheme case-insensitive, one or more spaces).
std::variant<std::string_view, BearerError> parse_bearer(std::string_view header);

}  // namespace ramfleet::auth
