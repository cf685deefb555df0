#pragma once
// Small text and time helpers the lab's steps share: files read whole, the
// tail of a log for an error message, seconds on a steady clock.
#include <chrono>
#include <filesystem>
#include <string>

namespace ramfleet::lab {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The whole file, or "" when it cannot be read.
std::string read_file(const std::filesystem::path& p);
// The last non-empty line (a script's result line).
std::string last_line(const std::string& s);
// The last `n` lines, with the newline before them.
std::string tail_lines(const std::string& text, int n);

}  // namespace ramfleet::lab
