#include "tftp/request.hpp"

namespace ramfleet::tftp {

namespace {
Rejection reject(ErrorCode code, std::string message) {
  return Rejection{error_packet(code, message), std::move(message)};
}
}  // namespace

RequestDecision classify_request(ByteView datagram, Counters& counters) {
  auto parsed = parse_packet(datagram);
  if (auto* error = std::get_if<ParseError>(&parsed)) {
    counters.inc("tftp.drop.malformed");
    counters.inc("tftp.drop.malformed." + error->reason);
    if (error->reason == "truncated_opcode") return Rejection{std::nullopt, "datagram too short"};
    if (error->reason == "unknown_opcode") {
      return reject(ErrorCode::illegal_operation, "unknown TFTP opcode");
    }
    if (error->reason == "request_unknown_mode") {
      return reject(ErrorCode::illegal_operation, "unknown transfer mode (use octet or netascii)");
    }
    return reject(ErrorCode::illegal_operation, "malformed request (" + error->reason + ")");
  }
  auto& packet = std::get<Packet>(parsed);
  if (std::holds_alternative<Error>(packet)) {
    // Never answer an error with an error: two confused peers would loop.
    counters.inc("tftp.drop.error_to_server_port");
    return Rejection{std::nullopt, "ERROR packet sent to the server port"};
  }
  auto* request = std::get_if<Request>(&packet);
  if (!request) {
    counters.inc("tftp.error.illegal_operation");
    return reject(ErrorCode::illegal_operation, "only read requests are accepted on this port");
  }
  if (request->write) {
    counters.inc("tftp.request.write_refused");
    return reject(ErrorCode::access_violation, "write requests are refused: this server is read-only");
  }
  if (request->mode == Mode::mail) {
    counters.inc("tftp.request.mail_refused");
    return reject(ErrorCode::illegal_operation, "mail mode is not supported");
  }
  counters.inc("tftp.request.read");
  return std::move(*request);
}

}  // namespace ramfleet::tftp
