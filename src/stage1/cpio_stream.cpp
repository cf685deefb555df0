#include "stage1/cpio_stream.hpp"

#include <algorithm>
#include <stdexcept>

namespace ramfleet::stage1 {
namespace {

constexpr std::size_t header_size = 110;

std::uint32_t pad4(std::uint64_t n) { return static_cast<std::uint32_t>((4 - n % 4) % 4); }

bool hex_field(std::string_view s, std::uint32_t& out) {
  out = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'A' && c <= 'F')
      d = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return false;
    out = (out << 4) | static_cast<std::uint32_t>(d);
  }
  return true;
}

}  // namespace

void CpioStream::fail(const std::string& what) const {
  throw std::runtime_error("malformed cpio archive at byte " + std::to_string(offset_) + ": " + what);
}

void CpioStream::feed(ByteView bytes) {
  while (!bytes.empty()) {
    switch (state_) {
      case State::header: {
        auto n = std::min(bytes.size(), header_size - header_.size());
        header_.append(as_text(bytes.first(n)));
        bytes = bytes.subspan(n);
        offset_ += n;
        if (header_.size() == header_size) parse_header();
        break;
      }
      case State::name: {
        auto n = std::min<std::size_t>(bytes.size(), name_size_ - name_.size());
        name_.append(as_text(bytes.first(n)));
        bytes = bytes.subspan(n);
        offset_ += n;
        if (name_.size() == name_size_) {
          if (name_.back() != '\0') fail("entry name is not NUL-terminated");
          name_.pop_back();
          if (name_.find('\0') != std::string::npos) fail("entry name contains a NUL byte");
          state_ = State::name_pad;
          left_ = pad4(header_size + name_size_);
          if (left_ == 0) start_data();
        }
        break;
      }
      case State::name_pad:
      case State::data_pad: {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), left_));
        for (std::size_t i = 0; i < n; ++i)
          if (bytes[i] != 0) fail("non-zero padding");
        bytes = bytes.subspan(n);
        offset_ += n;
        left_ -= n;
        if (left_ == 0) {
          if (state_ == State::name_pad) {
            start_data();
          } else {
            state_ = State::header;
          }
        }
        break;
      }
      case State::data: {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(bytes.size(), left_));
        handler_.data(bytes.first(n));
        bytes = bytes.subspan(n);
        offset_ += n;
        left_ -= n;
        if (left_ == 0) {
          handler_.end();
          state_ = State::data_pad;
          left_ = pad4(entry_.size);
          if (left_ == 0) state_ = State::header;
        }
        break;
      }
      case State::after_trailer: {
        // Archivers pad the archive to a block size with zeros; anything else
        // after the trailer would be data nobody unpacks.
        for (auto b : bytes)
          if (b != 0) fail("data after the TRAILER!!! entry");
        offset_ += bytes.size();
        bytes = {};
        break;
      }
    }
  }
}

void CpioStream::parse_header() {
  std::string_view h(header_);
  if (h.substr(0, 6) != "070701") {
    if (h.substr(0, 6) == "070702") fail("newc with checksums (070702) is not supported");
    fail("not a newc cpio header (magic \"" + std::string(h.substr(0, 6)) + "\")");
  }
  std::uint32_t f[13];
  for (int i = 0; i < 13; ++i)
    if (!hex_field(h.substr(6 + 8 * static_cast<std::size_t>(i), 8), f[i])) fail("header field is not hex");
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  std::uint32_t mode = f[1];
  entry_ = CpioEntry{};
  entry_.permissions = mode & 07777;
  entry_.uid = f[2];
  entry_.gid = f[3];
  entry_.mtime = f[5];
  entry_.size = f[6];
  entry_.rdev_major = f[9];
  entry_.rdev_minor = f[10];
  name_size_ = f[11];
  if (name_size_ == 0 || name_size_ > cpio_max_name) fail("entry name size " + std::to_string(name_size_));
  switch (mode & 0170000) {
    case 0040000:
      entry_.type = CpioType::directory;
      break;
    case 0100000:
      entry_.type = CpioType::regular;
      break;
    case 0120000:
      entry_.type = CpioType::symlink;
      break;
    case 0020000:
      entry_.type = CpioType::char_device;
      break;
    case 0060000:
      entry_.type = CpioType::block_device;
      break;
    case 0010000:
      entry_.type = CpioType::fifo;
      break;
    case 0140000:
      entry_.type = CpioType::socket;
      break;
    default:
      if (mode != 0) fail("unknown file type in mode " + std::to_string(mode));
      entry_.type = CpioType::regular;  // the trailer's mode is 0
  }
  if (entry_.type == CpioType::symlink && (entry_.size == 0 || entry_.size >= cpio_max_name))
    fail("symlink target size " + std::to_string(entry_.size));
  if (entry_.type != CpioType::regular && entry_.type != CpioType::symlink && entry_.size != 0)
    fail("a directory, device or fifo with " + std::to_string(entry_.size) + " data bytes");
  header_.clear();
  name_.clear();
  state_ = State::name;
}

void CpioStream::start_data() {
  if (name_ == "TRAILER!!!") {
    state_ = State::after_trailer;
    return;
  }
  entry_.name = name_;
  handler_.begin(entry_);
  left_ = entry_.size;
  if (left_ == 0) {
    handler_.end();
    state_ = State::header;
  } else {
    state_ = State::data;
  }
}

void CpioStream::finish() const {
  if (state_ == State::after_trailer) return;
  if (state_ == State::header && header_.empty() && offset_ == 0) fail("empty archive");
  fail("archive ends without a TRAILER!!! entry (truncated)");
}

}  // namespace ramfleet::stage1
