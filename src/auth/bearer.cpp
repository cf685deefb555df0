#include "auth/bearer.hpp"

#include <algorithm>

#include "kube/crypto.hpp"

namespace ramfleet::auth {

std::string mint_token() {
  std::string b64 = kube::base64(kube::random_bytes(32));
  // base64url without padding: the secret goes in headers and shell variables.
  std::ranges::replace(b64, '+', '-');
  std::ranges::replace(b64, '/', '_');
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return std::string(kTokenPrefix) + b64;
}

Sha256Digest token_digest(std::string_view secret) { return sha256(secret); }

std::string_view to_string(BearerError e) {
  switch (e) {
    case BearerError::too_long:
      return "too_long";
    case BearerError::not_bearer:
      return "not_bearer";
    case BearerError::bad_token:
      return "bad_token";
  }
  return "?";
}

std::variant<std::string_view, BearerError> parse_bearer(std::string_view h) {
  if (h.size() > kMaxAuthorizationBytes) return BearerError::too_long;
  constexpr std::string_view scheme = "bearer";
  if (h.size() <= scheme.size() || h[scheme.size()] != ' ') return BearerError::not_bearer;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = h[i];
    if ((c | 0x20) != scheme[i]) return BearerError::not_bearer;
  }
  h.remove_prefix(scheme.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (h.empty()) return BearerError::bad_token;
  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/' || c == '=';
  };
  if (!std::ranges::all_of(h, ok)) return BearerError::bad_token;
  return h;
}

}  // namespace ramfleet::auth
