#include "lab/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <stdexcept>
#include <vector>

#include "lab/process.hpp"

namespace ramfleet::lab {
namespace {

void ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_command(argv, std::chrono::seconds{20});
  if (r.status != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("'" + cmd + "' failed: " + r.output);
  }
}

}  // namespace

void create_namespace(const std::string& ns) {
  ip({"netns", "add", ns});
  ip({"-n", ns, "link", "set", "lo", "up"});
}

void add_bridge(const std::string& ns, const std::string& bridge, const std::string& address_cidr) {
  ip({"-n", ns, "link", "add", bridge, "type", "bridge"});
  ip({"-n", ns, "addr", "add", address_cidr, "dev", bridge});
  ip({"-n", ns, "link", "set", bridge, "up"});
}

void add_tap(const std::string& ns, const std::string& tap, const std::string& bridge) {
  ip({"-n", ns, "tuntap", "add", "dev", tap, "mode", "tap"});
  ip({"-n", ns, "link", "set", tap, "master", bridge});
  ip({"-n", ns, "link", "set", tap, "up"});
}

bool namespace_exists(const std::string& ns) { return ::access(("/run/netns/" + ns).c_str(), F_OK) == 0; }

bool delete_namespace(const std::string& ns) {
  if (!namespace_exists(ns)) return true;
  run_command({"ip", "netns", "del", ns}, std::chrono::seconds{20});
  return !namespace_exists(ns);
}

int enter_namespace(const std::string& ns) {
  int original = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || original < 0) throw std::runtime_error("cannot open network namespace " + ns);
  int rc = ::setns(fd, CLONE_NEWNET);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot enter network namespace " + ns);
  return original;
}

void leave_namespace(int original_fd) {
  if (original_fd < 0) return;
  ::setns(original_fd, CLONE_NEWNET);
  ::close(original_fd);
}

}  // namespace ramfleet::lab
