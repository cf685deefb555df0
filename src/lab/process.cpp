#include "lab/process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ramfleet::lab {
namespace {

[[noreturn]] void exec_child(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execvp(args[0], args.data());
  ::_exit(127);
}

}  // namespace

std::optional<unsigned long long> process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // comm (field 2) may hold spaces and ')': fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  std::string state;
  rest >> state;  // field 3
  if (state == "Z" || state == "X") return std::nullopt;
  for (int i = 4; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  return std::stoull(field);
}

bool still_running(const ProcessRef& p) {
  if (p.pid <= 0) return false;
  auto st = process_start_time(p.pid);
  return st && *st == p.start_time;
}

ProcessRef spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log, std::string what) {
  int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open log " + log.string());
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid == 0) {
    ::setsid();
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    // Default signal dispositions for the child, whatever the lab installed.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    exec_child(argv);
  }
  ::close(fd);
  ProcessRef ref{pid, 0, std::move(what)};
  // The child exists from fork on; its start time is readable at once.
  for (int i = 0; i < 100; ++i) {
    if (auto st = process_start_time(pid)) {
      ref.start_time = *st;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ref;
}

bool child_exited(pid_t pid, int* status) {
  int st = 0;
  pid_t r = ::waitpid(pid, &st, WNOHANG);
  if (r == 0) return false;
  if (r < 0) {
    // Not our child (or already reaped): judge by /proc.
    if (process_start_time(pid)) return false;
    if (status) *status = -1;
    return true;
  }
  if (status) *status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

bool stop_process(const ProcessRef& p, std::chrono::milliseconds grace) {
  if (!still_running(p)) {
    ::waitpid(p.pid, nullptr, WNOHANG);
    return true;
  }
  ::kill(p.pid, SIGTERM);
  auto gone = [&] {
    ::waitpid(p.pid, nullptr, WNOHANG);  // reap if ours
    return !still_running(p);
  };
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (gone()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(p.pid, SIGKILL);
  for (int i = 0; i < 250; ++i) {  // 5 s
    if (gone()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  CommandResult result;
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return result;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    return result;
  }
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    exec_child(argv);
  }
  ::close(pipefd[1]);
  ::fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  int status = 0;
  bool done = false;
  while (!done) {
    ssize_t n;
    while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<std::size_t>(n));
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      done = true;
      while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<std::size_t>(n));
      result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    } else if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.status = 128 + SIGKILL;
      result.output += "\n(killed after " + std::to_string(timeout.count()) + " s)";
      done = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ::close(pipefd[0]);
  return result;
}

}  // namespace ramfleet::lab
