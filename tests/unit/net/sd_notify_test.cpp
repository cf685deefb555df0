// The readiness protocol against real unix datagram sockets the test binds:
// a path and an abstract name, what arrives is exactly what was sent.
#include "net/sd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace ramfleet::net {
namespace {

// A bound SOCK_DGRAM socket; name "@x" binds the abstract name "x".
struct Receiver {
  int fd = -1;
  explicit Receiver(const std::string& name) {
    fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      len += 1;
    }
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Receiver() { ::close(fd); }
  std::string receive() const {
    char buf[512];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? std::string("<nothing>") : std::string(buf, static_cast<std::size_t>(n));
  }
};

TEST(SdNotify, SendsToAPathSocket) {
  auto path = std::filesystem::temp_directory_path() / ("sdn-" + std::to_string(::getpid()));
  std::filesystem::remove(path);
  Receiver r(path.string());
  EXPECT_EQ(sd_notify_to(path.string(), "READY=1"), std::nullopt);
  EXPECT_EQ(r.receive(), "READY=1");
  std::filesystem::remove(path);
}

TEST(SdNotify, SendsToAnAbstractSocketNamedWithAt) {
  const std::string name = "@ramfleet-sdn-test-" + std::to_string(::getpid());
  Receiver r(name);
  EXPECT_EQ(sd_notify_to(name, "STOPPING=1"), std::nullopt);
  EXPECT_EQ(r.receive(), "STOPPING=1");
}

TEST(SdNotify, ReadsTheEnvironmentAndIsANoOpWithoutIt) {
  const std::string name = "@ramfleet-sdn-env-" + std::to_string(::getpid());
  Receiver r(name);
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_TRUE(sd_notify("READY=1\nSTATUS=serving"));
  EXPECT_EQ(r.receive(), "READY=1\nSTATUS=serving");
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(sd_notify("READY=1"));
}

TEST(SdNotify, RefusesNamesThatAreNeitherPathNorAbstract) {
  EXPECT_NE(sd_notify_to("relative/sock", "READY=1"), std::nullopt);
  EXPECT_NE(sd_notify_to("", "READY=1"), std::nullopt);
  EXPECT_NE(sd_notify_to("/" + std::string(200, 'x'), "READY=1"), std::nullopt);
  // Nobody listens there: an error, not a crash or a hang.
  EXPECT_NE(sd_notify_to("@ramfleet-nobody-listens-here", "READY=1"), std::nullopt);
}

TEST(SdNotify, ReloadingCarriesAMonotonicTimestamp) {
  const auto m = reloading_message();
  EXPECT_EQ(m.rfind("RELOADING=1\nMONOTONIC_USEC=", 0), 0U) << m;
  EXPECT_GT(m.size(), std::string("RELOADING=1\nMONOTONIC_USEC=").size());
}

}  // namespace
}  // namespace ramfleet::net
