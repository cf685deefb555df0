#pragma once
// The local root bootstrap: STATE/api/admin.token (0600) holds the secret of
// an admin token named local-admin, so local commands run as root (ramfleet
// status, ramfleet etcd status, the lab's watch) reach the operator API
// without anyone creating a token first. Revoking local-admin ends that:
// the name is barred and serve does not make it again.
#include <filesystem>
#include <optional>
#include <string>

namespace ramfleet::auth {

inline constexpr const char* kLocalAdmin = "local-admin";

// Writes admin.token unless it exists: a new local-admin token replaces one
// whose secret file was deleted. Returns whether it wrote one; nothing (and a
// reason in `why`) when local-admin was revoked.
bool ensure_admin_token(const std::filesystem::path& state_dir, std::string& why);

// The token in STATE/api/admin.token, trimmed; nullopt when unreadable.
std::optional<std::string> read_admin_token(const std::filesystem::path& state_dir);

}  // namespace ramfleet::auth
