#pragma once
// TFTP wire format (RFC 1350, options from RFC 2347): parsing and encoding of
// RRQ, WRQ, DATA, ACK, ERROR and OACK. Pure functions over bytes; a malformed
// packet is a ParseError with a reason, never an exception or an overread.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/bytes.hpp"

namespace ramfleet::tftp {

enum class Opcode : std::uint16_t { rrq = 1, wrq = 2, data = 3, ack = 4, error = 5, oack = 6 };

enum class ErrorCode : std::uint16_t {
  not_defined = 0,
  file_not_found = 1,
  access_violation = 2,
  disk_full = 3,
  illegal_operation = 4,
  unknown_transfer_id = 5,
  file_exists = 6,
  no_such_user = 7,
  option_refused = 8,  // RFC 2347
};

enum class Mode { octet, netascii, mail };

// One "name\0value\0" pair as sent; names compare case-insensitively (RFC 2347).
struct Option {
  std::string name;
  std::string value;
  bool operator==(const Option&) const = default;
};

struct Request {
  bool write = false;  // WRQ when true, RRQ otherwise
  std::string filename;
  Mode mode = Mode::octet;
  std::vector<Option> options;
};

struct Data {
  std::uint16_t block = 0;
  ByteView payload;  // points into the parsed buffer
};

struct Ack {
  std::uint16_t block = 0;
};

struct Error {
  ErrorCode code = ErrorCode::not_defined;
  std::string message;
};

struct OptionAck {
  std::vector<Option> options;
};

struct ParseError {
  std::string reason;  // short, stable: used as a counter suffix and in logs
};

using Packet = std::variant<Request, Data, Ack, Error, OptionAck>;
using ParseResult = std::variant<Packet, ParseError>;

ParseResult parse_packet(ByteView bytes);

// Encoders append to `out` (which callers may reuse to avoid allocations).
void encode_request(const Request& request, Bytes& out);
void encode_data(std::uint16_t block, ByteView payload, Bytes& out);
void encode_ack(std::uint16_t block, Bytes& out);
void encode_error(ErrorCode code, std::string_view message, Bytes& out);
void encode_oack(const std::vector<Option>& options, Bytes& out);

Bytes error_packet(ErrorCode code, std::string_view message);

std::string_view mode_name(Mode mode);
std::string_view error_code_name(ErrorCode code);
bool iequals(std::string_view a, std::string_view b);

// Size of the TFTP header of a DATA packet (opcode + block number).
inline constexpr std::size_t kDataHeaderSize = 4;

}  // namespace ramfleet::tftp
