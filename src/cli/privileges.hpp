#pragma once
// `ramfleet serve --user USER`: give up root once every socket is bound and
// every store is open. What the process must still write (the state
// directory) is handed to the user first. CAP_NET_ADMIN alone is kept: the
// DHCP service installs ARP entries (SIOCSARP) so an OFFER/ACK can be
// unicast to a client that has no address yet; without it those replies
// would fall back to broadcast.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>

namespace ramfleet::cli {

struct TargetUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The user's uid and primary gid, or nullopt when there is no such user.
std::optional<TargetUser> find_user(const std::string& name);

// Changes the owner of `dir` and everything under it (symlinks themselves,
// never their targets) to the user. Throws std::system_error.
void hand_over(const std::filesystem::path& dir, const TargetUser& user);

// setgroups({gid}), setresgid, setresuid to the user, keeping CAP_NET_ADMIN
// only (effective and permitted; nothing inheritable), then no_new_privs.
// Checks that root cannot be regained. Throws std::system_error.
void drop_root(const TargetUser& user);

}  // namespace ramfleet::cli
