#include "net/sd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "core/log.hpp"

namespace ramfleet::net {

std::optional<std::string> sd_notify_to(std::string_view socket_name, std::string_view state) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // sun_path need not be NUL-terminated for an abstract name; a path needs room for its NUL.
  if (socket_name.size() < 2 || socket_name.size() >= sizeof addr.sun_path)
    return "NOTIFY_SOCKET '" + std::string(socket_name) + "' is not a usable socket name";
  if (socket_name[0] != '/' && socket_name[0] != '@')
    return "NOTIFY_SOCKET '" + std::string(socket_name) + "' is neither a path nor an abstract name (@...)";
  std::memcpy(addr.sun_path, socket_name.data(), socket_name.size());
  if (socket_name[0] == '@') addr.sun_path[0] = '\0';  // Linux abstract namespace
  const auto len =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_name.size() + (socket_name[0] == '@' ? 0 : 1));
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  const ssize_t n =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return "send to " + std::string(socket_name) + ": " + std::strerror(err);
  if (static_cast<std::size_t>(n) != state.size()) return "short send to " + std::string(socket_name);
  return std::nullopt;
}

bool sd_notify(std::string_view state) {
  const char* name = std::getenv("NOTIFY_SOCKET");
  if (name == nullptr || *name == '\0') return false;
  if (auto err = sd_notify_to(name, state)) {
    static bool logged = false;  // a broken socket would otherwise log at every state change
    if (!logged) log::warn("sd_notify.failed", {{"error", *err}, {"state", std::string(state)}});
    logged = true;
    return false;
  }
  return true;
}

std::string reloading_message() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const long long usec = static_cast<long long>(ts.tv_sec) * 1000000LL + ts.tv_nsec / 1000;
  return "RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec);
}

}  // namespace ramfleet::net
