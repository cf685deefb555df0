#include "auth/admin_token.hpp"

#include <chrono>

#include "auth/bearer.hpp"
#include "auth/credential_file.hpp"
#include "kube/secret_files.hpp"

namespace ramfleet::auth {

bool ensure_admin_token(const std::filesystem::path& state_dir, std::string& why) {
  const auto file = admin_token_path(state_dir);
  if (std::filesystem::exists(file)) return false;
  const std::string secret = mint_token();
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto err = update_book(state_dir, [&](CredentialBook& book) -> std::optional<std::string> {
    if (book.is_revoked(kLocalAdmin)) return std::string(kLocalAdmin) + " was revoked; not making it again";
    book.forget(kLocalAdmin);  // its secret file is gone: the old entry is useless
    return book.add(Credential{CredentialKind::token, kLocalAdmin, http::Scope::admin, token_digest(secret), now});
  });
  if (err) {
    why = *err;
    return false;
  }
  // After the book: a crash in between leaves an entry without its file,
  // which the next start replaces.
  kube::write_file_atomic(file, secret + "\n");
  return true;
}

std::optional<std::string> read_admin_token(const std::filesystem::path& state_dir) {
  auto text = kube::read_file(admin_token_path(state_dir));
  if (!text) return std::nullopt;
  while (!text->empty() && (text->back() == '\n' || text->back() == '\r' || text->back() == ' ')) text->pop_back();
  if (text->empty()) return std::nullopt;
  return text;
}

}  // namespace ramfleet::auth
