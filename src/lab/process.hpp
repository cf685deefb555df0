#pragma once
// Child processes of the lab, and processes it finds again later by PID.
// A PID alone can be reused after a crash: every recorded process carries its
// start time (field 22 of /proc/PID/stat), and nothing is signalled unless
// both still match. Nothing is ever looked up or killed by name.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ramfleet::lab {

struct ProcessRef {
  pid_t pid = 0;
  unsigned long long start_time = 0;  // clock ticks since boot
  std::string what;                   // "serve", "qemu node1"
};

// Start time of `pid`, or nullopt if it does not exist (or is a zombie).
std::optional<unsigned long long> process_start_time(pid_t pid);

// True while `p` is the same process that was recorded.
bool still_running(const ProcessRef& p);

// Starts argv in a new session (Ctrl-C on the terminal does not reach it;
// the lab stops it itself), stdin /dev/null, stdout+stderr appended to `log`.
ProcessRef spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log, std::string what);

// SIGTERM, wait up to `grace`, then SIGKILL; returns once it is gone (or
// after a bounded wait). Reaps it if it is our child. False if it could not be stopped.
bool stop_process(const ProcessRef& p, std::chrono::milliseconds grace);

// For a child of ours: has it exited? (reaps it; sets *status to the exit code or 128+signal)
bool child_exited(pid_t pid, int* status);

struct CommandResult {
  int status = -1;     // exit code, 128+signal, or -1 when it could not start
  std::string output;  // stdout+stderr
};

// Runs argv to completion (bounded by `timeout`: killed after it).
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::seconds timeout = std::chrono::seconds{60});

}  // namespace ramfleet::lab
