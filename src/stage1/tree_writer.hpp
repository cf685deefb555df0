#pragma once
// Creates the entries of a cpio stream under a directory: the file-system
// half of the root writer (CpioStream is the parsing half). Every name is
// resolved one component at a time with openat(O_NOFOLLOW) from the
// directory's own descriptor, so nothing is ever created outside it: absolute
// names, ".." and names that go through a symlink are refused, whatever the
// archive put there before. Regular files are written as their data arrives.
#include <cstdint>
#include <string>
#include <vector>

#include "stage1/cpio_stream.hpp"

namespace ramfleet::stage1 {

struct TreeWriterStats {
  std::uint64_t file_bytes = 0;
  std::uint64_t entries = 0;
};

class TreeWriter : public CpioHandler {
 public:
  // Throws std::runtime_error when `dir` cannot be opened as a directory.
  explicit TreeWriter(const std::string& dir);
  ~TreeWriter() override;
  TreeWriter(const TreeWriter&) = delete;
  TreeWriter& operator=(const TreeWriter&) = delete;

  void begin(const CpioEntry& entry) override;
  void data(ByteView piece) override;
  void end() override;
  // Sets the directories' modes and mtimes (writing into a directory changes
  // its mtime, and a read-only one would refuse a non-root writer, so this
  // waits until everything is in place).
  void finish();
  [[nodiscard]] const TreeWriterStats& stats() const { return stats_; }

 private:
  // Opens the parent directory of `name` (relative to root_fd_) and returns
  // it with the last component in `leaf`; -1 for the root itself.
  int open_parent(const std::string& name, std::string& leaf) const;
  void close_current();
  [[noreturn]] void fail(const std::string& what, int err = 0) const;

  int root_fd_ = -1;
  bool as_root_ = false;  // only root can set owners and make device nodes
  CpioEntry entry_;
  int parent_fd_ = -1;
  std::string leaf_;
  int file_fd_ = -1;  // the regular file being written
  std::string link_target_;
  struct DirTime {
    std::string name;
    std::uint32_t mtime;
    std::uint32_t permissions;
  };
  std::vector<DirTime> dir_times_;
  std::size_t dir_name_bytes_ = 0;
  static constexpr std::size_t max_dir_name_bytes = std::size_t{64} * 1024 * 1024;
  TreeWriterStats stats_;
};

}  // namespace ramfleet::stage1
