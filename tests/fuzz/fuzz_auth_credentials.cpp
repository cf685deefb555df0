// libFuzzer target: the operator credential file (auth::CredentialBook::parse,
// STATE/api/tokens) and the Authorization header (auth::parse_bearer).
// Invariants: neither throws; a book that parses serializes to text that
// parses to the same text again; a header that parses yields a non-empty
// token within the header's bounds.
// fuzz-options: -max_len=4096 -runs=100000
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "auth/bearer.hpp"
#include "auth/credential_book.hpp"

using namespace ramfleet::auth;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto header = parse_bearer(input);
  if (auto* token = std::get_if<std::string_view>(&header)) {
    if (token->empty() || token->size() > kMaxAuthorizationBytes) std::abort();
  }
  auto parsed = CredentialBook::parse(input);
  if (auto* book = std::get_if<CredentialBook>(&parsed)) {
    const std::string text = book->serialize();
    auto again = CredentialBook::parse(text);
    if (!std::holds_alternative<CredentialBook>(again)) std::abort();
    if (std::get<CredentialBook>(again).serialize() != text) std::abort();
    (void)book->find_token(token_digest(input));
  }
  return 0;
}
