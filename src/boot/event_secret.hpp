#pragma once
// The server secret behind event credentials (event_credentials.hpp):
// STATE/event-credential.key, 32 random bytes as 64 hex digits, mode 0600.
// Kept across restarts so a node booted before one can still report; a new
// secret (delete the file, restart) refuses every credential issued so far.
#include <filesystem>
#include <string>

namespace ramfleet::boot {

inline constexpr const char* kEventSecretFile = "event-credential.key";

// Reads the secret, creating it first when there is none: written to a
// private temporary file, synced, then linked into place, so a reader (or a
// second serve racing this one) sees a whole secret or none, and the first
// one linked wins. Throws std::runtime_error naming the file when it cannot
// be read or created, or does not hold a secret.
std::string load_or_create_event_secret(const std::filesystem::path& state_dir);

}  // namespace ramfleet::boot
