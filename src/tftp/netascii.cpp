#include "tftp/netascii.hpp"

namespace ramfleet::tftp {

namespace {
constexpr std::size_t kChunk = 16384;
}

std::optional<std::size_t> NetasciiEncoder::fill(std::span<std::uint8_t> out) {
  std::size_t written = 0;
  while (written < out.size()) {
    if (pending_) {
      out[written++] = *pending_;
      pending_.reset();
      continue;
    }
    if (input_pos_ == input_.size()) {
      if (eof_) break;
      input_.resize(kChunk);
      auto got = reader_.read_at(file_offset_, input_);
      if (!got) return std::nullopt;
      input_.resize(*got);
      input_pos_ = 0;
      file_offset_ += *got;
      if (*got < kChunk) eof_ = true;
      continue;
    }
    std::uint8_t byte = input_[input_pos_++];
    if (byte == '\n') {
      out[written++] = '\r';
      pending_ = '\n';
    } else if (byte == '\r') {
      out[written++] = '\r';
      pending_ = '\0';
    } else {
      out[written++] = byte;
    }
  }
  return written;
}

}  // namespace ramfleet::tftp
