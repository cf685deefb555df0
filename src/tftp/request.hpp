#pragma once
// What the server does with a datagram that reached its well-known port:
// accept a read request, or reject it (with an ERROR reply, or silently when
// replying would be wrong, e.g. to an ERROR). Every rejection is counted.
#include <optional>
#include <string>
#include <variant>

#include "core/bytes.hpp"
#include "core/counters.hpp"
#include "tftp/packet.hpp"

namespace ramfleet::tftp {

struct Rejection {
  std::optional<Bytes> reply;  // ERROR packet to send back, nullopt: drop silently
  std::string reason;          // for the log
};

using RequestDecision = std::variant<Request, Rejection>;

RequestDecision classify_request(ByteView datagram, Counters& counters);

}  // namespace ramfleet::tftp
