#pragma once
// Shared helpers for the TFTP unit tests: an in-memory file and packet builders.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "tftp/file_reader.hpp"
#include "tftp/packet.hpp"

namespace ramfleet::tftp::testing {

class MemoryReader final : public FileReader {
 public:
  explicit MemoryReader(Bytes data) : data_(std::move(data)) {}
  std::optional<std::size_t> read_at(std::uint64_t offset, std::span<std::uint8_t> out) override {
    ++reads_;
    if (fail_from_ && offset >= *fail_from_) return std::nullopt;
    if (offset >= data_.size()) return 0;
    std::size_t n = std::min<std::size_t>(out.size(), data_.size() - offset);
    std::copy_n(data_.begin() + static_cast<std::ptrdiff_t>(offset), n, out.begin());
    return n;
  }
  void fail_from(std::uint64_t offset) { fail_from_ = offset; }
  [[nodiscard]] const Bytes& data() const { return data_; }
  [[nodiscard]] int reads() const { return reads_; }

 private:
  Bytes data_;
  std::optional<std::uint64_t> fail_from_;
  int reads_ = 0;
};

// Deterministic pseudo-random content, so block mix-ups show up as mismatches.
inline Bytes pattern(std::size_t size, std::uint32_t seed = 12345) {
  Bytes out(size);
  std::uint32_t x = seed;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::uint8_t>(x);
  }
  return out;
}

inline Request read_request(std::string name, std::vector<Option> options = {}, Mode mode = Mode::octet) {
  Request r;
  r.filename = std::move(name);
  r.mode = mode;
  r.options = std::move(options);
  return r;
}

inline Bytes ack(std::uint16_t block) {
  Bytes out;
  encode_ack(block, out);
  return out;
}

inline Bytes encoded(const Request& request) {
  Bytes out;
  encode_request(request, out);
  return out;
}

inline Packet parsed(ByteView bytes) {
  auto result = parse_packet(bytes);
  if (auto* p = std::get_if<Packet>(&result)) return *p;
  throw std::runtime_error("unparseable packet: " + std::get<ParseError>(result).reason);
}

}  // namespace ramfleet::tftp::testing
