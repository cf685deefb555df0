#pragma once
// A newc ("070701") cpio archive parsed as a stream of bytes, in pieces of
// any size (sans-IO: no file is touched here). Each entry's header goes to
// the handler, then its data in pieces, then its end; nothing is held but
// the current header and name, so a file of any size streams through. The
// archive is untrusted: field syntax, name length, symlink target length and
// padding are checked, and bytes after the TRAILER!!! entry must be zero
// padding.
#include <cstdint>
#include <string>

#include "core/bytes.hpp"

namespace ramfleet::stage1 {

enum class CpioType { directory, regular, symlink, char_device, block_device, fifo, socket };

struct CpioEntry {
  std::string name;  // as in the archive ("usr/bin/sh"; checked by the sink)
  CpioType type = CpioType::regular;
  std::uint32_t permissions = 0;  // the 12 low mode bits
  std::uint32_t uid = 0, gid = 0;
  std::uint32_t mtime = 0;
  std::uint32_t size = 0;  // data bytes (a symlink's target)
  std::uint32_t rdev_major = 0, rdev_minor = 0;
};

class CpioHandler {
 public:
  virtual ~CpioHandler() = default;
  virtual void begin(const CpioEntry& entry) = 0;
  virtual void data(ByteView piece) = 0;  // `entry.size` bytes in all, in order
  virtual void end() = 0;
};

inline constexpr std::size_t cpio_max_name = 4096;  // PATH_MAX, with the NUL

class CpioStream {
 public:
  explicit CpioStream(CpioHandler& handler) : handler_(handler) {}

  // Throws std::runtime_error naming the offset and the problem.
  void feed(ByteView bytes);
  // Throws when the archive is incomplete (no trailer, or cut inside an entry).
  void finish() const;
  [[nodiscard]] bool trailer_seen() const { return state_ == State::after_trailer; }
  [[nodiscard]] std::uint64_t offset() const { return offset_; }

 private:
  enum class State { header, name, name_pad, data, data_pad, after_trailer };
  void parse_header();
  void start_data();
  [[noreturn]] void fail(const std::string& what) const;

  CpioHandler& handler_;
  State state_ = State::header;
  std::string header_;  // 110 bytes being collected
  std::string name_;
  std::uint32_t name_size_ = 0;
  std::uint64_t left_ = 0;  // bytes of the current field/padding still to come
  CpioEntry entry_;
  std::uint64_t offset_ = 0;  // bytes consumed so far
};

}  // namespace ramfleet::stage1
