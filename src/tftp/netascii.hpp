#pragma once
// RFC 1350/764 netascii for read requests: LF becomes CR LF and a bare CR
// becomes CR NUL. The encoder streams: a pair split across a block boundary
// carries its second byte into the next block.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tftp/file_reader.hpp"

namespace ramfleet::tftp {

class NetasciiEncoder {
 public:
  explicit NetasciiEncoder(FileReader& reader) : reader_(reader) {}

  // Fills out with encoded bytes; returns how many were written (fewer than
  // out.size() only at end of input) or nullopt on a read error.
  std::optional<std::size_t> fill(std::span<std::uint8_t> out);

 private:
  FileReader& reader_;
  std::vector<std::uint8_t> input_;
  std::size_t input_pos_ = 0;
  std::uint64_t file_offset_ = 0;
  std::optional<std::uint8_t> pending_;
  bool eof_ = false;
};

}  // namespace ramfleet::tftp
