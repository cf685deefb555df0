#pragma once
// The status line and header block of a reply, as bytes: the transport
// (net/http_server) writes this, then the body. Portable, no Beast needed.
#include <cstdint>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace ramfleet::http {

// "Not Found" for 404; "" for a code we never send.
std::string_view reason_phrase(int status);

// Whether a reply with this status carries a body (and so Content-Length).
bool status_has_body(int status);

// `length` is the body's Content-Length; `http_version` 10 or 11; `date` the
// Date header value (the caller caches it per second). `body_room`: bytes the
// caller appends after the head, so head and a text body are one allocation.
std::string serialize_head(const Reply& r, std::uint64_t length, bool keep_alive, unsigned http_version,
                           std::string_view date, std::size_t body_room = 0);

}  // namespace ramfleet::http
