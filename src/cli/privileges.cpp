#include "cli/privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace ramfleet::cli {

namespace {
[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}
}  // namespace

std::optional<TargetUser> find_user(const std::string& name) {
  if (name.empty()) return std::nullopt;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return TargetUser{name, found->pw_uid, found->pw_gid};
}

void hand_over(const std::filesystem::path& dir, const TargetUser& user) {
  auto chown_one = [&](const std::filesystem::path& p) {
    if (::lchown(p.c_str(), user.uid, user.gid) != 0) throw_errno("cannot hand " + p.string() + " to " + user.name);
  };
  chown_one(dir);
  std::error_code ec;
  for (std::filesystem::recursive_directory_iterator it(dir, std::filesystem::directory_options::none, ec), end;
       !ec && it != end; it.increment(ec))
    chown_one(it->path());
  if (ec) throw std::system_error(ec, "cannot walk " + dir.string());
}

void drop_root(const TargetUser& user) {
  // Capabilities survive the uid change only with KEEPCAPS; they are then
  // narrowed to CAP_NET_ADMIN below.
  if (::prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) throw_errno("prctl(PR_SET_KEEPCAPS)");
  const gid_t groups[] = {user.gid};
  if (::setgroups(1, groups) != 0) throw_errno("setgroups");
  if (::setresgid(user.gid, user.gid, user.gid) != 0) throw_errno("setresgid(" + std::to_string(user.gid) + ")");
  if (::setresuid(user.uid, user.uid, user.uid) != 0) throw_errno("setresuid(" + std::to_string(user.uid) + ")");

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective = CAP_TO_MASK(CAP_NET_ADMIN);
  data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted = CAP_TO_MASK(CAP_NET_ADMIN);
  if (::syscall(SYS_capset, &header, data) != 0) throw_errno("capset(CAP_NET_ADMIN)");
  if (::prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) throw_errno("prctl(PR_SET_KEEPCAPS, 0)");
  // Nothing this process might exec can gain privileges back (setuid binaries, file capabilities).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) throw_errno("prctl(PR_SET_NO_NEW_PRIVS)");

  if (user.uid != 0 && (::setuid(0) == 0 || ::seteuid(0) == 0)) {
    errno = EPERM;
    throw_errno("root could be regained after dropping it");
  }
}

}  // namespace ramfleet::cli
