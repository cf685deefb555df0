#include "auth/credential_book.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>

#include "core/hex.hpp"

namespace ramfleet::auth {

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  return std::ranges::all_of(name, [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

std::optional<http::Scope> parse_scope(std::string_view text) {
  if (text == "read") return http::Scope::read;
  if (text == "admin") return http::Scope::admin;
  return std::nullopt;
}

std::string_view to_string(CredentialKind k) { return k == CredentialKind::cert ? "cert" : "token"; }

namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const auto sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

std::optional<std::int64_t> parse_time(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
  return v;
}

std::optional<Sha256Digest> parse_digest(std::string_view s) {
  if (s.size() != 64) return std::nullopt;
  auto bytes = from_hex(s);
  if (!bytes) return std::nullopt;
  Sha256Digest d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return d;
}

}  // namespace

std::variant<CredentialBook, BookError> CredentialBook::parse(std::string_view text) {
  CredentialBook book;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty() || line.front() == '#') continue;
    const auto f = fields_of(line);
    auto bad = [&](std::string why) { return BookError{number, std::move(why)}; };
    if (f[0] == "token" || f[0] == "cert") {
      if (f.size() != 5) return bad("expected '" + std::string(f[0]) + " NAME SCOPE SHA256 CREATED'");
      Credential c;
      c.kind = f[0] == "cert" ? CredentialKind::cert : CredentialKind::token;
      c.name = std::string(f[1]);
      auto scope = parse_scope(f[2]);
      auto digest = parse_digest(f[3]);
      auto created = parse_time(f[4]);
      if (!scope) return bad("scope must be read or admin");
      if (!digest) return bad("digest must be 64 hex digits");
      if (!created) return bad("created must be seconds since 1970");
      c.scope = *scope;
      c.digest = *digest;
      c.created_unix = *created;
      if (auto err = book.add(std::move(c))) return bad(*err);
    } else if (f[0] == "revoked") {
      if (f.size() != 3) return bad("expected 'revoked NAME REVOKED'");
      auto at = parse_time(f[2]);
      if (!valid_name(f[1])) return bad("not a credential name");
      if (!at) return bad("revoked must be seconds since 1970");
      if (!book.is_revoked(f[1])) book.revocations_.push_back({std::string(f[1]), *at});
    } else {
      return bad("unknown entry '" + std::string(f[0]) + "' (expected token, cert or revoked)");
    }
  }
  // A name both listed and revoked (a hand edit): revoked wins.
  std::erase_if(book.credentials_, [&](const Credential& c) { return book.is_revoked(c.name); });
  return book;
}

std::string CredentialBook::serialize() const {
  std::string out =
      "# ramfleet operator credentials (docs/operations.md): written by `ramfleet api`.\n"
      "# Tokens are kept as the SHA-256 of their secret; certificates by their DER's SHA-256.\n";
  for (const auto& c : credentials_) {
    out += std::string(to_string(c.kind)) + " " + c.name + " " + std::string(http::to_string(c.scope)) + " " +
           to_hex(ByteView(c.digest.data(), c.digest.size())) + " " + std::to_string(c.created_unix) + "\n";
  }
  for (const auto& r : revocations_) out += "revoked " + r.name + " " + std::to_string(r.revoked_unix) + "\n";
  return out;
}

std::optional<std::string> CredentialBook::add(Credential c) {
  if (!valid_name(c.name)) return "'" + c.name + "' is not a valid name (1-64 of A-Z a-z 0-9 . _ -)";
  if (is_revoked(c.name)) return "'" + c.name + "' was revoked; a revoked name is not reused";
  if (find(c.name) != nullptr) return "'" + c.name + "' already exists";
  credentials_.push_back(std::move(c));
  return std::nullopt;
}

bool CredentialBook::revoke(std::string_view name, std::int64_t now_unix) {
  if (is_revoked(name) || !valid_name(name)) return false;
  const bool known = find(name) != nullptr;
  std::erase_if(credentials_, [&](const Credential& c) { return c.name == name; });
  revocations_.push_back({std::string(name), now_unix});
  return known;
}

bool CredentialBook::forget(std::string_view name) {
  return std::erase_if(credentials_, [&](const Credential& c) { return c.name == name; }) > 0;
}

std::optional<http::Operator> CredentialBook::find_token(const Sha256Digest& secret_digest) const {
  const Credential* hit = nullptr;
  for (const auto& c : credentials_) {
    // CRYPTO_memcmp: the time taken does not depend on where digests differ.
    const bool same = CRYPTO_memcmp(c.digest.data(), secret_digest.data(), secret_digest.size()) == 0;
    if (same && c.kind == CredentialKind::token && hit == nullptr) hit = &c;
  }
  if (hit == nullptr) return std::nullopt;
  return http::Operator{hit->name, hit->scope};
}

bool CredentialBook::is_revoked(std::string_view name) const {
  return std::ranges::any_of(revocations_, [&](const Revocation& r) { return r.name == name; });
}

const Credential* CredentialBook::find(std::string_view name) const {
  auto it = std::ranges::find_if(credentials_, [&](const Credential& c) { return c.name == name; });
  return it == credentials_.end() ? nullptr : &*it;
}

}  // namespace ramfleet::auth
