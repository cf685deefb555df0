#pragma once
// A fresh directory per test under the system temp dir, removed afterwards.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace ramfleet::store::testing {

inline std::filesystem::path fresh_dir(const char* prefix) {
  auto dir = std::filesystem::temp_directory_path() / (std::string(prefix) + std::to_string(::getpid()) + "-" +
                                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  return dir;
}

// The permission bits of a file or directory (stat, not the std::filesystem view).
inline unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 0xffff;
  return st.st_mode & 07777;
}

}  // namespace ramfleet::store::testing
