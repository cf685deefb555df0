#pragma once
// Where a transfer's file bytes come from. The socket layer implements it with
// pread on an open descriptor; tests and the fuzzer use memory.
#include <cstdint>
#include <optional>
#include <span>

namespace ramfleet::tftp {

class FileReader {
 public:
  virtual ~FileReader() = default;
  // Reads up to out.size() bytes at offset. Returns the count, which is shorter
  // than out.size() only at end of file, or nullopt on an I/O error.
  virtual std::optional<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) = 0;
};

}  // namespace ramfleet::tftp
