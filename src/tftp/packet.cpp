#include "tftp/packet.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

namespace ramfleet::tftp {

namespace {

// Reads a NUL-terminated string; nullopt when the terminator is missing.
std::optional<std::string_view> read_cstring(ByteReader& reader) {
  ByteView rest = reader.rest();
  auto nul = std::find(rest.begin(), rest.end(), std::uint8_t{0});
  if (nul == rest.end()) return std::nullopt;
  auto length = static_cast<std::size_t>(nul - rest.begin());
  // Rewind: rest() consumed everything; rebuild a reader positioned after the NUL.
  reader = ByteReader(rest.subspan(length + 1));
  return as_text(rest.first(length));
}

std::optional<Mode> parse_mode(std::string_view text) {
  if (iequals(text, "octet")) return Mode::octet;
  if (iequals(text, "netascii")) return Mode::netascii;
  if (iequals(text, "mail")) return Mode::mail;
  return std::nullopt;
}

std::optional<ParseError> parse_options(ByteReader& reader, std::vector<Option>& options) {
  while (!reader.empty()) {
    // Some PXE ROMs pad requests with NULs: trailing zeros are padding, not an option.
    ByteView rest = reader.rest();
    if (std::all_of(rest.begin(), rest.end(), [](std::uint8_t b) { return b == 0; })) break;
    reader = ByteReader(rest);
    auto name = read_cstring(reader);
    if (!name) return ParseError{"option_unterminated"};
    auto value = read_cstring(reader);
    if (!value) return ParseError{"option_without_value"};
    if (name->empty()) return ParseError{"option_empty_name"};
    options.push_back(Option{std::string(*name), std::string(*value)});
  }
  return std::nullopt;
}

ParseResult parse_request(ByteReader& reader, bool write) {
  Request request;
  request.write = write;
  auto filename = read_cstring(reader);
  if (!filename) return ParseError{"request_filename_unterminated"};
  auto mode_text = read_cstring(reader);
  if (!mode_text) return ParseError{"request_mode_unterminated"};
  auto mode = parse_mode(*mode_text);
  if (!mode) return ParseError{"request_unknown_mode"};
  request.filename = std::string(*filename);
  request.mode = *mode;
  if (auto error = parse_options(reader, request.options)) return *error;
  return Packet{std::move(request)};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

ParseResult parse_packet(ByteView bytes) {
  ByteReader reader(bytes);
  auto opcode = reader.u16();
  if (!opcode) return ParseError{"truncated_opcode"};
  switch (static_cast<Opcode>(*opcode)) {
    case Opcode::rrq:
      return parse_request(reader, false);
    case Opcode::wrq:
      return parse_request(reader, true);
    case Opcode::data: {
      auto block = reader.u16();
      if (!block) return ParseError{"data_truncated"};
      return Packet{Data{*block, reader.rest()}};
    }
    case Opcode::ack: {
      auto block = reader.u16();
      if (!block) return ParseError{"ack_truncated"};
      // Some stacks pad short frames; trailing bytes after an ACK are ignored.
      return Packet{Ack{*block}};
    }
    case Opcode::error: {
      auto code = reader.u16();
      if (!code) return ParseError{"error_truncated"};
      // A missing terminator is tolerated: the message is informative only.
      ByteView rest = reader.rest();
      auto nul = std::find(rest.begin(), rest.end(), std::uint8_t{0});
      std::string message(as_text(rest.first(static_cast<std::size_t>(nul - rest.begin()))));
      return Packet{Error{static_cast<ErrorCode>(*code), std::move(message)}};
    }
    case Opcode::oack: {
      OptionAck oack;
      if (auto error = parse_options(reader, oack.options)) return *error;
      return Packet{std::move(oack)};
    }
  }
  return ParseError{"unknown_opcode"};
}

namespace {
void write_options(ByteWriter& w, const std::vector<Option>& options) {
  for (const auto& o : options) {
    w.text(o.name);
    w.u8(0);
    w.text(o.value);
    w.u8(0);
  }
}
}  // namespace

void encode_request(const Request& request, Bytes& out) {
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(request.write ? Opcode::wrq : Opcode::rrq));
  w.text(request.filename);
  w.u8(0);
  w.text(mode_name(request.mode));
  w.u8(0);
  write_options(w, request.options);
}

void encode_data(std::uint16_t block, ByteView payload, Bytes& out) {
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(Opcode::data));
  w.u16(block);
  w.bytes(payload);
}

void encode_ack(std::uint16_t block, Bytes& out) {
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(Opcode::ack));
  w.u16(block);
}

void encode_error(ErrorCode code, std::string_view message, Bytes& out) {
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(Opcode::error));
  w.u16(static_cast<std::uint16_t>(code));
  // A NUL inside the message would truncate it on the wire; cut it there.
  w.text(message.substr(0, message.find('\0')));
  w.u8(0);
}

void encode_oack(const std::vector<Option>& options, Bytes& out) {
  ByteWriter w(out);
  w.u16(static_cast<std::uint16_t>(Opcode::oack));
  write_options(w, options);
}

Bytes error_packet(ErrorCode code, std::string_view message) {
  Bytes out;
  encode_error(code, message, out);
  return out;
}

std::string_view mode_name(Mode mode) {
  switch (mode) {
    case Mode::octet:
      return "octet";
    case Mode::netascii:
      return "netascii";
    case Mode::mail:
      return "mail";
  }
  return "octet";
}

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_defined:
      return "not_defined";
    case ErrorCode::file_not_found:
      return "file_not_found";
    case ErrorCode::access_violation:
      return "access_violation";
    case ErrorCode::disk_full:
      return "disk_full";
    case ErrorCode::illegal_operation:
      return "illegal_operation";
    case ErrorCode::unknown_transfer_id:
      return "unknown_transfer_id";
    case ErrorCode::file_exists:
      return "file_exists";
    case ErrorCode::no_such_user:
      return "no_such_user";
    case ErrorCode::option_refused:
      return "option_refused";
  }
  return "unknown";
}

}  // namespace ramfleet::tftp
